package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// Restoring the databases to an instant of the catalog's journal
// (POST /api/v1/backups/restore?at=TIME): each database rebuilt as it was
// at TIME (a set and the journal after it, restore.PlanAt), then restored
// through the restore use case as a set is; a merge also deletes the keys
// deleted between the set and TIME. With dry_run=true it says what would
// change, those deletions included, and writes nothing.

// restoreAt restores every database (or those ?only= names) to ?at=, an
// RFC 3339 instant or latest, with the restore scopes of each; ?wipe=true
// and the other restore parameters work as for a set. Every database is
// rebuilt and checked before the first one changes.
func (s *Server) restoreAt(c echo.Context) error {
	if _, _, err := backup.ParseAt(c.QueryParam("at")); err != nil {
		return badRequest("at: "+err.Error(), "nothing was changed")
	}
	p, err := restoreParamsOf(c)
	if err != nil {
		return err
	}
	names := kv.Names
	if c.QueryParam("only") != "" {
		if names, err = onlyParam(c); err != nil {
			return err
		}
	}
	if err := require(c, restoreScopes(names)...); err != nil {
		return err
	}
	if s.opts.NoOnlineRestore {
		return &apiError{status: http.StatusForbidden, code: CodeRestoreDisabled,
			msg:  "online restore is disabled on this server (it was started with --no-online-restore)",
			hint: "nothing was changed; restore offline: stop the server, then run `flowg admin restore --backup-dir CATALOG --at TIME`"}
	}
	req := p.request(names)
	req.At = c.QueryParam("at")
	start := time.Now()
	out, err := s.runRestore(c, req, func(ctx context.Context, req restore.Request) (restore.Sources, error) {
		// Retention and DELETE wait until the sets are read.
		release, err := s.catalog.cat.HoldSets(c.Request().Context())
		if err != nil {
			return nil, s.catalogUnreadable(c, err)
		}
		defer release()
		sources, err := restore.PlanAt(ctx, s.catalog.cat, req, s.opts.UploadDir)
		return sources, atSourceError(err)
	}, nil)
	if err != nil {
		return err
	}
	reply := restore.AtResult{At: req.At, Mode: p.mode(), DryRun: p.dryRun, Restores: out.Results, Warnings: out.Warnings,
		Duration: time.Since(start).Round(time.Millisecond).String()}
	for _, r := range out.Results {
		reply.Instants = append(reply.Instants, *r.Instant)
	}
	for n, deleted := range out.Deleted {
		if reply.Deleted == nil {
			reply.Deleted = map[string]int{}
		}
		reply.Deleted[string(n)] = deleted
	}
	if reply.Restores == nil {
		reply.Restores = []restore.Result{}
	}
	if reply.Warnings == nil {
		reply.Warnings = []string{}
	}
	return c.JSON(http.StatusOK, reply)
}

// atSourceError answers a database the journal cannot rebuild at the
// instant.
func atSourceError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, backup.ErrNotCovered):
		return &apiError{status: http.StatusBadRequest, code: CodeJournalNotCovered, cause: err, msg: "restore refused: " + err.Error(),
			hint: "nothing was changed; choose an instant within the window named, or at=latest"}
	case errors.Is(err, backup.ErrSetNotFound):
		return &apiError{status: http.StatusBadRequest, code: CodeBackupMissingFile, cause: err, msg: "restore refused: " + err.Error(),
			hint: "nothing was changed; the set the journal starts from is gone: restore an instant after a newer set, or restore a set"}
	case backup.IsInputError(err):
		return &apiError{status: http.StatusBadRequest, cause: err, msg: "restore refused: " + err.Error(), hint: "nothing was changed; " + inputHint(err)}
	}
	return err
}
