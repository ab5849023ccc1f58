package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// The use case: admit a restore (validate, guard, hold every target), then
// run it on its planned sources — check every file before any write, take
// the safety snapshot, merge or wipe each database — and answer what was
// done and how to undo it.

// Options are what a door gives a restore beside its Request.
type Options struct {
	// Catalog receives the safety snapshots (trigger pre_restore) and backs
	// the guard with its restore-verified sets.
	Catalog *backup.Catalog
	// By is who restores (recorded in the safety set and the merge marker).
	By          string
	ToolVersion string
	// TmpDir holds the staging copy of a raw Badger stream.
	TmpDir string
	// MaxBytes refuses a backup whose records add up to more (0: no limit).
	MaxBytes uint64
	// MaxSafetyCopies refuses a restore that would keep one more safety
	// copy of a database that has that many (0: no limit).
	MaxSafetyCopies int
	// Progress, when set, reports the writing of each database.
	Progress func(n kv.Name, totalBytes uint64) (update func(keys, bytes uint64), done func())
	// OnBulkLoad, when set, is called before databases are loaded in bulk
	// (offline: all of them empty, or a merge rebuilt beside its
	// database): the door's runtime memory policy.
	OnBulkLoad func()
}

// Outcome is what a restore did.
type Outcome struct {
	Results []Result
	// Warnings are the restore's own (the guard's); each Result carries
	// its database's.
	Warnings []string
	// Asides are the previous directories the wipes kept.
	Asides []Aside
	// Undo says how to undo the whole restore ("" when nothing can).
	Undo string
	// Deleted counts, per database of a merge to an instant, the keys
	// deleted before the instant that were removed.
	Deleted map[kv.Name]int
}

// Restore is one admitted restore; Close releases its targets.
type Restore struct {
	req      Request
	t        Targets
	opts     Options
	stamp    time.Time
	warnings []string
	release  func()
}

// Admit validates req and refuses, before any file is read: a restore
// that gives up a safety copy without a restore-verified set to fall back
// on (*Unprotected), a wipe of a directory that cannot be swapped, and a
// restore that would keep one safety copy too many. A restore that writes
// then holds every target until Close (a server answers kv.ErrBusy when
// one is already restored). Other errors are *Failure or *RequestError.
func Admit(ctx context.Context, req Request, t Targets, opts Options) (*Restore, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	r := &Restore{req: req, t: t, opts: opts, stamp: time.Now().UTC(), release: func() {}}
	if req.Wipe {
		for _, n := range req.Databases {
			if err := kv.CheckSwappable(t.Dir(n)); err != nil {
				return nil, &Failure{Step: StepAdmit, Database: n, Err: fmt.Errorf("the %s database cannot be wiped in place: %w", n, err)}
			}
		}
	}
	if req.DryRun {
		return r, nil
	}
	warnings, err := Guard(ctx, req, t.Traits().WipeSnapshots, opts.Catalog)
	if err != nil {
		var refused *Unprotected
		if errors.As(err, &refused) {
			return nil, err
		}
		return nil, &Failure{Step: StepAdmit, Err: err}
	}
	r.warnings = warnings
	if req.Keeps(t.Traits().WipeSnapshots).Any() {
		for _, n := range req.Databases {
			if err := backup.CheckSafetyRoom(ctx, opts.Catalog, string(n), t.Dir(n), opts.MaxSafetyCopies); err != nil {
				return nil, &Failure{Step: StepAdmit, Database: n, Err: err}
			}
		}
	}
	release, err := t.Hold(req.Databases)
	if err != nil {
		return nil, asFailure(StepOpen, err)
	}
	r.release = release
	return r, nil
}

// Request is the admitted request (Databases filled).
func (r *Restore) Request() Request { return r.req }

// Close releases the targets.
func (r *Restore) Close() { r.release() }

