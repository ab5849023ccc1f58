package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// Writing a verified file into its database: the pre_restore safety
// snapshot, then a merge, or a wipe that rebuilds the database and swaps it
// in; how to undo either; the users and tokens a merge of auth brought back.

// restoreOptions are the options of Merge and BuildWipeFrom.
func (r *restoreRun) restoreOptions() backup.RestoreOptions {
	source := r.src.fileName
	if r.src.set != "" {
		source = "set " + r.src.set
	}
	return backup.RestoreOptions{Database: string(r.name), TmpDir: r.s.opts.UploadDir, MaxBytes: r.s.opts.MaxRestoreBytes,
		Source: fmt.Sprintf("%s (online restore by %s)", source, r.user)}
}

// mergeRestore merges the verified file into the database.
func (r *restoreRun) mergeRestore(ctx context.Context) error {
	db, release, err := r.s.acquire(r.name)
	if err != nil {
		return err
	}
	defer release()
	if hook := r.s.opts.BeforeRestoreWrite; hook != nil {
		hook(r.name, false)
	}
	if err := r.safetySnapshot(ctx, db); err != nil {
		return err
	}
	r.reply.Undo = r.undo("")
	revived := restore.Revived{}
	// Into an empty database every key is new: nothing is brought back.
	emptyBefore := kv.IsEmpty(db)
	opts := r.restoreOptions()
	// Telling added keys from overwritten ones takes a lookup per key, which
	// for a large logs database costs more than the merge itself (1M keys:
	// 6.6 s instead of 2.5): only auth (revived users and tokens) and config
	// are counted.
	if r.name != kv.Logs {
		opts.Added = func(key []byte) {
			if r.name == kv.Auth {
				revived.Add(key)
			}
		}
	}
	res, err := backup.Merge(ctx, db, r.src.open, opts)
	r.reply.Written, r.reply.ExpiredSkipped = res.Written, res.Expired
	if opts.Added != nil {
		r.reply.Added = &res.Added
	}
	r.reply.Warnings = append(r.reply.Warnings, res.Warnings...)
	if !emptyBefore {
		r.reply.Warnings = append(r.reply.Warnings, revived.Warnings()...)
	}
	if err != nil {
		if res.Written == 0 {
			return refusal(r.c, r.src, err)
		}
		return internal(fmt.Sprintf("the merge stopped after up to %d keys were written", res.Written),
			fmt.Sprintf("the %s database may hold part of the backup; %s", r.name, r.reply.Undo), err)
	}
	return nil
}

// checkWipeable refuses a wipe of a database whose directory SwapDir could
// not replace, before any file is read.
func (s *Server) checkWipeable(n kv.Name) error {
	if err := kv.CheckSwappable(s.store.Dirs().Of(n)); err != nil {
		return &apiError{status: http.StatusConflict, cause: err,
			msg:  fmt.Sprintf("the %s database cannot be wiped in place: its directory %v", n, err),
			hint: "nothing was changed; restore without wipe=true (a merge), or keep the database in a directory inside the mount"}
	}
	return nil
}

