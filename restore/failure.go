package restore

import (
	"fmt"

	"github.com/flowg-backup/flowg/kv"
)

// Step is where a restore stopped: what it says about the databases.
type Step string

const (
	// StepAdmit: the request was refused (a wipe that cannot swap the
	// directory, too many safety copies); nothing was read or written.
	StepAdmit Step = "admit"
	// StepCheck: a file failed its checks (or the size guard); nothing
	// was written.
	StepCheck Step = "check"
	// StepOpen: a database could not be held or opened; nothing was
	// written to it.
	StepOpen Step = "open"
	// StepSnapshot: the safety snapshot could not be written; the
	// database is unchanged.
	StepSnapshot Step = "snapshot"
	// StepWrite: the merge or the build of a wipe failed. A merge that
	// wrote keys (Failure.Written > 0) left part of the backup, marked
	// (backup.MarkerPath); a wipe's build changed nothing.
	StepWrite Step = "write"
	// StepAfter: the keys a restore to an instant deletes after its merge
	// could not all be deleted; the database holds the merged keys.
	StepAfter Step = "after"
	// StepSwap: a wipe's new database was built but not swapped in
	// cleanly.
	StepSwap Step = "swap"
)

// Failure is every error a Restore returns: where it stopped, on which
// database, and what it left. Err is the cause, for errors.Is/As.
type Failure struct {
	Step     Step
	Database kv.Name
	// Source is the file as shown ("" before any file was read).
	Source string
	Set    string
	// Written and Total: a merge that stopped after writing Written of
	// the backup's Total keys.
	Written, Total uint64
	// Done are the databases restored before this one.
	Done []Result
	// SetAside is where a wipe that failed at its swap kept the previous
	// database ("" when it did not).
	SetAside string
	// Undo says how to undo what was done ("" when nothing was).
	Undo string
	// Empty: the database held nothing before (a bulk load into it failed).
	Empty bool
	Err   error
}

func (f *Failure) Error() string {
	if f.Source != "" {
		return fmt.Sprintf("%s: %v", f.Source, f.Err)
	}
	return f.Err.Error()
}

func (f *Failure) Unwrap() error { return f.Err }

// Partial reports whether the database holds part of the backup.
func (f *Failure) Partial() bool { return f.Step == StepWrite && f.Written > 0 }

// DoneNames are the databases restored before the failure.
func (f *Failure) DoneNames() []kv.Name {
	out := make([]kv.Name, len(f.Done))
	for i, r := range f.Done {
		out[i] = kv.Name(r.Database)
	}
	return out
}
