package kv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// renameSwap is SwapDir where directories cannot be exchanged atomically
// (every system but Linux, and Linux file systems without RENAME_EXCHANGE).
// It takes two renames, target to aside and staged to target, and between
// them target does not exist. A marker file, <target>.swap, naming aside, is
// made durable and locked first and removed last, so that a crash between
// the renames is undone by the next RecoverSwap: aside is put back at target.
// A failure of the second rename puts aside back at once. An empty target
// is set aside and removed, and then renameSwap returns "".
func renameSwap(target, staged, aside string) (string, error) {
	parent := filepath.Dir(target)
	marker, err := beginSwap(target, aside)
	if err != nil {
		return "", err
	}
	defer marker.Close() // on a panic as on a crash, the marker stays
	if err := os.Rename(target, aside); err != nil {
		endSwap(marker)
		return "", fmt.Errorf("set aside previous database: %w", err)
	}
	afterSetAside(target)
	if err := os.Rename(staged, target); err != nil {
		if undo := os.Rename(aside, target); undo != nil {
			return aside, fmt.Errorf("swap in restored database (previous one is at %s, and %s names it for the next open): %w",
				aside, marker.Name(), err)
		}
		endSwap(marker)
		return "", fmt.Errorf("swap in restored database: %w", err)
	}
	if err := endSwap(marker); err != nil {
		return aside, err
	}
	if removeIfEmptyDir(aside) {
		return "", SyncDir(parent)
	}
	return aside, SyncDir(parent)
}

// afterSetAside runs between the two renames of renameSwap; tests use it to
// stop a swap there as a crash would.
var afterSetAside = func(target string) {}

// swapMarker is the marker file of a renameSwap of target.
func swapMarker(target string) string { return filepath.Clean(target) + ".swap" }

// beginSwap creates the marker of a swap of target naming aside, locked,
// synced, with its parent directory synced. swapDir has undone any earlier
// interrupted swap of target (RecoverSwap), so none is left.
func beginSwap(target, aside string) (*os.File, error) {
	f, err := os.OpenFile(swapMarker(target), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("begin swap of %s: %w", target, err)
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("begin swap of %s: %w", target, err)
	}
	if err := lockFile(f, true); err != nil {
		return fail(err)
	}
	if _, err := f.WriteString(filepath.Base(aside) + "\n"); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := SyncDir(filepath.Dir(target)); err != nil {
		return fail(err)
	}
	return f, nil
}

// endSwap closes and removes a marker (closed first: Windows removes no
// open file) and makes the removal durable.
func endSwap(marker *os.File) error {
	marker.Close()
	if err := os.Remove(marker.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("end swap: %w", err)
	}
	return SyncDir(filepath.Dir(marker.Name()))
}

// RecoverSwap undoes a swap of target that a crash cut between its two
// renames (see renameSwap): when the marker <target>.swap is left and target
// is missing, the previous database is renamed back from the set-aside name
// the marker holds; the restored one stays at its staging name, as a leftover
// of the interrupted restore. A marker left after both renames (target
// exists) is only removed. Without a marker RecoverSwap does nothing, so Open
// and LockDir call it every time. A swap still running in another process
// (its marker locked) is ErrLocked.
func RecoverSwap(target string) error {
	target = filepath.Clean(target)
	f, err := os.OpenFile(swapMarker(target), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover swap of %s: %w", target, err)
	}
	defer f.Close()
	if err := lockFile(f, true); err != nil {
		return lockError(target, err)
	}
	// The swap that made the marker we opened may have ended, and another
	// begun with a new marker, before the lock was ours.
	held, err1 := f.Stat()
	now, err2 := os.Stat(f.Name())
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		return nil
	}
	body, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("recover swap of %s: %w", target, err)
	}
	aside := strings.TrimSpace(string(body))
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) && aside != "" {
		from := filepath.Join(filepath.Dir(target), aside)
		if err := os.Rename(from, target); err != nil {
			return fmt.Errorf("recover swap of %s: put the previous database back from %s: %w", target, from, err)
		}
	}
	return endSwap(f)
}
