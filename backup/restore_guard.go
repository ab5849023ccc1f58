package backup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dustin/go-humanize"
)

// SizeGuard refuses a restore too large for its target before anything is
// written: a file's logical size (keys plus values, which its trailer
// records) against a limit, and against the free space of the filesystem
// the database lives on. A flowg file shrinks records a thousandfold when
// they compress well, so its own size says nothing of what a restore
// writes. Both doors call it, with the same limits.
type SizeGuard struct {
	// MaxBytes is the largest logical size restored; 0 for no limit.
	MaxBytes uint64
	// Dir is the database directory restored into (it need not exist: its
	// nearest existing parent is asked for free space); "" skips the check.
	Dir string
	// Beside is what the restore writes on that disk on top of the
	// records: the copy of the database a merge rebuilt beside it makes.
	Beside uint64
	// freeBytes returns the free space of the filesystem holding dir
	// (statfs when nil); tests replace it.
	freeBytes func(dir string) (uint64, error)
}

// spaceMargin is what a restore needs beyond its logical size: Badger's
// tables and value log cost a little more than the records, a merge keeps
// the overwritten versions until compaction, and the filesystem must not
// end up full.
func spaceMargin(logical uint64) uint64 { return logical/10 + 64<<20 }

// Check refuses logical bytes over MaxBytes (ErrTooLarge) or over the free
// space of Dir with its margin (ErrNoSpace).
func (g SizeGuard) Check(logical uint64) error {
	if g.MaxBytes > 0 && logical > g.MaxBytes {
		return fmt.Errorf("%w: the backup holds %s of records (%d bytes), over this restore's limit of %s",
			ErrTooLarge, humanize.IBytes(logical), logical, humanize.IBytes(g.MaxBytes))
	}
	if g.Dir == "" {
		return nil
	}
	free := g.freeBytes
	if free == nil {
		free = statfsFree
	}
	avail, err := free(existingParent(g.Dir))
	if err != nil {
		return nil // unknown: the write itself will tell
	}
	if need := logical + spaceMargin(logical) + g.Beside; need > avail {
		return fmt.Errorf("%w: the backup holds %s of records, and restoring it needs about %s, but the disk of the database has %s free",
			ErrNoSpace, humanize.IBytes(logical), humanize.IBytes(need), humanize.IBytes(avail))
	}
	return nil
}

// CheckFile is Check on the logical size a flowg file's trailer records,
// read from the end of the file without reading the rest: a restore can be
// refused before its file is even verified. A file whose size cannot be
// read so (encrypted, a raw Badger stream, damaged) passes: Check on the
// verified Summary, and RestoreOptions.MaxBytes while it is read, hold it.
func (g SizeGuard) CheckFile(ctx context.Context, open Opener) error {
	logical, ok := TrailerBytes(ctx, open)
	if !ok {
		return nil
	}
	return g.Check(logical)
}

// CheckHead reads the head of the file open gives, as a restore will read
// it: decrypted with opts.Identities, a backup of opts.Database. A restore
// that checks its file only as it writes it asks this first, before its
// safety snapshot.
func CheckHead(ctx context.Context, open Opener, opts RestoreOptions) error {
	f, size, err := decrypting(open, opts.Identities)(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = NewReader(f, ReadOptions{Size: size, Database: opts.Database, Sequential: true})
	return err
}

// TrailerBytes reads the logical size from the trailer at the end of the
// file open gives, if it is a plain flowg file that can seek.
func TrailerBytes(ctx context.Context, open Opener) (uint64, bool) {
	f, size, err := open(ctx)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok || size < int64(headerFixedLen+trailerLen) {
		return 0, false
	}
	lead := make([]byte, len(magic))
	if _, err := io.ReadFull(rs, lead); err != nil || !IsFlowgFile(lead) {
		return 0, false
	}
	tail := make([]byte, trailerLen)
	if _, err := rs.Seek(size-int64(trailerLen), io.SeekStart); err != nil {
		return 0, false
	}
	if _, err := io.ReadFull(rs, tail); err != nil || tail[0] != kindTrailer || string(tail[trailerLen-len(endMarker):]) != endMarker {
		return 0, false
	}
	return binary.LittleEndian.Uint64(tail[9:]), true
}

// existingParent returns dir, or its nearest parent that exists.
func existingParent(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}
