package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// DefaultServeTimeout is how long a drill waits for its server to answer
// for every database. A server on a restored 1 GiB logs database answers
// in well under a second; the margin is for a loaded machine.
const DefaultServeTimeout = 2 * time.Minute

// ErrNoSet is returned when the catalog holds no restore-verified set with
// every database, and no set was named.
var ErrNoSet = errors.New("no restore-verified set holds every database")

// ErrFailed is matched (errors.Is) by every error of a drill that failed
// and was recorded.
var ErrFailed = errors.New("restore drill failed")

// failure is a recorded drill's error: it reads as its cause and matches
// both ErrFailed and the cause.
type failure struct{ err error }

func (f failure) Error() string   { return f.err.Error() }
func (f failure) Unwrap() []error { return []error{ErrFailed, f.err} }

// Options tune Run.
type Options struct {
	// Set names the set to restore; empty picks the newest restore-verified
	// set holding every database (never a pre_restore safety set).
	Set string
	// WorkDir holds the scratch directory; os.TempDir() when empty.
	WorkDir string
	// Executable is the flowg binary the drill's server runs (os.Executable()).
	Executable string
	// ServeTimeout bounds the wait for the server; DefaultServeTimeout when 0.
	ServeTimeout time.Duration
	// Trigger is recorded with the drill; backup.TriggerManual when empty.
	Trigger string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Run drills a restore of a set of cat: it restores every database of the
// set into a new scratch directory (0700), checks that each restored
// database holds the manifest's key count (and content sum, for a full
// set), starts a flowg server on them on a loopback port, waits until
// /healthz says every database is ok, stops it, removes the scratch
// directory and records the drill in the catalog. The RTO is the time the
// restore took plus the time from the server's start to serving (the
// check in between is left out). The catalog's sets are held (see
// HoldSets) while they are read, so a prune cannot delete the set under
// the drill.
//
// The record is returned in every case. A failed drill returns an error
// matching ErrFailed, and is recorded. A drill whose ctx ended, that was
// given no key (or the wrong one) for an encrypted set, whose catalog
// holds no set at all (ErrNoCompleteSet) or not the set named
// (ErrSetNotFound), or whose S3 target cannot be reached returns that
// error and records nothing: it says nothing about a set. A record that
// could not be written is an error joined to the drill's.
func Run(ctx context.Context, cat *backup.Catalog, opts Options) (backup.DrillRecord, error) {
	trigger := opts.Trigger
	if trigger == "" {
		trigger = backup.TriggerManual
	}
	start := opts.now()
	rec := backup.DrillRecord{Time: start.UTC(), Trigger: trigger, Result: backup.DrillOK, Databases: map[string]backup.DrillDatabase{}}
	err := run(ctx, cat, opts, &rec)
	rec.DurationSeconds = opts.now().Sub(start).Seconds()
	if ctx.Err() != nil {
		rec.Result, rec.Error = backup.DrillFailed, ctx.Err().Error()
		return rec, fmt.Errorf("restore drill interrupted: %w", ctx.Err())
	}
	if err != nil {
		rec.Result, rec.Error = backup.DrillFailed, err.Error()
		if notAboutASet(err) {
			return rec, err
		}
		err = failure{err}
	}
	if rerr := cat.RecordDrill(ctx, rec); rerr != nil {
		return rec, errors.Join(err, rerr)
	}
	return rec, err
}

// notAboutASet reports whether a drill's error says nothing about the sets
// of the catalog, so that recording it would only raise a false alarm: a
// key missing from this run, a catalog with no set at all (a mistyped
// --backup-dir), a mistyped --set.
func notAboutASet(err error) bool {
	for _, target := range []error{backup.ErrEncrypted, backup.ErrWrongKey, backup.ErrNoCompleteSet, backup.ErrSetNotFound, backup.ErrTarget} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// run is the drill itself; it fills rec as it goes.
func run(ctx context.Context, cat *backup.Catalog, opts Options, rec *backup.DrillRecord) (err error) {
	set, err := pick(ctx, cat, opts.Set)
	if set.ID != "" {
		rec.Set, rec.SetCreated = set.ID, set.Created.UTC()
		rec.RPOSeconds = rec.Time.Sub(set.Created).Seconds()
	}
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(opts.WorkDir, "flowg-drill-")
	if err != nil {
		return fmt.Errorf("create scratch directory: %w", err)
	}
	// Removed on every path; a failure to remove it fails the drill.
	defer func() {
		if rerr := os.RemoveAll(scratch); rerr != nil && err == nil {
			err = fmt.Errorf("remove scratch directory: %w", rerr)
		}
	}()
	dirs := kv.Dirs{Auth: filepath.Join(scratch, "auth"), Config: filepath.Join(scratch, "config"), Logs: filepath.Join(scratch, "logs")}
	restoreStart := opts.now()
	results, err := restoreAll(ctx, cat, set, dirs, scratch, rec)
	if err != nil {
		return err
	}
	restored := opts.now().Sub(restoreStart)
	// Checked before the server opens them: a server may write (it creates
	// user root in an auth database without users), and what it serves is
	// then exactly what was checked. The check is not part of the RTO.
	if err := checkAll(ctx, set, dirs, scratch, results, rec); err != nil {
		return err
	}
	serveStart := opts.now()
	srv, err := startServer(ctx, opts, dirs, scratch)
	if err != nil {
		return err
	}
	err = srv.waitServing(ctx, serveTimeout(opts))
	if err == nil {
		rec.RTOSeconds = (restored + opts.now().Sub(serveStart)).Seconds()
	}
	if serr := srv.stop(); err == nil {
		err = serr
	}
	return err
}

func serveTimeout(opts Options) time.Duration {
	if opts.ServeTimeout > 0 {
		return opts.ServeTimeout
	}
	return DefaultServeTimeout
}

// pick returns the set named, or the newest restore-verified set holding
// every database, never a pre_restore safety set.
func pick(ctx context.Context, cat *backup.Catalog, id string) (backup.SetInfo, error) {
	if id != "" {
		info, err := cat.Get(ctx, id)
		if err != nil {
			return backup.SetInfo{}, err
		}
		if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
			return info, fmt.Errorf("%w: set %s is %s: %s", backup.ErrSetUnusable, id, info.Label, info.Problem)
		}
		if missing := lacking(info); missing != "" {
			return info, fmt.Errorf("%w: set %s holds no %s backup; a drill restores every database", backup.ErrSetUnusable, id, missing)
		}
		return info, nil
	}
	sets, err := cat.List(ctx)
	if err != nil {
		return backup.SetInfo{}, err
	}
	if len(sets) == 0 {
		return backup.SetInfo{}, fmt.Errorf("%w: %s holds no backup set", backup.ErrNoCompleteSet, cat.Dir())
	}
	if s, ok := backup.Newest(sets, func(s backup.SetInfo) bool {
		return backup.IsComplete(s) && s.Label == backup.LabelRestoreVerified && lacking(s) == ""
	}); ok {
		return s, nil
	}
	return backup.SetInfo{}, fmt.Errorf("%w in %s", ErrNoSet, cat.Dir())
}

// lacking returns the first database set does not hold, "" if none.
func lacking(set backup.SetInfo) string {
	for _, n := range kv.Names {
		if _, ok := set.Databases[string(n)]; !ok {
			return string(n)
		}
	}
	return ""
}

// restoreAll rebuilds each database of set into dirs, under the set lock.
func restoreAll(ctx context.Context, cat *backup.Catalog, set backup.SetInfo, dirs kv.Dirs, tmp string, rec *backup.DrillRecord) (map[kv.Name]backup.Result, error) {
	release, err := cat.HoldSets(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	results := map[kv.Name]backup.Result{}
	for _, n := range kv.Names {
		res, err := restoreOne(ctx, cat, set.ID, n, dirs.Of(n), tmp)
		entry := set.Databases[string(n)]
		rec.Databases[string(n)] = backup.DrillDatabase{ManifestKeys: manifestKeys(entry), Expired: res.Expired,
			RestoreSeconds: res.Duration.Seconds()}
		if err != nil {
			db := rec.Databases[string(n)]
			db.Error = err.Error()
			rec.Databases[string(n)] = db
			return nil, fmt.Errorf("restore %s of set %s: %w", n, set.ID, err)
		}
		results[n] = res
	}
	return results, nil
}

func restoreOne(ctx context.Context, cat *backup.Catalog, id string, n kv.Name, dir, tmp string) (backup.Result, error) {
	open, done, err := cat.Restorable(ctx, id, string(n), tmp)
	if err != nil {
		return backup.Result{}, err
	}
	defer done()
	return backup.BuildWipeFrom(ctx, dir, open, backup.RestoreOptions{Database: string(n), TmpDir: tmp, Exclusive: true})
}

// manifestKeys is how many live keys the manifest says the set holds of a
// database: a full file's key count, or an incremental file's key list.
func manifestKeys(e backup.DBEntry) uint64 {
	if e.SinceTs != 0 {
		return e.InventoryKeys
	}
	return e.Keys
}