// wipeRestore replaces the database by the verified file while holding it
// exclusively: safety snapshot, bulk load into a staging directory next to
// the database, crash-safe swap, reopen. With discard_previous the previous
// database directory is deleted once the new one is in place.
func (r *restoreRun) wipeRestore(ctx context.Context) error {
	phase := "wait"
	var res backup.Result
	aside, err := r.s.store.Exclusive(ctx, r.name, func(db *badger.DB) (string, error) {
		phase = "snapshot"
		if hook := r.s.opts.BeforeRestoreWrite; hook != nil {
			hook(r.name, true)
		}
		if err := r.safetySnapshot(ctx, db); err != nil {
			return "", err
		}
		phase = "build"
		staged := kv.SiblingName(r.s.store.Dirs().Of(r.name), "restore-staging", time.Now())
		var err error
		if res, err = backup.BuildWipeFrom(ctx, staged, r.src.open, r.restoreOptions()); err != nil {
			return "", err
		}
		if len(r.src.keepStreams) > 0 {
			note, err := backup.KeepStreamsFrom(db, staged, r.src.keepStreams)
			if err != nil {
				os.RemoveAll(staged)
				return "", err
			}
			res.Warnings = append(res.Warnings, note)
		}
		phase = "swap"
		return staged, nil
	})
	r.reply.Written, r.reply.ExpiredSkipped, r.reply.SetAside = res.Written, res.Expired, aside
	r.reply.Warnings = append(r.reply.Warnings, res.Warnings...)
	if err == nil {
		// The database was replaced whole: no part of an earlier merge is left.
		if cerr := backup.ClearIncomplete(r.s.store.Dirs().Of(r.name)); cerr != nil {
			r.s.log.Warn("remove restore marker", "database", r.name, "error", cerr)
		}
	}
	// One safety copy per restore: the pre_restore set, when one was
	// taken, makes the previous directory a second one, which repeated
	// restores would pile up; without a set it is the only one, kept
	// unless discard_previous=true.
	if err == nil && aside != "" && (r.p.discardPrevious || r.reply.SafetySnapshot != "") {
		if rerr := os.RemoveAll(aside); rerr != nil {
			r.reply.Warnings = append(r.reply.Warnings, fmt.Sprintf("the previous database directory %s could not be deleted: %v", aside, rerr))
			r.s.log.Warn("discard previous database directory", "request_id", requestID(r.c), "dir", aside, "error", rerr)
		} else {
			if r.p.discardPrevious {
				r.reply.Warnings = append(r.reply.Warnings, "the previous database directory was deleted (discard_previous=true)")
			}
			r.reply.SetAside, aside = "", ""
		}
	}
	r.reply.Undo = r.undo(aside)
	switch {
	case err == nil:
		return nil
	case phase == "wait" || phase == "snapshot":
		return err
	case phase == "build":
		if backup.IsInputError(err) || errors.Is(err, context.Canceled) {
			return refusal(r.c, r.src, err)
		}
		return internal("the restored database could not be built",
			fmt.Sprintf("nothing was changed: the %s database was not swapped; see the server log for request %s", r.name, requestID(r.c)), err)
	}
	hint := fmt.Sprintf("the restored %s database was built but not swapped in cleanly; see the server log for request %s", r.name, requestID(r.c))
	if aside != "" {
		hint += "; the previous database directory is at " + aside
	}
	return internal("the restored database could not be swapped in", hint+"; "+r.reply.Undo, err)
}

// safetySnapshot writes db, as it is now, to a backup set with trigger
// pre_restore in the backup catalog, and records it in the reply; with
// no_safety_snapshot it writes nothing.
func (r *restoreRun) safetySnapshot(ctx context.Context, db *badger.DB) error {
	if r.p.noSnapshot {
		return nil
	}
	m, err := r.s.catalog.cat.Create(ctx, []backup.Source{{Name: string(r.name), DB: db}}, backup.SetOptions{
		Trigger:      backup.TriggerPreRestore,
		By:           r.user,
		WriteOptions: backup.WriteOptions{ToolVersion: r.s.opts.Version},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internal("the safety snapshot could not be written, so the restore did not start", fmt.Sprintf(
			"nothing was changed; free space in the backup catalog %s or fix its permissions (flowg serve --backup-dir)", r.s.catalog.cat.Dir()), err)
	}
	r.reply.SafetySnapshot, r.reply.SafetySnapshotDir = m.ID, r.s.setLocation(m.ID)
	return nil
}

// undo says how to undo the restore: restore the safety snapshot, or put
// back the previous database directory aside.
func (r *restoreRun) undo(aside string) string {
	var ways []string
	if id := r.reply.SafetySnapshot; id != "" {
		catalog := r.s.catalog.cat.Dir()
		ways = append(ways, fmt.Sprintf("the safety snapshot %s (on the server) holds the %s database as it was: "+
			"restore it with POST /api/v1/backups/%s/restore?wipe=true (`flowg backups restore --wipe %s`), "+
			"or stop the server and run `flowg admin restore --backup-dir %s --set %s --only %s --wipe`",
			id, r.name, id, id, catalog, id, r.name))
	}
	if aside != "" {
		ways = append(ways, fmt.Sprintf("the previous database directory is kept on the server at %s", aside))
	}
	if len(ways) == 0 {
		return "no safety copy was kept (no_safety_snapshot / discard_previous): restore an earlier restore-verified set from GET /api/v1/backups to go back"
	}
	return strings.Join(ways, "; ")
}
