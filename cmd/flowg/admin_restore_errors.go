package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// How `flowg admin restore` words a restore that was refused or stopped:
// what happened, what is safe (from the step it stopped at) and what to do
// next.

const unchanged = "nothing was written; every database is unchanged"

// restoreError words err, returned by restore.Admit or Restore.Run.
func restoreError(c *cli.Context, dirs kv.Dirs, err error) error {
	var refused *restore.Unprotected
	if errors.As(err, &refused) {
		return opError{op: "restore", safe: "nothing was written",
			err:  fmt.Errorf("%w (--catalog-dir %s)", err, c.String("catalog-dir")),
			next: "keep the safety copy (drop the flag), verify a set first (`flowg admin backups verify --all`), or pass --skip-backup-check to accept the risk"}
	}
	var f *restore.Failure
	if !errors.As(err, &f) {
		return opError{op: "restore", err: err, safe: unchanged}
	}
	dir := ""
	if f.Database != "" {
		dir = dirs.Of(f.Database)
	}
	done := f.DoneNames()
	switch f.Step {
	case restore.StepAdmit:
		switch {
		case errors.Is(f.Err, kv.ErrMountPoint):
			return opError{op: "restore", err: f, safe: unchanged,
				next: fmt.Sprintf("restore without --wipe (a merge), or mount the volume one level above %s", dir)}
		case errors.Is(f.Err, backup.ErrTooManySafetyCopies):
			return opError{op: "restore", err: f, safe: unchanged, next: "remove the safety copies you no longer need, then run the restore again"}
		}
		return opError{op: "restore", err: f, safe: "nothing was written"}
	case restore.StepOpen:
		if f.Database != "" {
			return openError{name: f.Database, dir: dir, err: f.Err}
		}
	case restore.StepCheck:
		next := ""
		switch {
		case errors.Is(f.Err, backup.ErrTooLarge):
			next = "raise --max-restore-size if this size is expected"
		case errors.Is(f.Err, backup.ErrNoSpace):
			next = "free space on the disk of " + dir
		}
		return opError{op: "restore", err: f, safe: unchanged, next: next}
	case restore.StepSnapshot:
		return opError{op: "restore", err: f, safe: unchanged,
			next: "free space in the catalog, choose another --catalog-dir, or skip the snapshot with --no-safety-snapshot"}
	case restore.StepWrite:
		if f.Partial() {
			return partialMerge(f, dir, done)
		}
		what := fmt.Sprintf("%s is unchanged", dir)
		switch {
		case f.Empty:
			what = fmt.Sprintf("nothing was swapped in; %s is unchanged (and empty)", dir)
		case c.Bool("wipe"):
			what = fmt.Sprintf("nothing was swapped in; %s is unchanged", dir)
		}
		return opError{op: "restore", err: f, safe: alreadyDone(done, what)}
	case restore.StepAfter:
		return opError{op: "restore", err: f, safe: alreadyDone(done, fmt.Sprintf("%s holds the merged keys; the safety snapshot above undoes it", dir))}
	case restore.StepSwap:
		safe := alreadyDone(done, fmt.Sprintf("nothing was swapped in; %s is unchanged", dir))
		if f.SetAside != "" {
			safe = alreadyDone(done, fmt.Sprintf("the previous %s database is at %s", f.Database, f.SetAside))
		}
		return opError{op: "restore", err: f, safe: safe}
	}
	return opError{op: "restore", err: f, safe: alreadyDone(done, "the databases not restored are unchanged")}
}

// alreadyDone prefixes what is safe with the databases already restored.
func alreadyDone(done []kv.Name, rest string) string {
	if len(done) == 0 {
		return "nothing was written; " + rest
	}
	return fmt.Sprintf("%s were already restored; %s", joinNames(done), rest)
}

// partialMerge says what a merge that stopped after writing left behind:
// how many keys, that the database holds part of the backup (its marker
// says so until it is resolved), and the two ways out.
func partialMerge(f *restore.Failure, dir string, done []kv.Name) error {
	what := error(f)
	if errors.Is(f.Err, context.Canceled) {
		what = fmt.Errorf("interrupted: the merge of %s stopped at a batch boundary", f.Source)
	}
	safe := fmt.Sprintf("%d of the backup's %d keys were written: the %s database at %s holds part of the backup "+
		"(the marker %s says so until the merge is run again to its end, or undone)",
		f.Written, f.Total, f.Database, dir, backup.MarkerPath(dir))
	if len(done) > 0 {
		safe = fmt.Sprintf("%s were already restored; %s", joinNames(done), safe)
	}
	undo := f.Undo
	if undo == "" {
		undo = "no safety snapshot was taken (--no-safety-snapshot): restore an earlier restore-verified set with --wipe"
	}
	return opError{op: "restore", err: what, safe: safe, next: "either run the same command again to finish the merge, or undo it: " + undo}
}

// dirFlagName is the flag naming n's directory (--auth-dir, --log-dir).
func dirFlagName(n kv.Name) string { return restore.DirFlag(n) }
