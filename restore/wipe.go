package restore

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
)

// A wipe, one database after the other: under the target's exclusive
// hold, the safety snapshot (on a server), the new database built in a
// sibling staging directory from the file (checked as it is read, kept
// only if it held to its end marker), the streams the backup left out
// copied over, then the crash-safe swap; the merge marker of an earlier
// merge is cleared, and the previous directory kept or deleted.

// wipeAll wipes and restores each database in turn.
func (r *Restore) wipeAll(ctx context.Context, sources Sources, checked *checkedFiles, out Outcome) (Outcome, error) {
	for i, src := range sources {
		res, err := r.wipeOne(ctx, src, checked.results[i])
		if res.SetAside != "" {
			out.Asides = append(out.Asides, Aside{Database: src.Database, Dir: r.t.Dir(src.Database), Previous: res.SetAside})
		}
		if err != nil {
			f := err.(*Failure)
			f.Done, f.SetAside = out.Results, res.SetAside
			f.Undo = r.t.Undo(undoOf(append(out.Results, res), r.t))
			out.Undo = f.Undo
			return out, f
		}
		out.Results = append(out.Results, res)
	}
	out.Undo = r.t.Undo(undoOf(out.Results, r.t))
	return out, nil
}

// wipeOne replaces src's database by the backup.
func (r *Restore) wipeOne(ctx context.Context, src Source, res Result) (Result, error) {
	fail := func(step Step, err error) error {
		return &Failure{Step: step, Database: src.Database, Source: src.Shown, Set: src.Set, Err: err}
	}
	dir := r.t.Dir(src.Database)
	update, done := r.progress(src.Database, 0)
	opts := r.restoreOptions(src)
	opts.Progress, opts.Exclusive = update, false
	step := StepOpen
	var built backup.Result
	aside, err := r.t.Wipe(ctx, src.Database, func(ctx context.Context, current *badger.DB, staged string) error {
		step = StepSnapshot
		if current != nil && r.t.Traits().WipeSnapshots {
			id, err := r.snapshot(ctx, src.Database, current)
			if err != nil {
				return err.(*Failure).Err
			}
			res.SafetySnapshot = id
			if id != "" {
				res.SafetySnapshotDir = r.t.SetLocation(id)
			}
		}
		step = StepWrite
		var err error
		if built, err = r.buildStaged(ctx, staged, src, false, opts, &res); err != nil {
			return err
		}
		if len(src.KeepStreams) > 0 {
			note, err := keepStreams(current, dir, staged, src.KeepStreams)
			if err != nil {
				os.RemoveAll(staged)
				return err
			}
			built.Warnings = append(built.Warnings, note)
		}
		step = StepSwap
		return nil
	})
	done()
	res.Written, res.ExpiredSkipped, res.SetAside = built.Written, built.Expired, aside
	res.Duration = built.Duration.Round(time.Millisecond).String()
	res.Warnings = append(res.Warnings, built.Warnings...)
	if res.File.Keys == 0 && res.File.SHA256 == "" {
		describeFile(&res, built.Header, built.File)
	}
	if err != nil {
		res.Undo = r.undoOf(res)
		return res, fail(step, err)
	}
	// The database was replaced whole: no part of an earlier merge is left.
	if err := backup.ClearIncomplete(dir); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the marker of an earlier merge, %s, could not be removed: %v", backup.MarkerPath(dir), err))
	}
	r.discardPrevious(&res)
	res.Undo = r.undoOf(res)
	return res, nil
}

// discardPrevious deletes the previous directory of a wipe when the
// request says so, or when a safety snapshot holds the database anyway:
// one safety copy per restore, which repeated restores would pile up
// otherwise.
func (r *Restore) discardPrevious(res *Result) {
	if res.SetAside == "" || (!r.req.DiscardPrevious && res.SafetySnapshot == "") {
		return
	}
	if err := os.RemoveAll(res.SetAside); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the previous database directory %s could not be deleted: %v", res.SetAside, err))
		return
	}
	if r.req.DiscardPrevious {
		res.Warnings = append(res.Warnings, "the previous database directory was deleted (discard previous)")
	}
	res.SetAside = ""
}

// keepStreams copies the streams the backup left out from the current
// database (a server's, held exclusively) or its closed directory
// (offline) into staged.
func keepStreams(current *badger.DB, dir, staged string, patterns []string) (string, error) {
	if current != nil {
		return backup.KeepStreamsFrom(current, staged, patterns)
	}
	return backup.KeepStreamsDir(dir, staged, patterns)
}
