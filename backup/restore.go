package backup

import (
	"context"

	"errors"
	"filippo.io/age"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4/pb"
)

// RestoreOptions tune MergeFile, BuildWipe and PlanFile.
type RestoreOptions struct {
	// Database is the database being restored; a flowg file of another one
	// is refused with ErrWrongDatabase.
	Database string
	// TmpDir holds the staging copy of a raw Badger stream (os.TempDir() when empty).
	TmpDir string
	// Progress, when set, is called as records are written.
	Progress func(keys, bytes uint64)
	// Added, when set, is called during a merge for each key the target did
	// not hold before (restore uses it to warn about revived users and tokens).
	// key is valid during the call only: a merge rebuilt beside its database
	// reuses its bytes for the next record (copy it to keep it).
	Added func(key []byte)
	// Now decides which records have expired; time.Now when nil.
	Now func() time.Time
	// Identities decrypt an age-encrypted file.
	Identities []age.Identity
	// Source names the file or set restored, as the caller shows it: a
	// merge's marker (see FindIncomplete) records it.
	Source string
	// MaxBytes, when not 0, refuses with ErrTooLarge a file whose records
	// add up to more logical bytes, as it is read, before the database
	// changes (see SizeGuard, which refuses most such files sooner).
	MaxBytes uint64
	// Exclusive says nothing else reads or writes the database while it is
	// restored (an offline restore). A merge then loads every record at one
	// reserved commit timestamp through Badger's KVLoader, faster than
	// transactions; a served database needs the transactions, so that its
	// readers and backups see each batch whole, or not at all.
	Exclusive bool
}

func (o RestoreOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Result reports what a restore did.
type Result struct {
	Header   Header   `json:"header"`
	File     Summary  `json:"file"`
	Written  uint64   `json:"written"`
	Expired  uint64   `json:"expired_skipped"`
	Added    uint64   `json:"added"`
	Warnings []string `json:"warnings,omitempty"`
	// SetAside is where a wipe restore moved the previous database ("" if none).
	SetAside string        `json:"set_aside,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// RawWarning is the warning given for every raw Badger stream.
const RawWarning = "this is a raw Badger backup: it carries no checksum, so damage inside it cannot be detected"

// Opener opens a backup file for one pass of reading and returns its size
// (0 if unknown). Restores call it more than once: a merge reads the file
// whole to check it, then again to apply it.
type Opener func(ctx context.Context) (io.ReadCloser, int64, error)

// FileOpener opens the file at path.
func FileOpener(path string) Opener {
	return func(context.Context) (io.ReadCloser, int64, error) { return openFile(path) }
}

// checked is a backup file that was read whole and found good. For a raw
// Badger stream it is the flowg file it was converted to.
type checked struct {
	open     Opener
	header   Header
	summary  Summary
	warnings []string
	cleanup  func()
}

// check reads the file to its end before anything is restored from it. It
// writes nothing outside opts.TmpDir.
func check(ctx context.Context, open Opener, opts RestoreOptions) (*checked, error) {
	open = decrypting(open, opts.Identities)
	f, size, err := open(ctx)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Records are only checked here, never kept: one set of buffers will do,
	// except for a raw stream, whose records go into a scratch database.
	r, err := NewReader(f, ReadOptions{Size: size, Database: opts.Database, ReuseBuffers: true, MaxBytes: opts.MaxBytes})
	if err != nil {
		return nil, err
	}
	if r.Header().Raw {
		r.reuse = false
	}
	c := &checked{open: open, header: r.Header(), cleanup: func() {}}
	if !r.Header().Raw {
		if err := drain(ctx, r); err != nil {
			return nil, err
		}
		c.summary = r.Summary()
		return c, nil
	}
	converted, err := convertRaw(ctx, r, opts.Database, opts.TmpDir)
	if err != nil {
		return nil, err
	}
	c.summary = r.Summary()
	c.open = FileOpener(converted)
	c.warnings = append(c.warnings, RawWarning)
	c.cleanup = func() { os.Remove(converted) }
	return c, nil
}

// each calls fn with every record of the checked file, in file order.
func (c *checked) each(ctx context.Context, fn func(*pb.KV) error) error {
	return c.read(ctx, ReadOptions{}, fn)
}

// eachReused is each for an fn that is done with a record when it
// returns: the records' buffers are reused, and frames decoded one at a
// time, as a bulk load reads them.
func (c *checked) eachReused(ctx context.Context, fn func(*pb.KV) error) error {
	return c.read(ctx, ReadOptions{ReuseBuffers: true}, fn)
}

func (c *checked) read(ctx context.Context, opts ReadOptions, fn func(*pb.KV) error) error {
	f, size, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	opts.Size = size
	r, err := NewReader(f, opts)
	if err != nil {
		return fmt.Errorf("reread backup: %w", err)
	}
	return eachRecord(ctx, r, fn, func(err error) error { return fmt.Errorf("reread backup (did the file change?): %w", err) })
}

// readerEach reads r's records to its end, for a caller of a checked
// file's each.
func readerEach(r *Reader) func(ctx context.Context, fn func(*pb.KV) error) error {
	return func(ctx context.Context, fn func(*pb.KV) error) error {
		return eachRecord(ctx, r, fn, func(err error) error { return err })
	}
}

// eachRecord calls fn with every record r reads, to the end of the file;
// readErr words the reader's own errors.
func eachRecord(ctx context.Context, r *Reader, fn func(*pb.KV) error, readErr func(error) error) error {
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readErr(err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
	}
}

// expired reports whether a record's TTL has run out at now.
func expired(kv *pb.KV, now time.Time) bool {
	return kv.ExpiresAt != 0 && kv.ExpiresAt <= uint64(now.Unix())
}
