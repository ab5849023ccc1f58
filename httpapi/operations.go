package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/operations"
)

// The history of operations (GET /api/v1/operations,
// GET /api/v1/operations/:id): the backups, verifications and restores run
// against the catalog, by this server or offline, kept in the catalog by
// package operations.

// Bounds of ?limit= of GET /api/v1/operations.
const (
	defaultOperationsLimit = 100
	maxOperationsLimit     = 1000
)

// operationsReply is the answer of GET /api/v1/operations. NextBefore is
// the ?before= of the next page, null on the last.
type operationsReply struct {
	Operations []operations.Record `json:"operations"`
	NextBefore *string             `json:"next_before"`
}

// openOperations sets up the history of the server's catalog.
func (s *Server) openOperations() {
	s.ops = operations.NewTracker(operations.NewHistory(s.catalog.cat, s.opts.OperationsKeep, s.log), nil)
}

// listOperations answers the history, newest first
// (GET /api/v1/operations?limit=&before=). Scopes as for the list of sets.
func (s *Server) listOperations(c echo.Context) error {
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	limit := defaultOperationsLimit
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxOperationsLimit {
			return &apiError{status: http.StatusBadRequest, code: CodeInvalidRequest,
				msg:  fmt.Sprintf("limit=%q is not a number from 1 to %d", truncateParam(v), maxOperationsLimit),
				hint: fmt.Sprintf("leave limit out for %d operations, or page with ?before=<id of the last one listed>", defaultOperationsLimit)}
		}
		limit = n
	}
	before := c.QueryParam("before")
	if before != "" && !operations.ValidID(before) {
		return &apiError{status: http.StatusBadRequest, code: CodeInvalidRequest,
			msg:  fmt.Sprintf("before=%q is not an operation id", truncateParam(before)),
			hint: "give the id of the last operation of the previous page (its next_before), like 20261206T070000.000000Z-a1b2c3"}
	}
	list, err := s.ops.List(c.Request().Context(), before, limit)
	if err != nil {
		return s.catalogUnreadable(c, err)
	}
	reply := operationsReply{Operations: list}
	if len(list) == limit {
		next := list[len(list)-1].ID
		reply.NextBefore = &next
	}
	return c.JSON(http.StatusOK, reply)
}

// getOperation answers one operation with its live progress
// (GET /api/v1/operations/:id); while this server remembers it, with the
// answer its request got ("result") when the caller holds the backup
// scopes of every database it is about. Scopes as for the list of sets.
func (s *Server) getOperation(c echo.Context) error {
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	id := c.Param("id")
	r, err := s.ops.Get(c.Request().Context(), id)
	switch {
	case errors.Is(err, operations.ErrNotFound):
		return &apiError{status: http.StatusNotFound, code: CodeNotFound, msg: fmt.Sprintf("operation %q not found", truncateParam(id)),
			hint: "operation ids look like 20261206T070000.000000Z-a1b2c3; list them with GET /api/v1/operations (the history keeps the newest --operations-keep)"}
	case err != nil:
		return s.catalogUnreadable(c, err)
	}
	if !mayReadResult(c, r.Databases) {
		r.Result = nil // the answer of a restore of auth is not for a read_streams token
	}
	return c.JSON(http.StatusOK, r)
}

// mayReadResult reports whether the caller holds the backup scopes of
// every database an operation is about, and so may read its answer.
func mayReadResult(c echo.Context, databases []string) bool {
	for _, db := range databases {
		name, err := kv.ParseName(db)
		if err != nil || require(c, auth.BackupScopes(string(name))...) != nil {
			return false
		}
	}
	return true
}

// aboutOnly is the aboutFunc of a take or a restore to an instant: the
// databases of ?only=, every one when absent.
func aboutOnly(c echo.Context) ([]string, string) {
	names, err := kv.ParseNames(c.QueryParam("only"))
	if err != nil || len(names) == 0 {
		names = kv.Names
	}
	return kv.Strings(names), ""
}

// aboutSet is the aboutFunc of a verify or restore of the set :id: the
// databases of ?only=, else the set's.
func (s *Server) aboutSet(c echo.Context) ([]string, string) {
	id := c.Param("id")
	if only := c.QueryParam("only"); only != "" {
		if names, err := kv.ParseNames(only); err == nil {
			return kv.Strings(names), id
		}
	}
	info, err := s.catalog.cat.Get(c.Request().Context(), id)
	if err != nil {
		return []string{}, id
	}
	return setNames(info), id
}

// aboutUpload is the aboutFunc of a restore of an upload: the database :db.
func aboutUpload(c echo.Context) ([]string, string) {
	return []string{c.Param("db")}, ""
}

// backupOperation returns the operation a backup run reports its progress
// to: the tracked request's, or for a run of the server's own (scheduled)
// a new one, which finish ends. Its total is an estimate: the logical bytes
// of the newest complete set of each database.
func (s *Server) backupOperation(ctx context.Context, run BackupRun) (*operations.Op, func(backup.SetInfo, error)) {
	names := run.Names
	if len(names) == 0 {
		names = kv.Names
	}
	op := operations.FromContext(ctx)
	finish := func(backup.SetInfo, error) {} // the tracked request ends it from its answer
	if op == nil {
		op = s.ops.Start(operations.Start{Kind: operations.KindBackup, Trigger: run.Trigger, Who: run.By, Databases: kv.Strings(names)})
		finish = func(info backup.SetInfo, err error) {
			switch {
			case err != nil:
				op.FinishErr(ctx, err)
			case info.Label == backup.LabelVerifyFailed:
				op.Finish(ctx, "verify failed: "+info.Problem)
			default:
				op.Finish(ctx, "")
			}
		}
	}
	op.SetTotal(s.estimateBytes(ctx, names))
	return op, finish
}

// estimateBytes sums the logical bytes of the newest complete set holding
// each of names (0 for a database never backed up).
func (s *Server) estimateBytes(ctx context.Context, names []kv.Name) uint64 {
	sets, err := s.catalog.cat.List(ctx)
	if err != nil {
		return 0
	}
	var total uint64
	for _, n := range names {
		for _, set := range sets {
			if e, ok := set.Databases[string(n)]; ok && (set.Label == backup.LabelCreated || set.Label == backup.LabelRestoreVerified) && e.SinceTs == 0 {
				total += e.LogicalBytes
				break
			}
		}
	}
	return total
}
