package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// The online restore of one database from an upload
// (POST /api/v1/restore/:db) and restoreFromFile, the restore both restore
// routes share: the file is staged and verified whole here, then written by
// restore_write.go. Sets are restored in restore_set.go; the parameters and
// the guard on restores without a safety copy are in restore_guard.go.

// restore restores one database from an upload (POST /api/v1/restore/:db,
// ?wipe=true for a destructive restore). The upload is staged to a file and
// then restored by restoreFromFile, as a set of the catalog is.
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
	p, err := restoreParamsOf(c)
	if err != nil {
		return err
	}
	warnings, err := s.guard(c, p, []kv.Name{name})
	if err != nil {
		return err
	}
	if !p.dryRun {
		end, err := s.beginRestore(name)
		if err != nil {
			return err
		}
		defer end()
	}
	reply, err := s.restoreFromFile(c, name, p, func() (*restoreSource, error) {
		u, err := s.stageUpload(c, name)
		if err != nil {
			return nil, err
		}
		return &restoreSource{open: backup.FileOpener(u.path), fileName: u.fileName, size: u.size, uploaded: u.size, serverFile: u.serverFile, cleanup: u.remove}, nil
	})
	if err != nil {
		return err
	}
	reply.Warnings = append(append([]string{}, warnings...), reply.Warnings...)
	return c.JSON(http.StatusOK, reply)
}

// beginRestore marks a restore of n as running: a 409 if one already is.
func (s *Server) beginRestore(n kv.Name) (func(), error) {
	end, err := s.store.BeginRestore(n)
	if err != nil {
		if errors.Is(err, kv.ErrBusy) {
			return nil, busy(n, err)
		}
		return nil, err
	}
	return end, nil
}

// restoreSource is the backup file a restore reads: a staged upload or a
// database's file in a catalog set.
type restoreSource struct {
	open     backup.Opener
	fileName string // the multipart file name, or the set's file name
	size     int64  // bytes as stored
	uploaded int64  // bytes received from the client; 0 for a set
	sha256   string // what the file's SHA-256 must be (a set's manifest); "" for an upload
	set      string // the catalog set the file belongs to; "" for an upload
	// serverFile names the file of the server's --restore-dir restored
	// instead of an upload ("" otherwise).
	serverFile string
	cleanup    func()
	// keepStreams are the streams the set's file left out
	// (--backup-exclude-stream): a wipe keeps their current data.
	keepStreams []string
}

// restoreFromFile restores database name from the file stage gives: the
// restore both routes share. The file is verified whole before anything is
// written; then a safety snapshot of the database goes into the backup
// catalog (unless ?no_safety_snapshot=true), and the file is merged into
// the database or, with wipe, loaded into a new one that replaces it while
// the database's gate is held exclusively (its requests get 503 meanwhile).
// The caller holds the database's restore (beginRestore). With dry_run it
// only plans (dryRunFromFile).
func (s *Server) restoreFromFile(c echo.Context, name kv.Name, p restoreParams, stage func() (*restoreSource, error)) (restore.Result, error) {
	if p.dryRun {
		return s.dryRunFromFile(c, name, p, stage)
	}
	run := &restoreRun{s: s, c: c, name: name, p: p, user: principalOf(c).User,
		reply: restore.Result{Database: string(name), Mode: p.mode(), Warnings: []string{}}}
	s.metrics.restoreStarted(name, run.reply.Mode)
	start := time.Now()
	err := run.do(stage)
	s.purgeLegacyJWTKey(name, requestID(c))
	run.reply.Duration = time.Since(start).Round(time.Millisecond).String()
	reason := ""
	if err != nil {
		reason = "error"
		if status, _ := describe(err, ""); status < 500 {
			reason = "input"
		}
	}
	s.metrics.restoreFinished(name, run.reply.Mode, time.Since(start), run.uploaded(), run.reply.Written, reason)
	if run.reply.SafetySnapshot != "" {
		s.refreshCatalogMetrics()
	}
	if err != nil {
		return run.reply, err
	}
	s.log.Info("restore complete", "request_id", requestID(c), "database", name, "mode", run.reply.Mode,
		"user", run.user, "set", run.setID(), "written", run.reply.Written, "file_sha256", run.reply.File.SHA256,
		"safety_snapshot", run.reply.SafetySnapshot, "set_aside", run.reply.SetAside)
	return run.reply, nil
}

// restoreRun is one restore of one database in progress.
type restoreRun struct {
	s     *Server
	c     echo.Context
	name  kv.Name
	p     restoreParams
	user  string
	src   *restoreSource
	reply restore.Result
}

func (r *restoreRun) uploaded() int64 {
	if r.src == nil {
		return 0
	}
	return r.src.uploaded
}