// Run restores each source's database, in order: a dry run plans;
// otherwise every file is checked whole before the first database
// changes, then the databases are merged (one safety snapshot of all of
// them first) or wiped one by one. Errors are *Failure.
func (r *Restore) Run(ctx context.Context, sources Sources) (Outcome, error) {
	if r.req.DryRun {
		return r.dryRun(ctx, sources)
	}
	out := Outcome{Warnings: append([]string{}, r.warnings...)}
	checked, err := r.checkAll(ctx, sources)
	defer checked.close()
	if err != nil {
		return out, err
	}
	if r.req.Wipe {
		return r.wipeAll(ctx, sources, checked, out)
	}
	return r.mergeAll(ctx, sources, checked, out)
}

// result is the Result of src before it is written.
func (r *Restore) result(src Source) Result {
	return Result{Database: string(src.Database), Mode: r.req.Mode(), Warnings: []string{}, Instant: src.Instant,
		File: File{Name: src.FileName, ServerFile: src.ServerFile, Format: string(backup.FormatFlowg), Bytes: src.Bytes}}
}

// describeFile fills res.File from what the restore read.
func describeFile(res *Result, hdr backup.Header, sum backup.Summary) {
	res.File.Keys, res.File.SHA256 = sum.Keys, sum.SHA256
	if res.File.Bytes == 0 {
		res.File.Bytes = sum.FileBytes
	}
	if hdr.Raw {
		res.File.Format = string(backup.FormatBadger)
		return
	}
	created := hdr.Created
	res.File.Created, res.File.ReadTs = &created, hdr.ReadTs
}

// restoreOptions are the options every read of src is made with.
func (r *Restore) restoreOptions(src Source) backup.RestoreOptions {
	return backup.RestoreOptions{Database: string(src.Database), TmpDir: r.opts.TmpDir, MaxBytes: r.opts.MaxBytes,
		Identities: src.Identities, Exclusive: r.t.Traits().Exclusive, Source: fmt.Sprintf("%s (restore by %s)", src.Shown, r.opts.By)}
}

// progress starts the progress report of n.
func (r *Restore) progress(n kv.Name, total uint64) (func(keys, bytes uint64), func()) {
	if r.opts.Progress == nil {
		return nil, func() {}
	}
	return r.opts.Progress(n, total)
}

// snapshot writes database n as it is into a pre_restore set of the
// catalog, one set per database; "" when the request turned it off or,
// offline (Traits.Exclusive), when it holds nothing: there is nothing to
// lose, and it is bulk-loaded. A server's database is always kept, its
// undo is then the way back to empty.
func (r *Restore) snapshot(ctx context.Context, n kv.Name, db *badger.DB) (string, error) {
	if r.req.NoSafetySnapshot || db == nil || (r.t.Traits().Exclusive && kv.IsEmpty(db)) {
		return "", nil
	}
	m, err := r.opts.Catalog.Create(ctx, []backup.Source{{Name: string(n), DB: db}}, backup.SetOptions{Trigger: backup.TriggerPreRestore,
		By: r.opts.By, WriteOptions: backup.WriteOptions{ToolVersion: r.opts.ToolVersion}})
	if err != nil {
		return "", &Failure{Step: StepSnapshot, Database: n, Err: fmt.Errorf("write safety snapshot: %w", err)}
	}
	return m.ID, nil
}

// undoOf is the undo line of one result.
func (r *Restore) undoOf(res Result) string {
	return r.t.Undo(undoOf([]Result{res}, r.t))
}

// undoOf is what results kept to undo them with.
func undoOf(results []Result, t Targets) Undo {
	var u Undo
	for _, res := range results {
		n := kv.Name(res.Database)
		if res.SafetySnapshot != "" {
			u.Snapshots = append(u.Snapshots, Snapshot{Database: n, Set: res.SafetySnapshot})
		}
		if res.SetAside != "" {
			u.Asides = append(u.Asides, Aside{Database: n, Dir: t.Dir(n), Previous: res.SetAside})
		}
	}
	return u
}

// asFailure is err if it is a *Failure already, else a Failure at step.
func asFailure(step Step, err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Step: step, Err: err}
}
