package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// Restoring a set of the backup catalog (POST /api/v1/backups/:id/restore):
// every database it holds, or those ?only= names, through the restore use
// case (runRestore), which checks every file of the set before the first
// database changes.

// restoreSet restores the databases of a catalog set
// (POST /api/v1/backups/:id/restore, ?only=, ?wipe=true). It needs the write
// scopes of every database it restores. A set that failed its
// verification, is incomplete or still running is refused.
func (s *Server) restoreSet(c echo.Context) error {
	info, err := s.lookupSet(c)
	if err != nil {
		return err
	}
	p, err := restoreParamsOf(c)
	if err != nil {
		return err
	}
	names, err := setRestoreNames(c, info)
	if err != nil {
		return err
	}
	if err := require(c, restoreScopes(names)...); err != nil {
		return err
	}
	if s.opts.NoOnlineRestore {
		return &apiError{status: http.StatusForbidden,
			msg: "online restore is disabled on this server (it was started with --no-online-restore)",
			hint: fmt.Sprintf("nothing was changed; restore offline: stop the server, then run "+
				"`flowg admin restore --backup-dir %s` (add --wipe for a destructive restore)", s.setLocation(info.ID))}
	}
	if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
		return setUnusable(info, "restored")
	}
	start := time.Now()
	out, err := s.runRestore(c, p.request(names), func(ctx context.Context, req restore.Request) (restore.Sources, error) {
		// Retention and DELETE wait until the set is read: the hold ends
		// when the sources are closed, once the restore is over.
		release, err := s.catalog.cat.HoldSets(c.Request().Context())
		if err != nil {
			return nil, s.catalogUnreadable(c, err)
		}
		if info, err = s.catalog.cat.Get(c.Request().Context(), info.ID); err != nil {
			release()
			return nil, setNotFound(c.Param("id"))
		}
		sources, err := restore.PlanSet(ctx, s.catalog.cat, info, req.Databases, s.opts.UploadDir)
		if err != nil {
			release()
			return nil, setSourceError(info.ID, err)
		}
		return withRelease(sources, release), nil
	}, nil)
	if err != nil {
		return err
	}
	reply := restore.SetResult{Set: info.ID, Mode: p.mode(), DryRun: p.dryRun, Restores: out.Results, Warnings: out.Warnings,
		Duration: time.Since(start).Round(time.Millisecond).String()}
	if reply.Restores == nil {
		reply.Restores = []restore.Result{}
	}
	if reply.Warnings == nil {
		reply.Warnings = []string{}
	}
	return c.JSON(http.StatusOK, reply)
}

// setRestoreNames returns the databases of a set that ?only= names (all of
// them when absent); naming one the set lacks is a 400.
func setRestoreNames(c echo.Context, info backup.SetInfo) ([]kv.Name, error) {
	held := setKVNames(info)
	if c.QueryParam("only") == "" {
		if len(held) == 0 {
			return nil, setUnusable(info, "restored")
		}
		return held, nil
	}
	names, err := onlyParam(c)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := info.Databases[string(n)]; !ok {
			err := setLacks(info, n).(*apiError)
			err.status = http.StatusBadRequest
			err.hint = "nothing was changed; " + err.hint
			return nil, err
		}
	}
	return names, nil
}

// setSourceError answers a database of set id that cannot be opened for a
// restore: a damaged chain is a 400, a file that cannot be read a 409.
func setSourceError(id string, err error) error {
	var se *restore.SetError
	if !errors.As(err, &se) {
		return err
	}
	if backup.IsInputError(se.Err) {
		return &apiError{status: http.StatusBadRequest, cause: se.Err,
			msg:  fmt.Sprintf("restore refused: backup set %s: %v", id, se.Err),
			hint: "nothing was changed; verify the set (POST /api/v1/backups/" + id + "/verify) and restore another one from GET /api/v1/backups"}
	}
	if errors.Is(se.Err, context.Canceled) {
		return se.Err
	}
	return &apiError{status: http.StatusConflict, cause: se.Err,
		msg:  fmt.Sprintf("backup set %s: the %s backup cannot be read: %v", id, se.Database, se.Err),
		hint: "nothing was changed; list the sets with GET /api/v1/backups and pick another"}
}

// withRelease makes closing sources also call release.
func withRelease(sources restore.Sources, release func()) restore.Sources {
	if len(sources) == 0 {
		release()
		return sources
	}
	last := &sources[len(sources)-1]
	cleanup := last.Cleanup
	last.Cleanup = func() {
		if cleanup != nil {
			cleanup()
		}
		release()
	}
	return sources
}
