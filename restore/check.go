package restore

import (
	"context"
	"fmt"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Checking every file before the first database changes, so a bad log.db
// never leaves auth restored and logs not.

// checkedFiles are the sources read whole and found good, in order. A
// wipe of a single database, whose build checks its file as it reads it
// before the swap, is not read twice (nil); nor is the offline merge of a
// single database, rebuilt beside it, which checks its file the same way
// (it is read whole first only when it is merged in place after all).
type checkedFiles struct {
	prepared []*backup.Prepared
	results  []Result
	sizes    []fileSize // as each file's trailer says
	revived  Revived
	r        *Restore
}

// fileSize is a file's logical size, if its trailer could be read without
// reading the file (a plain flowg file that can seek).
type fileSize struct {
	bytes uint64
	known bool
}

func (c *checkedFiles) close() {
	for _, p := range c.prepared {
		if p != nil {
			p.Close()
		}
	}
}

// checkAll applies the size guard to every source and reads each whole
// (checksums, trailer, database name, and the SHA-256 its set records),
// but for a single database whose build reads its file once (a wipe, an
// offline merge), which checks what it can beforehand. Nothing is written
// outside TmpDir.
func (r *Restore) checkAll(ctx context.Context, sources Sources) (*checkedFiles, error) {
	c := &checkedFiles{revived: Revived{}, r: r}
	readTwice := len(sources) > 1 || r.t.Traits().WipeSnapshots || (!r.req.Wipe && !r.t.Traits().Exclusive)
	for i, src := range sources {
		if r.movesIntoPlace(src, !kv.Exists(r.t.Dir(src.Database))) {
			// Read whole and checked as it was rebuilt; moved into place.
			c.prepared = append(c.prepared, nil)
			c.results = append(c.results, r.result(src))
			c.sizes = append(c.sizes, fileSize{})
			continue
		}
		// A file's trailer gives its logical size without reading it: too
		// large a file is refused before it is read.
		size := fileSize{}
		size.bytes, size.known = backup.TrailerBytes(ctx, src.Open)
		if size.known {
			guard := backup.SizeGuard{MaxBytes: r.opts.MaxBytes, Dir: r.t.Dir(src.Database)}
			if err := guard.Check(size.bytes); err != nil {
				return c, checkFailure(src, err)
			}
		}
		c.prepared = append(c.prepared, nil)
		c.results = append(c.results, r.result(src))
		c.sizes = append(c.sizes, size)
		switch {
		case readTwice:
			if _, err := c.prepare(ctx, i, src); err != nil {
				return c, err
			}
		case !r.req.Wipe:
			// A merge read once by its build is checked as far as it can be
			// without reading it before its safety snapshot is taken: a
			// file with no trailer (damaged, raw, encrypted) is read whole
			// now, and the head of one with a trailer must open with the
			// keys given and name this database.
			if !size.known {
				if _, err := c.prepare(ctx, i, src); err != nil {
					return c, err
				}
			} else if err := backup.CheckHead(ctx, src.Open, r.checkOptions(src, c.revived)); err != nil {
				return c, checkFailure(src, err)
			}
		}
	}
	return c, nil
}

// prepare returns the i-th source read whole and checked, reading it now
// if checkAll left it to its build (which can turn out not to be one: a
// directory that cannot be swapped, a file whose size its trailer does
// not say). Its errors are *Failure at StepCheck.
func (c *checkedFiles) prepare(ctx context.Context, i int, src Source) (*backup.Prepared, error) {
	if c.prepared[i] != nil {
		return c.prepared[i], nil
	}
	p, err := backup.Prepare(ctx, src.Open, c.r.checkOptions(src, c.revived))
	if err != nil {
		return nil, checkFailure(src, err)
	}
	sum := p.Summary()
	if src.SHA256 != "" && sum.SHA256 != "" && sum.SHA256 != src.SHA256 {
		p.Close()
		return nil, checkFailure(src, fmt.Errorf("%w: %s: its SHA-256 differs from the one the set's manifest records", backup.ErrChecksum, src.FileName))
	}
	guard := backup.SizeGuard{MaxBytes: c.r.opts.MaxBytes, Dir: c.r.t.Dir(src.Database)}
	if err := guard.Check(sum.Bytes); err != nil {
		p.Close()
		return nil, checkFailure(src, err)
	}
	describeFile(&c.results[i], p.Header(), sum)
	c.prepared[i] = p
	return p, nil
}

// logicalBytes is the i-th source's logical size: its trailer's when it
// can be read without reading the file, else what reading it whole found.
func (c *checkedFiles) logicalBytes(ctx context.Context, i int, src Source) (uint64, error) {
	if p := c.prepared[i]; p != nil {
		return p.Summary().Bytes, nil
	}
	if size := c.sizes[i]; size.known {
		return size.bytes, nil
	}
	p, err := c.prepare(ctx, i, src)
	if err != nil {
		return 0, err
	}
	return p.Summary().Bytes, nil
}

func checkFailure(src Source, err error) error {
	return &Failure{Step: StepCheck, Database: src.Database, Source: src.Shown, Set: src.Set, Err: err}
}

// checkOptions are the options src is read whole with before a restore.
func (r *Restore) checkOptions(src Source, revived Revived) backup.RestoreOptions {
	opts := r.restoreOptions(src)
	if !r.req.Wipe && src.Database != kv.Logs {
		// Telling added keys from overwritten ones takes a lookup per key,
		// which for a large logs database costs more than the merge
		// itself: only auth (revived users and tokens) and config are
		// counted.
		opts.Added = func([]byte) {}
		if src.Database == kv.Auth {
			opts.Added = revived.Add
		}
	}
	return opts
}
