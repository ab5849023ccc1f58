package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// Restoring the databases to an instant of the catalog's journal
// (POST /api/v1/backups/restore?at=TIME): each database rebuilt as it was
// at TIME (a set and the journal after it), then restored through
// restoreFromFile as a set is; a merge also deletes the keys deleted
// between the set and TIME.

// restoreAt restores every database (or those ?only= names) to ?at=, an
// RFC 3339 instant or latest, with the restore scopes of each; ?wipe=true
// and the other restore parameters work as for a set. Every database is
// rebuilt and checked before the first one changes.
func (s *Server) restoreAt(c echo.Context) error {
	at, latest, err := backup.ParseAt(c.QueryParam("at"))
	if err != nil {
		return badRequest("at: "+err.Error(), "nothing was changed")
	}
	p, err := restoreParamsOf(c)
	if err != nil {
		return err
	}
	if p.dryRun {
		return badRequest("dry_run=true is not available with at=: a restore to an instant also deletes keys, which a dry run does not count",
			"nothing was changed; leave dry_run out, or dry-run a set (POST /api/v1/backups/{id}/restore?dry_run=true)")
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
		end, err := s.beginRestore(n)
		if err != nil {
			return err
		}
		defer end()
	}
	start := time.Now()
	reply := &restore.AtResult{At: c.QueryParam("at"), Mode: p.mode(), Restores: []restore.Result{}, Warnings: append([]string{}, warnings...)}
	rebuilt := &atSources{points: map[kv.Name][][]byte{}}
	defer func() {
		for _, src := range rebuilt.sources {
			if src != nil && src.cleanup != nil {
				src.cleanup()
			}
		}
	}()
	if err := s.rebuildAt(c, names, at, latest, reply, rebuilt); err != nil {
		return err
	}
	for i, n := range names {
		src := rebuilt.sources[i]
		rebuilt.sources[i] = nil // restoreFromFile cleans it up
		r, err := s.restoreFromFile(c, n, p, func() (*restoreSource, error) { return src, nil })
		if err != nil {
			return err
		}
		reply.Restores = append(reply.Restores, r)
		if !p.wipe {
			if err := s.deleteBeforeInstant(n, reply, rebuilt.points[n]); err != nil {
				return err
			}
		}
	}
	reply.Duration = time.Since(start).Round(time.Millisecond).String()
	return c.JSON(http.StatusOK, reply)
}

// rebuildAt rebuilds every database at the instant and checks the result,
// before any database changes; a database the journal does not cover
// refuses the whole restore.
// atSources are the databases rebuilt at the instant, before the first
// one changes, and the keys a merge then deletes.
type atSources struct {
	sources []*restoreSource
	points  map[kv.Name][][]byte
}

func (s *Server) rebuildAt(c echo.Context, names []kv.Name, at time.Time, latest bool, reply *restore.AtResult, rebuilt *atSources) error {
	ctx, cancel := s.opContext(c.Request().Context())
	defer cancel()
	// Retention and DELETE wait until the sets are read.
	release, err := s.catalog.cat.HoldSets(c.Request().Context())
	if err != nil {
		return s.catalogUnreadable(c, err)
	}
	defer release()
	for _, n := range names {
		open, cleanup, pit, err := s.catalog.cat.RestorableAt(ctx, string(n), at, latest, s.opts.UploadDir)
		if err != nil {
			if errors.Is(err, backup.ErrNotCovered) {
				return &apiError{status: http.StatusBadRequest, code: CodeJournalNotCovered, cause: err, msg: "restore refused: " + err.Error(),
					hint: "nothing was changed; choose an instant within the window named, or at=latest"}
			}
			if errors.Is(err, backup.ErrSetNotFound) {
				return &apiError{status: http.StatusBadRequest, code: CodeBackupMissingFile, cause: err, msg: "restore refused: " + err.Error(),
					hint: "nothing was changed; the set the journal starts from is gone: restore an instant after a newer set, or restore a set"}
			}
			return refusal(c, nil, err)
		}
		src := &restoreSource{open: open, fileName: fmt.Sprintf("%s at %s", filepath.Base(backup.FileName(string(n))), pit.Instant.Format(time.RFC3339Nano)),
			set: pit.BaseSet, cleanup: cleanup}
		rebuilt.sources = append(rebuilt.sources, src)
		if _, _, err := checkSource(ctx, src, n, s.sizeGuard(n).MaxBytes); err != nil {
			return refusal(c, src, err)
		}
		rebuilt.points[n] = pit.Deleted
		pit.Deleted = nil
		reply.Instants = append(reply.Instants, pit)
	}
	return nil
}

// deleteBeforeInstant deletes, after a merge, the keys of database n
// deleted between the base set and the instant.
func (s *Server) deleteBeforeInstant(n kv.Name, reply *restore.AtResult, points [][]byte) error {
	db, release, err := s.store.Acquire(n)
	if err != nil {
		return err
	}
	defer release()
	deleted, err := backup.DeleteKeys(db, points)
	if err != nil {
		return internal(fmt.Sprintf("the %s database was merged, but the keys deleted before the instant could not all be deleted", n),
			"the safety snapshot of this restore undoes it; retry the restore", err)
	}
	if reply.Deleted == nil {
		reply.Deleted = map[string]int{}
	}
	reply.Deleted[string(n)] = deleted
	return nil
}
