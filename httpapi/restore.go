package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// restoreReply is the answer to a completed restore. Its shape only ever
// gains fields.
type restoreReply struct {
	Database       string    `json:"database"`
	Mode           string    `json:"mode"` // merge or wipe
	Written        uint64    `json:"written"`
	ExpiredSkipped uint64    `json:"expired_skipped"`
	Added          *uint64   `json:"added,omitempty"` // merge: keys the database did not hold before
	File           fileReply `json:"file"`
	// SafetySnapshot is the id of the backup set, in the server's backup
	// catalog, that holds the database as it was before the restore.
	SafetySnapshot    string   `json:"safety_snapshot"`
	SafetySnapshotDir string   `json:"safety_snapshot_dir"`
	SetAside          string   `json:"set_aside"` // wipe: where the previous database directory was kept
	Undo              string   `json:"undo"`
	Warnings          []string `json:"warnings"`
	Duration          string   `json:"duration"`
}

// fileReply describes the uploaded backup file.
type fileReply struct {
	Name    string     `json:"name,omitempty"` // the multipart file name
	Format  string     `json:"format"`         // flowg, or badger for a raw Badger stream
	Bytes   int64      `json:"bytes"`
	Keys    uint64     `json:"keys"`
	SHA256  string     `json:"sha256,omitempty"`
	Created *time.Time `json:"created,omitempty"`
	ReadTs  uint64     `json:"read_ts,omitempty"`
}

// restore restores one database from an upload (POST /api/v1/restore/:db,
// ?wipe=true for a destructive restore). The upload is staged to a file and
// verified whole before anything is written; then a safety snapshot of the
// database goes into the backup catalog, and the file is merged into the
// database or, with wipe, loaded into a new one that replaces it while the
// database's gate is held exclusively (its requests get 503 meanwhile).
func (s *Server) restore(c echo.Context) error {
	name, err := dbParam(c)
	if err != nil {
		return err
	}
	if err := require(c, auth.RestoreScopes(string(name))...); err != nil {
		return err
	}
	if s.opts.NoOnlineRestore {
		return restoreDisabled(name)
	}
	wipe, err := wipeParam(c)
	if err != nil {
		return err
	}
	end, err := s.store.BeginRestore(name)
	if err != nil {
		if errors.Is(err, kv.ErrBusy) {
			return busy(name, err)
		}
		return err
	}
	defer end()

	run := &restoreRun{s: s, c: c, name: name, wipe: wipe, user: principalOf(c).User,
		reply: restoreReply{Database: string(name), Mode: modeMerge, Warnings: []string{}}}
	if wipe {
		run.reply.Mode = modeWipe
	}
	s.metrics.restoreStarted(name, run.reply.Mode)
	start := time.Now()
	err = run.do()
	run.reply.Duration = time.Since(start).Round(time.Millisecond).String()
	reason := ""
	if err != nil {
		reason = "error"
		if status, _ := describe(err, ""); status < 500 {
			reason = "input"
		}
	}
	s.metrics.restoreFinished(name, run.reply.Mode, time.Since(start), run.uploaded, run.reply.Written, reason)
	if err != nil {
		return err
	}
	s.log.Info("restore complete", "request_id", requestID(c), "database", name, "mode", run.reply.Mode,
		"user", run.user, "written", run.reply.Written, "file_sha256", run.reply.File.SHA256,
		"safety_snapshot", run.reply.SafetySnapshot, "set_aside", run.reply.SetAside)
	return c.JSON(http.StatusOK, run.reply)
}

// wipeParam parses ?wipe=.
func wipeParam(c echo.Context) (bool, error) {
	v := c.QueryParam("wipe")
	if v == "" {
		return false, nil
	}
	wipe, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(fmt.Sprintf("wipe=%q is not a boolean", v),
			"nothing was changed; use ?wipe=true for a destructive restore, or leave it out to merge")
	}
	return wipe, nil
}

// restoreRun is one restore in progress.
type restoreRun struct {
	s        *Server
	c        echo.Context
	name     kv.Name
	wipe     bool
	user     string
	upload   *upload
	uploaded int64
	reply    restoreReply
}

// do stages and verifies the upload, then merges or wipes.
func (r *restoreRun) do() error {
	u, err := r.s.stageUpload(r.c, r.name)
	if err != nil {
		return err
	}
	defer u.remove()
	r.upload, r.uploaded = u, u.size

	ctx, cancel := r.s.opContext(r.c.Request().Context())
	defer cancel()
	opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(r.name)}}
	hdr, sum, err := backup.VerifyFile(ctx, u.path, opts)
	if err != nil {
		return r.refused(err)
	}
	r.reply.File = fileReply{Name: u.fileName, Format: string(backup.FormatFlowg), Bytes: u.size, Keys: sum.Keys, SHA256: sum.SHA256}
	if hdr.Raw {
		r.reply.File.Format = string(backup.FormatBadger)
	} else {
		created := hdr.Created
		r.reply.File.Created, r.reply.File.ReadTs = &created, hdr.ReadTs
	}
	if r.wipe {
		return r.wipeRestore(ctx)
	}
	// A client that goes away must not cut a merge short: once writing
	// begins it runs to the end unless the server stops.
	mctx, mcancel := r.s.opContext(context.WithoutCancel(r.c.Request().Context()))
	defer mcancel()
	return r.mergeRestore(mctx)
}

