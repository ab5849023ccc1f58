package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/kv"
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

// keepsSafetyCopy reports whether a restore with p keeps a safety copy:
// the pre_restore set, or without it a wipe's previous directory.
func (p restoreParams) keepsSafetyCopy() bool {
	return !p.noSnapshot || (p.wipe && !p.discardPrevious)
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
	if p.discardPrevious && !p.wipe {
		return p, badRequest("discard_previous=true only applies with wipe=true",
			"nothing was changed; a merge keeps no previous directory: leave discard_previous out, or add wipe=true")
	}
	return p, nil
}

// givenUp says which safety copies p turns off, and whether any is left;
// "" when p keeps both.
func (p restoreParams) givenUp() (what string, undoable bool) {
	switch {
	case p.noSnapshot && p.discardPrevious:
		return "no safety snapshot is taken and the previous database directory is deleted", false
	case p.noSnapshot && p.wipe:
		return "no safety snapshot is taken (the previous database directory is still kept aside)", true
	case p.noSnapshot:
		return "no safety snapshot is taken before the merge", false
	case p.discardPrevious:
		return "the previous database directory is deleted, not kept aside (the safety snapshot still holds the database)", true
	}
	return "", true
}

// guard refuses a restore that turns a safety copy off (no_safety_snapshot,
// discard_previous) unless the catalog holds a restore-verified set of each
// of names; skip_backup_check=true lets it through. Either way it returns
// the warnings the answer carries, saying what is given up. Without those
// flags it does nothing.
func (s *Server) guard(c echo.Context, p restoreParams, names []kv.Name) ([]string, error) {
	what, undoable := p.givenUp()
	if what == "" {
		return nil, nil
	}
	if p.skipCheck {
		consequence := "this restore cannot be undone"
		if undoable {
			consequence = "the remaining safety copy is the only way back"
		}
		return []string{fmt.Sprintf("%s, and no restore-verified backup was required (skip_backup_check=true): %s", what, consequence)}, nil
	}
	for _, n := range names {
		ok, err := s.catalog.cat.HasVerified(c.Request().Context(), string(n))
		if err != nil {
			return nil, s.catalogUnreadable(c, err)
		}
		if !ok {
			return nil, &apiError{status: http.StatusConflict, code: CodeNoVerifiedSet, msg: fmt.Sprintf(
				"restore refused: %s, and the backup catalog holds no restore-verified set of the %s database to fall back on", what, n),
				hint: "nothing was changed; keep the safety copy (leave out no_safety_snapshot / discard_previous), " +
					"verify a set first (POST /api/v1/backups/ID/verify, or `flowg backups verify --latest`), " +
					"or add skip_backup_check=true to accept the risk"}
		}
	}
	return []string{fmt.Sprintf("%s; the catalog's newest restore-verified set of %s is the way back to an earlier state", what, joinKVNames(names))}, nil
}

func joinKVNames(names []kv.Name) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}
