package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// The answers of a restore that was refused or stopped: the status code
// and hint follow the step it stopped at (restore.Failure), never its text.

// restoreError answers err, returned by restore.Admit or Restore.Run.
func (s *Server) restoreError(c echo.Context, err error) error {
	var ae *apiError
	var refused *restore.Unprotected
	var f *restore.Failure
	switch {
	case errors.As(err, &refused):
		return &apiError{status: http.StatusConflict, code: CodeNoVerifiedSet, cause: err, msg: "restore refused: " + err.Error(),
			hint: "nothing was changed; keep the safety copy (leave out no_safety_snapshot / discard_previous), " +
				"verify a set first (POST /api/v1/backups/ID/verify, or `flowg backups verify --latest`), " +
				"or add skip_backup_check=true to accept the risk"}
	case errors.Is(err, restore.ErrInvalidRequest):
		return badRequest(err.Error(), "nothing was changed")
	case !errors.As(err, &f):
		if errors.As(err, &ae) {
			return err
		}
		return internal("the restore could not start", "nothing was changed; see the server log for request "+requestID(c), err)
	case errors.As(f.Err, &ae), errors.Is(f.Err, context.Canceled):
		return withDone(c, f, f.Err)
	}
	switch f.Step {
	case restore.StepAdmit:
		if f.Database != "" && errors.Is(f.Err, kv.ErrMountPoint) {
			return &apiError{status: http.StatusConflict, cause: f.Err, msg: f.Err.Error(),
				hint: "nothing was changed; restore without wipe=true (a merge), or keep the database in a directory inside the mount"}
		}
		if errors.Is(f.Err, backup.ErrTooManySafetyCopies) {
			return f.Err
		}
		return s.catalogUnreadable(c, f.Err)
	case restore.StepOpen:
		return f.Err
	case restore.StepCheck:
		return withDone(c, f, fileRefusal(c, f))
	case restore.StepSnapshot:
		return internal("the safety snapshot could not be written, so the restore did not start", fmt.Sprintf(
			"nothing was changed; free space in the backup catalog %s or fix its permissions (flowg serve --backup-dir)", s.catalog.cat.Dir()), f.Err)
	case restore.StepWrite:
		if f.Partial() {
			return withDone(c, f, internal(fmt.Sprintf("the merge stopped after up to %d keys were written", f.Written),
				fmt.Sprintf("the %s database may hold part of the backup; %s", f.Database, f.Undo), f.Err))
		}
		if backup.IsInputError(f.Err) {
			return withDone(c, f, fileRefusal(c, f))
		}
		return withDone(c, f, internal("the restored database could not be built",
			fmt.Sprintf("nothing was changed: the %s database was not swapped; see the server log for request %s", f.Database, requestID(c)), f.Err))
	case restore.StepAfter:
		return withDone(c, f, internal(fmt.Sprintf("the %s database was merged, but the keys deleted before the instant could not all be deleted", f.Database),
			"the safety snapshot of this restore undoes it; retry the restore", f.Err))
	}
	hint := fmt.Sprintf("the restored %s database was built but not swapped in cleanly; see the server log for request %s", f.Database, requestID(c))
	if f.SetAside != "" {
		hint += "; the previous database directory is at " + f.SetAside
	}
	return withDone(c, f, internal("the restored database could not be swapped in", hint+"; "+f.Undo, f.Err))
}

// fileRefusal is the 400 (or 413 / 507 from the size guard) for a file
// that failed its checks.
func fileRefusal(c echo.Context, f *restore.Failure) error {
	err := f.Err
	if errors.Is(err, backup.ErrTooLarge) || errors.Is(err, backup.ErrNoSpace) {
		return err // 413 / 507, see describe
	}
	if !backup.IsInputError(err) {
		return internal("the backup file could not be checked", "nothing was changed; see the server log for request "+requestID(c), err)
	}
	hint := "nothing was changed; " + inputHint(err)
	if f.Set != "" {
		hint = fmt.Sprintf("nothing was changed; the set's file is damaged: verify the set (POST /api/v1/backups/%s/verify) "+
			"and restore another one from GET /api/v1/backups", f.Set)
	}
	return &apiError{status: http.StatusBadRequest, cause: err, msg: "restore refused: " + err.Error(), hint: hint}
}

// withDone adds to the answer of a restore of several databases which were
// already restored, and their safety snapshots.
func withDone(c echo.Context, f *restore.Failure, err error) error {
	if len(f.Done) == 0 {
		return err
	}
	status, body := describe(err, requestID(c))
	var parts []string
	for _, r := range f.Done {
		part := r.Database
		if r.SafetySnapshot != "" {
			part += " (safety snapshot " + r.SafetySnapshot + ")"
		}
		parts = append(parts, part)
	}
	what := "already restored"
	if f.Set != "" {
		what += " from set " + f.Set
	}
	return &apiError{status: status, cause: err, msg: body.Error, hint: fmt.Sprintf("%s; %s: %s", body.Hint, what, strings.Join(parts, ", "))}
}
