package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
)

// A dry run: each file checked whole, with the same limits as a restore,
// and compared with its database (backup.PlanFrom). Nothing is written: no
// safety snapshot, no merge, no wipe.

func (r *Restore) dryRun(ctx context.Context, sources Sources) (Outcome, error) {
	var out Outcome
	for _, src := range sources {
		start := time.Now()
		res := r.result(src)
		res.DryRun = true
		fail := func(err error) error {
			return &Failure{Step: StepCheck, Database: src.Database, Source: src.Shown, Set: src.Set, Err: err}
		}
		guard := backup.SizeGuard{MaxBytes: r.opts.MaxBytes, Dir: r.t.Dir(src.Database)}
		if err := guard.CheckFile(ctx, src.Open); err != nil {
			return out, fail(err)
		}
		var plan backup.Plan
		err := r.t.View(ctx, src.Database, func(db *badger.DB) error {
			var err error
			opts := r.restoreOptions(src)
			opts.Exclusive = false
			if plan, err = backup.PlanFrom(ctx, db, src.Open, opts); err != nil || src.Instant == nil || r.req.Wipe {
				return err
			}
			// A merge to an instant also deletes the keys deleted between
			// its base set and the instant, when the database holds them.
			plan.RemovedByMerge, err = countHeld(db, src.Deleted)
			return err
		})
		if err == nil && src.SHA256 != "" && plan.File.SHA256 != "" && plan.File.SHA256 != src.SHA256 {
			err = fmt.Errorf("%w: %s: its SHA-256 differs from the one the set's manifest records", backup.ErrChecksum, src.FileName)
		}
		if err == nil {
			err = guard.Check(plan.File.Bytes)
		}
		var held *Failure
		if errors.As(err, &held) {
			return out, held
		}
		if err != nil {
			return out, fail(err)
		}
		describeFile(&res, plan.Header, plan.File)
		res.Warnings = append(res.Warnings, plan.Warn...)
		res.Plan = &plan
		res.Duration = time.Since(start).Round(time.Millisecond).String()
		out.Results = append(out.Results, res)
	}
	return out, nil
}

// countHeld counts the keys db holds (0 for no database).
func countHeld(db *badger.DB, keys [][]byte) (uint64, error) {
	if db == nil {
		return 0, nil
	}
	var n uint64
	err := db.View(func(txn *badger.Txn) error {
		for _, k := range keys {
			_, err := txn.Get(k)
			switch {
			case err == nil:
				n++
			case !errors.Is(err, badger.ErrKeyNotFound):
				return err
			}
		}
		return nil
	})
	return n, err
}
