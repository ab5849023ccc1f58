package restore

import (
	"context"
	"fmt"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Checking every file before the first database changes, so a bad log.db
// never leaves auth restored and logs not.

// checkedFiles are the sources read whole and found good, in order; a
// wipe of a single database, whose build checks its file whole before the
// swap, is not read twice (nil).
type checkedFiles struct {
	prepared []*backup.Prepared
	results  []Result
	revived  Revived
}

func (c *checkedFiles) close() {
	for _, p := range c.prepared {
		if p != nil {
			p.Close()
		}
	}
}

// checkAll applies the size guard to every source and reads each whole:
// checksums, trailer, database name, and the SHA-256 its set records.
// Nothing is written outside TmpDir.
func (r *Restore) checkAll(ctx context.Context, sources Sources) (*checkedFiles, error) {
	c := &checkedFiles{revived: Revived{}}
	readTwice := !r.req.Wipe || len(sources) > 1 || r.t.Traits().WipeSnapshots
	for _, src := range sources {
		fail := func(err error) error {
			return &Failure{Step: StepCheck, Database: src.Database, Source: src.Shown, Set: src.Set, Err: err}
		}
		if r.movesIntoPlace(src, !kv.Exists(r.t.Dir(src.Database))) {
			// Read whole and checked as it was rebuilt; moved into place.
			c.prepared = append(c.prepared, nil)
			c.results = append(c.results, r.result(src))
			continue
		}
		guard := backup.SizeGuard{MaxBytes: r.opts.MaxBytes, Dir: r.t.Dir(src.Database)}
		if err := guard.CheckFile(ctx, src.Open); err != nil {
			return c, fail(err)
		}
		res := r.result(src)
		var p *backup.Prepared
		if readTwice {
			var err error
			if p, err = backup.Prepare(ctx, src.Open, r.checkOptions(src, c.revived)); err != nil {
				return c, fail(err)
			}
			c.prepared = append(c.prepared, p)
			sum := p.Summary()
			if src.SHA256 != "" && sum.SHA256 != "" && sum.SHA256 != src.SHA256 {
				return c, fail(fmt.Errorf("%w: %s: its SHA-256 differs from the one the set's manifest records", backup.ErrChecksum, src.FileName))
			}
			if err := guard.Check(sum.Bytes); err != nil {
				return c, fail(err)
			}
			describeFile(&res, p.Header(), sum)
		} else {
			c.prepared = append(c.prepared, nil)
		}
		c.results = append(c.results, res)
	}
	return c, nil
}

// prepare returns the i-th source read whole, reading it now if checkAll
// left it to be moved into place (a directory found holding no database
// that cannot be loaded in bulk after all: a link, a mount point).
func (c *checkedFiles) prepare(ctx context.Context, i int, src Source, opts backup.RestoreOptions) (*backup.Prepared, error) {
	if c.prepared[i] != nil {
		return c.prepared[i], nil
	}
	p, err := backup.Prepare(ctx, src.Open, opts)
	if err != nil {
		return nil, err
	}
	c.prepared[i] = p
	return p, nil
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
