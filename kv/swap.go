package kv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SwapDir puts the database in staged at target, crash-safely, and returns
// where the previous database was kept ("" when target held none). The old
// database is moved to aside, never deleted.
//
// On Linux, where the file system supports it, the two directories are
// exchanged in one atomic rename (RENAME_EXCHANGE), so at every instant
// target holds either the old or the new database, whole. Elsewhere
// (renameSwap) target is first renamed to aside and staged then renamed to
// target, under a marker file that lets the next open undo a swap a crash
// cut between the two renames (RecoverSwap). The parent directory is fsynced
// before SwapDir returns. A swap that fails before staged is in place
// removes staged: target is as it was, and nothing is left beside it.
func SwapDir(target, staged, aside string) (string, error) {
	kept, err := swapDir(target, staged, aside)
	if err != nil && kept == "" {
		os.RemoveAll(staged) // never put in place: target is as it was
	}
	return kept, err
}

func swapDir(target, staged, aside string) (string, error) {
	target = filepath.Clean(target) // "db/" would make db its own parent
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("swap in restored database: %w", err)
	}
	if err := RecoverSwap(target); err != nil {
		return "", err
	}
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(staged, target); err != nil {
			return "", fmt.Errorf("swap in restored database: %w", err)
		}
		return "", SyncDir(parent)
	}
	if forceRenameSwap {
		return renameSwap(target, staged, aside)
	}
	// An empty target (one LockDir made to hold the place) is exchanged
	// too: removing it first would let another process take the path.
	err := exchangeDirs(staged, target)
	if errors.Is(err, errNoExchange) {
		return renameSwap(target, staged, aside)
	}
	if err != nil {
		return "", fmt.Errorf("swap in restored database: %w", err)
	}
	if err := SyncDir(parent); err != nil {
		return staged, err // exchanged: the previous database is at staged
	}
	if removeIfEmptyDir(staged) {
		return "", SyncDir(parent)
	}
	if err := os.Rename(staged, aside); err != nil {
		return staged, fmt.Errorf("set aside previous database (it is at %s): %w", staged, err)
	}
	return aside, SyncDir(parent)
}

// forceRenameSwap makes SwapDir use the fallback of systems without an
// atomic exchange (renameSwap) on Linux too; tests set it, and so does a
// binary built with the tag flowg_swapfallback.
var forceRenameSwap = false

// errNoExchange is returned by exchangeDirs where the system or the file
// system cannot exchange two directories atomically.
var errNoExchange = errors.New("atomic exchange of directories not supported")

// ErrMountPoint is returned by CheckSwappable for a directory that is a
// mount point, which SwapDir cannot move.
var ErrMountPoint = errors.New("is a mount point, which a swap of directories cannot move")

// CheckSwappable returns ErrMountPoint when dir is a mount point, so that a
// restore refuses before it builds a database that SwapDir could not put at
// dir. A missing dir, a plain directory and a symbolic link (the swap moves
// the link, not what it points to) are swappable.
func CheckSwappable(dir string) error {
	if IsMountPoint(dir) {
		return fmt.Errorf("%s %w", dir, ErrMountPoint)
	}
	return nil
}

// removeIfEmptyDir removes dir if it is an empty directory and reports
// whether dir is now absent.
func removeIfEmptyDir(dir string) bool {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return true
	}
	return isEmptyDir(dir) && os.Remove(dir) == nil
}

// isEmptyDir reports whether dir is a directory holding nothing.
func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// SyncDir fsyncs a directory so that renames and creations in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// SiblingName returns a path beside dir that does not exist yet, for a
// staging or set-aside directory: dir.<what>-<UTC time>, with a counter
// appended when two restores fall in the same second.
func SiblingName(dir, what string, t time.Time) string {
	base := fmt.Sprintf("%s.%s-%s", filepath.Clean(dir), what, t.UTC().Format("20060102T150405Z"))
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}