// refused is the answer for a file that failed its checks.
func (r *restoreRun) refused(err error) error {
	if backup.IsInputError(err) {
		return &apiError{status: http.StatusBadRequest, cause: err,
			msg:  "restore refused: " + err.Error(),
			hint: "nothing was changed; " + inputHint(err)}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return internal("the upload could not be checked", "nothing was changed; see the server log for request "+requestID(r.c), err)
}

// restoreOptions are the options of MergeFile and BuildWipe.
func (r *restoreRun) restoreOptions() backup.RestoreOptions {
	return backup.RestoreOptions{Database: string(r.name), TmpDir: r.s.opts.UploadDir}
}

// mergeRestore merges the verified upload into the database.
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
	revived := revivedKeys{}
	opts := r.restoreOptions()
	opts.Added = func(key []byte) {
		if r.name == kv.Auth {
			revived.add(key)
		}
	}
	res, err := backup.MergeFile(ctx, db, r.upload.path, opts)
	r.reply.Written, r.reply.ExpiredSkipped, r.reply.Added = res.Written, res.Expired, &res.Added
	r.reply.Warnings = append(r.reply.Warnings, res.Warnings...)
	r.reply.Warnings = append(r.reply.Warnings, revived.warnings()...)
	if err != nil {
		if res.Written == 0 {
			return r.refused(err)
		}
		return internal(fmt.Sprintf("the merge stopped after %d keys", res.Written),
			fmt.Sprintf("the %s database may hold part of the backup; %s", r.name, r.reply.Undo), err)
	}
	return nil
}

// wipeRestore replaces the database by the verified upload while holding it
// exclusively: safety snapshot, bulk load into a staging directory next to
// the database, crash-safe swap, reopen.
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
		if res, err = backup.BuildWipe(ctx, staged, r.upload.path, r.restoreOptions()); err != nil {
			return "", err
		}
		phase = "swap"
		return staged, nil
	})
	r.reply.Written, r.reply.ExpiredSkipped, r.reply.SetAside = res.Written, res.Expired, aside
	r.reply.Warnings = append(r.reply.Warnings, res.Warnings...)
	if aside != "" {
		r.reply.Undo += fmt.Sprintf("; the previous database directory is kept on the server at %s", aside)
	}
	switch {
	case err == nil:
		return nil
	case phase == "wait" || phase == "snapshot":
		return err
	case phase == "build":
		if backup.IsInputError(err) || errors.Is(err, context.Canceled) {
			return r.refused(err)
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
// pre_restore in the backup catalog, and records it in the reply.
func (r *restoreRun) safetySnapshot(ctx context.Context, db *badger.DB) error {
	catalog := r.s.opts.BackupDir
	m, err := backup.WriteSet(ctx, catalog, []backup.Source{{Name: string(r.name), DB: db}}, backup.SetOptions{
		Trigger:      backup.TriggerPreRestore,
		By:           r.user,
		WriteOptions: backup.WriteOptions{ToolVersion: r.s.opts.Version},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internal("the safety snapshot could not be written, so the restore did not start", fmt.Sprintf(
			"nothing was changed; free space in the backup catalog %s or fix its permissions (flowg serve --backup-dir)", catalog), err)
	}
	dir := filepath.Join(catalog, m.ID)
	file := filepath.Join(dir, backup.FileName(string(r.name)))
	r.reply.SafetySnapshot, r.reply.SafetySnapshotDir = m.ID, dir
	r.reply.Undo = fmt.Sprintf("the safety snapshot %s (on the server) holds the %s database as it was: "+
		"upload it to POST /api/v1/restore/%s?wipe=true, or stop the server and run "+
		"`flowg admin restore --backup-dir %s --only %s --wipe`", file, r.name, r.name, dir, r.name)
	return nil
}

// revivedKeys collects the users and tokens a merge of auth brought back:
// keys the database no longer held, because they were deleted or revoked
// after the backup was taken.
type revivedKeys map[string][]string

func (rk revivedKeys) add(key []byte) {
	if kind, name, ok := auth.DescribeKey(key); ok {
		rk[kind] = append(rk[kind], name)
	}
}

// warnings says what was brought back, one warning per kind.
func (rk revivedKeys) warnings() []string {
	kinds := make([]string, 0, len(rk))
	for kind := range rk {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	out := make([]string, 0, len(kinds))
	for _, kind := range kinds {
		names := strings.Join(rk[kind], ", ")
		switch kind {
		case "user":
			out = append(out, fmt.Sprintf("the restore brought back %d user(s) the database did not hold "+
				"(deleted since the backup?): %s; delete them again if that was intended", len(rk[kind]), names))
		case "token":
			out = append(out, fmt.Sprintf("the restore brought back %d token(s) the database did not hold: %s; "+
				"tokens revoked since the backup stay revoked, revoke any other you do not want (DELETE /api/v1/tokens/:id)", len(rk[kind]), names))
		}
	}
	return out
}
