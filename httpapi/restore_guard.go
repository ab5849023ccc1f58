package httpapi

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// The query parameters both restore routes take, and the guard on restores
// that turn a safety copy off (no_safety_snapshot, discard_previous).

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

// restoreParams are the query parameters of both restore routes.
type restoreParams struct {
	wipe            bool // wipe=true: afterwards the database holds exactly the file's keys
	noSnapshot      bool // no_safety_snapshot=true: no pre_restore set is written first
	discardPrevious bool // discard_previous=true (with wipe): the previous directory is deleted
	skipCheck       bool // skip_backup_check=true: allow the two above without a restore-verified set
	dryRun          bool // dry_run=true: check the file whole and say what would change; write nothing
}

func (p restoreParams) mode() string {
	if p.wipe {
		return modeWipe
	}
	return modeMerge
}

// restoreParamsOf parses wipe, no_safety_snapshot, discard_previous,
// skip_backup_check and dry_run.
func restoreParamsOf(c echo.Context) (restoreParams, error) {
	var p restoreParams
	var err error
	if p.wipe, err = wipeParam(c); err != nil {
		return p, err
	}
	const hint = "use no_safety_snapshot=true, discard_previous=true or skip_backup_check=true, or leave them out"
	if p.noSnapshot, err = boolParam(c, "no_safety_snapshot", hint); err != nil {
		return p, err
	}
	if p.discardPrevious, err = boolParam(c, "discard_previous", hint); err != nil {
		return p, err
	}
	if p.skipCheck, err = boolParam(c, "skip_backup_check", hint); err != nil {
		return p, err
	}
	if p.dryRun, err = boolParam(c, "dry_run", "use dry_run=true to check the file and count what would change, or leave it out"); err != nil {
		return p, err
	}
	req := p.request(nil)
	if err := req.Validate(); err != nil {
		var bad *restore.RequestError
		if errors.As(err, &bad) && bad.Option == "DiscardPrevious" {
			return p, badRequest("discard_previous=true only applies with wipe=true",
				"nothing was changed; a merge keeps no previous directory: leave discard_previous out, or add wipe=true")
		}
		return p, badRequest(err.Error(), "nothing was changed")
	}
	return p, nil
}

// request is the restore p asks for, of names.
func (p restoreParams) request(names []kv.Name) restore.Request {
	return restore.Request{Databases: names, Wipe: p.wipe, DryRun: p.dryRun, NoSafetySnapshot: p.noSnapshot,
		DiscardPrevious: p.discardPrevious, SkipBackupCheck: p.skipCheck}
}

// guard is restore.Guard for an import (import.go), which runs as a
// merge restore: a 409 (CodeNoVerifiedSet) when it refuses. The restores
// themselves are guarded inside restore.Admit.
func (s *Server) guard(c echo.Context, p restoreParams, names []kv.Name) ([]string, error) {
	warnings, err := restore.Guard(c.Request().Context(), p.request(names), true, s.catalog.cat)
	var refused *restore.Unprotected
	switch {
	case errors.As(err, &refused):
		return nil, s.restoreError(c, err)
	case err != nil:
		return nil, s.catalogUnreadable(c, err)
	}
	return warnings, nil
}
