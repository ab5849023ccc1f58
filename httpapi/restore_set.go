package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// Restoring a set of the backup catalog (POST /api/v1/backups/:id/restore):
// every database it holds, or those ?only= names, each through
// restoreFromFile as an upload is, after every file of the set was checked.

// restoreSet restores the databases of a catalog set
// (POST /api/v1/backups/:id/restore, ?only=, ?wipe=true), each with
// restoreFromFile as an upload is, one after the other, after checking every
// file of the set so a damaged file changes no database. It needs the write
// scopes of every database it restores. A set that failed its verification,
// is incomplete or still running is refused.
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
	if p.wipe {
		for _, n := range names {
			if err := s.checkWipeable(n); err != nil {
				return err
			}
		}
	}
	warnings, err := s.guard(c, p, names)
	if err != nil {
		return err
	}
	for _, n := range names {
		if p.dryRun {
			break // a dry run writes nothing: it runs beside a restore
		}
		end, err := s.beginRestore(n)
		if err != nil {
			return err
		}
		defer end()
	}
	// Retention and DELETE wait until the set is read.
	release, err := s.catalog.cat.HoldSets(c.Request().Context())
	if err != nil {
		return s.catalogUnreadable(c, err)
	}
	defer release()
	if info, err = s.catalog.cat.Get(c.Request().Context(), info.ID); err != nil {
		return setNotFound(c.Param("id"))
	}
	start := time.Now()
	if len(names) > 1 && !p.dryRun { // a dry run checks each file whole as it plans
		ctx, cancel := s.opContext(c.Request().Context())
		defer cancel()
		for _, n := range names {
			src, err := s.setSource(ctx, info, n)
			if err != nil {
				return err
			}
			guard := s.sizeGuard(n)
			err = guard.CheckFile(ctx, src.open)
			var sum backup.Summary
			if err == nil {
				_, sum, err = checkSource(ctx, src, n, guard.MaxBytes)
			}
			if err == nil {
				err = guard.Check(sum.Bytes)
			}
			if src.cleanup != nil {
				src.cleanup()
			}
			if err != nil {
				return refusal(c, src, err)
			}
		}
	}
	reply := restore.SetResult{Set: info.ID, Mode: p.mode(), DryRun: p.dryRun, Restores: []restore.Result{}, Warnings: append([]string{}, warnings...)}
	for _, n := range names {
		r, err := s.restoreFromFile(c, n, p, func() (*restoreSource, error) { return s.setSource(c.Request().Context(), info, n) })
		if err != nil {
			return restoredSoFar(c, err, info.ID, reply.Restores)
		}
		reply.Restores = append(reply.Restores, r)
	}
	reply.Duration = time.Since(start).Round(time.Millisecond).String()
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

// setSource opens database n as a set holds it: its file, or for an
// incremental set the state rebuilt from its chain (in UploadDir). A full
// set's file must have the SHA-256 its manifest records.
func (s *Server) setSource(ctx context.Context, info backup.SetInfo, n kv.Name) (*restoreSource, error) {
	entry := info.Databases[string(n)]
	open, cleanup, err := s.catalog.cat.Restorable(ctx, info.ID, string(n), s.opts.UploadDir)
	if err != nil {
		if backup.IsInputError(err) {
			return nil, &apiError{status: http.StatusBadRequest, cause: err,
				msg:  fmt.Sprintf("restore refused: backup set %s: %v", info.ID, err),
				hint: "nothing was changed; verify the set (POST /api/v1/backups/" + info.ID + "/verify) and restore another one from GET /api/v1/backups"}
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, &apiError{status: http.StatusConflict, cause: err,
			msg:  fmt.Sprintf("backup set %s: the %s backup cannot be read: %v", info.ID, n, err),
			hint: "nothing was changed; list the sets with GET /api/v1/backups and pick another"}
	}
	want := entry.SHA256
	if entry.Encrypted {
		want = entry.PlainSHA256
	}
	if info.Parent != "" {
		want = "" // rebuilt from the chain, whose links were checked
	}
	return &restoreSource{open: open, fileName: filepath.Base(entry.File), size: entry.Bytes, sha256: want, set: info.ID, cleanup: cleanup,
		keepStreams: entry.ExcludedStreams}, nil
}

// restoredSoFar adds to the error of a set restore which databases were
// already restored, and their safety snapshots.
func restoredSoFar(c echo.Context, err error, id string, done []restore.Result) error {
	if len(done) == 0 {
		return err
	}
	status, body := describe(err, requestID(c))
	var parts []string
	for _, r := range done {
		part := r.Database
		if r.SafetySnapshot != "" {
			part += " (safety snapshot " + r.SafetySnapshot + ")"
		}
		parts = append(parts, part)
	}
	return &apiError{status: status, cause: err, msg: body.Error,
		hint: fmt.Sprintf("%s; already restored from set %s: %s", body.Hint, id, strings.Join(parts, ", "))}
}