func (r *restoreRun) setID() string {
	if r.src == nil {
		return ""
	}
	return r.src.set
}

// do stages the file and verifies it whole, then merges or wipes.
func (r *restoreRun) do(stage func() (*restoreSource, error)) error {
	if r.p.wipe {
		if err := r.s.checkWipeable(r.name); err != nil {
			return err
		}
	}
	if r.p.keepsSafetyCopy() {
		if err := backup.CheckSafetyRoom(r.c.Request().Context(), r.s.catalog.cat, string(r.name), r.s.store.Dirs().Of(r.name), r.s.opts.MaxSafetyCopies); err != nil {
			return err
		}
	}
	src, err := stage()
	if err != nil {
		return err
	}
	if src.cleanup != nil {
		defer src.cleanup()
	}
	r.src = src

	ctx, cancel := r.s.opContext(r.c.Request().Context())
	defer cancel()
	guard := r.s.sizeGuard(r.name)
	if err := guard.CheckFile(ctx, src.open); err != nil {
		return err
	}
	hdr, sum, err := checkSource(ctx, src, r.name, guard.MaxBytes)
	if err == nil {
		err = guard.Check(sum.Bytes)
	}
	if err != nil {
		return refusal(r.c, src, err)
	}
	r.reply.File = restore.File{Name: src.fileName, ServerFile: src.serverFile, Format: string(backup.FormatFlowg), Bytes: src.size, Keys: sum.Keys, SHA256: sum.SHA256}
	if src.serverFile != "" {
		r.reply.Warnings = append(r.reply.Warnings, fmt.Sprintf("the form field \"backup\" named a file, not an upload: "+
			"this restored %s from the server's restore directory (--restore-dir), not a file of yours; to restore your own copy, "+
			"put @ before its name: curl --form backup=@%s ...", src.serverFile, src.serverFile))
	}
	if hdr.Raw {
		r.reply.File.Format = string(backup.FormatBadger)
	} else {
		created := hdr.Created
		r.reply.File.Created, r.reply.File.ReadTs = &created, hdr.ReadTs
	}
	if r.p.wipe {
		return r.wipeRestore(ctx)
	}
	// A client that goes away must not cut a merge short: once writing
	// begins it runs to the end unless the server stops.
	mctx, mcancel := r.s.opContext(context.WithoutCancel(r.c.Request().Context()))
	defer mcancel()
	return r.mergeRestore(mctx)
}

// checkSource reads the file of src whole, checking everything in it and,
// for a set's file, its SHA-256 against the manifest. It writes nothing.
// A file whose records add up to more than maxBytes (0: no limit) is
// refused as soon as it is read that far.
func checkSource(ctx context.Context, src *restoreSource, n kv.Name, maxBytes uint64) (backup.Header, backup.Summary, error) {
	f, size, err := src.open(ctx)
	if err != nil {
		return backup.Header{}, backup.Summary{}, err
	}
	defer f.Close()
	hdr, sum, err := backup.Verify(ctx, f, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(n), Size: size, MaxBytes: maxBytes}})
	if err == nil && src.sha256 != "" && sum.SHA256 != "" && sum.SHA256 != src.sha256 {
		err = fmt.Errorf("%w: %s: its SHA-256 differs from the one the set's manifest records", backup.ErrChecksum, src.fileName)
	}
	return hdr, sum, err
}

// refusal is the answer for a file that failed its checks.
func refusal(c echo.Context, src *restoreSource, err error) error {
	if errors.Is(err, backup.ErrTooLarge) || errors.Is(err, backup.ErrNoSpace) {
		return err // 413 / 507, see describe
	}
	if backup.IsInputError(err) {
		hint := "nothing was changed; " + inputHint(err)
		if src != nil && src.set != "" {
			hint = fmt.Sprintf("nothing was changed; the set's file is damaged: verify the set (POST /api/v1/backups/%s/verify) "+
				"and restore another one from GET /api/v1/backups", src.set)
		}
		return &apiError{status: http.StatusBadRequest, cause: err, msg: "restore refused: " + err.Error(), hint: hint}
	}
	var ae *apiError
	if errors.As(err, &ae) || errors.Is(err, context.Canceled) {
		return err
	}
	return internal("the backup file could not be checked", "nothing was changed; see the server log for request "+requestID(c), err)
}

// sizeGuard is the size check of a restore of n (flowg serve
// --max-restore-size, and the free space of n's disk).
func (s *Server) sizeGuard(n kv.Name) backup.SizeGuard {
	return backup.SizeGuard{MaxBytes: s.opts.MaxRestoreBytes, Dir: s.store.Dirs().Of(n)}
}
