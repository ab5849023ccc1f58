package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// The online restore of one database from an upload
// (POST /api/v1/restore/:db), and runRestore, which every restore route
// shares: the restore use case (package restore) on the server's
// databases. Sets are restored in restore_set.go, instants in
// restore_at.go; the parameters and the guard are in restore_guard.go,
// the answers to failures in restore_errors.go.

// uploadRestoreOf reads what a restore or an import of one uploaded file
// asks (POST /api/v1/restore/:db, /api/v1/import/:db): the database, once
// the caller is known to hold its restore scopes and online restores are
// allowed, and the restore parameters.
func (s *Server) uploadRestoreOf(c echo.Context) (kv.Name, restoreParams, error) {
	name, err := dbParam(c)
	if err != nil {
		return "", restoreParams{}, err
	}
	if err := require(c, auth.RestoreScopes(string(name))...); err != nil {
		return "", restoreParams{}, err
	}
	if s.opts.NoOnlineRestore {
		return "", restoreParams{}, restoreDisabled(name)
	}
	p, err := restoreParamsOf(c)
	return name, p, err
}

// restore restores one database from an upload (POST /api/v1/restore/:db,
// ?wipe=true for a destructive restore, ?dry_run=true to plan). The upload
// is staged to a file once the restore is admitted (guard, 409 when one
// already runs), then restored as a set's file is.
func (s *Server) restore(c echo.Context) error {
	name, p, err := s.uploadRestoreOf(c)
	if err != nil {
		return err
	}
	var uploaded int64
	out, err := s.runRestore(c, p.request([]kv.Name{name}), func(context.Context, restore.Request) (restore.Sources, error) {
		u, err := s.stageUpload(c, name)
		if err != nil {
			return nil, err
		}
		uploaded = u.size
		src := restore.Source{Database: name, Shown: u.fileName, FileName: u.fileName, ServerFile: u.serverFile,
			Open: backup.FileOpener(u.path), Bytes: u.size, Cleanup: u.remove}
		if src.Shown == "" {
			src.Shown = "the upload"
		}
		return restore.Sources{src}, nil
	}, &uploaded)
	if err != nil {
		return err
	}
	reply := out.Results[0]
	reply.Warnings = append(append([]string{}, out.Warnings...), reply.Warnings...)
	if reply.File.ServerFile != "" {
		reply.Warnings = append(reply.Warnings, serverFileWarning(reply.File.ServerFile))
	}
	return c.JSON(http.StatusOK, reply)
}

// serverFileWarning is the warning of a restore whose form field named a
// file of the server's restore directory instead of uploading one.
func serverFileWarning(file string) string {
	return "the form field \"backup\" named a file, not an upload: this restored " + file +
		" from the server's restore directory (--restore-dir), not a file of yours; to restore your own copy, " +
		"put @ before its name: curl --form backup=@" + file + " ..."
}

// runRestore admits req on the server's databases (guard, one restore of
// a database at a time), plans its sources with plan, runs it and records
// it (metrics, log, the legacy JWT key purge). uploaded, when not nil,
// counts the bytes received for the metrics.
func (s *Server) runRestore(c echo.Context, req restore.Request, plan func(context.Context, restore.Request) (restore.Sources, error), uploaded *int64) (restore.Outcome, error) {
	rs, err := restore.Admit(c.Request().Context(), req, s.servedTargets(), s.restoreOptions(c))
	if err != nil {
		return restore.Outcome{}, s.restoreError(c, err)
	}
	defer rs.Close()
	req = rs.Request()
	if req.DryRun {
		// A dry run holds no database but reads (or, to an instant,
		// rebuilds) the whole backup: it runs as one of the restores of
		// its databases, so they cannot pile up (a 409 as for a restore).
		end, err := s.beginRestores(req.Databases)
		if err != nil {
			return restore.Outcome{}, err
		}
		defer end()
	}
	ctx, cancel := s.opContext(c.Request().Context()) // admitted: the operation starts (see tracked)
	defer cancel()
	if !req.DryRun {
		for _, n := range req.Databases {
			s.metrics.restoreStarted(n, req.Mode())
		}
	}
	start := time.Now()
	sources, err := plan(ctx, req)
	if err != nil {
		if !req.DryRun {
			s.recordRestore(c, req, nil, restore.Outcome{}, err, time.Since(start), uploaded)
		}
		return restore.Outcome{}, err
	}
	defer sources.Close()
	if req.DryRun {
		out, err := rs.Run(ctx, sources)
		if err != nil {
			return out, s.restoreError(c, err)
		}
		for _, r := range out.Results {
			s.log.Info("restore dry run", "request_id", requestID(c), "database", r.Database, "mode", r.Mode, "user", principalOf(c).User,
				"set", sources[0].Set, "added", r.Plan.Added, "overwritten", r.Plan.Changed, "removed_by_wipe", r.Plan.Removed)
		}
		return out, nil
	}
	out, err := rs.Run(ctx, sources)
	for _, n := range req.Databases {
		s.purgeLegacyJWTKey(n, requestID(c))
	}
	s.recordRestore(c, req, sources, out, err, time.Since(start), uploaded)
	if err != nil {
		return out, s.restoreError(c, err)
	}
	return out, nil
}

// recordRestore counts a restore in the metrics and logs each database
// restored.
func (s *Server) recordRestore(c echo.Context, req restore.Request, sources restore.Sources, out restore.Outcome, err error, took time.Duration, uploaded *int64) {
	var sent int64
	if uploaded != nil {
		sent = *uploaded
	}
	written := map[string]uint64{}
	for _, r := range out.Results {
		written[r.Database] = r.Written
	}
	reason := ""
	if err != nil {
		reason = "error"
		var f *restore.Failure
		if errors.As(err, &f) {
			err = s.restoreError(c, err)
		}
		if status, _ := describe(err, ""); status < 500 {
			reason = "input"
		}
	}
	for _, n := range req.Databases {
		s.metrics.restoreFinished(n, req.Mode(), took, sent, written[string(n)], reason)
	}
	if len(out.Results) > 0 {
		s.refreshCatalogMetrics()
	}
	for i, r := range out.Results {
		s.log.Info("restore complete", "request_id", requestID(c), "database", r.Database, "mode", r.Mode,
			"user", principalOf(c).User, "set", sources[i].Set, "written", r.Written, "file_sha256", r.File.SHA256,
			"safety_snapshot", r.SafetySnapshot, "set_aside", r.SetAside)
	}
}
