package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
)

// importReply is the answer to POST /api/v1/import/:db. Its shape only ever
// gains fields.
type importReply struct {
	Database string                         `json:"database"`
	DryRun   bool                           `json:"dry_run"`
	Lines    uint64                         `json:"lines"`
	Changes  map[export.Kind]*export.Counts `json:"changes"`
	// SafetySnapshot is the pre_restore set holding the database as it was
	// before the import; "" when nothing changed or no_safety_snapshot.
	SafetySnapshot    string   `json:"safety_snapshot"`
	SafetySnapshotDir string   `json:"safety_snapshot_dir"`
	Undo              string   `json:"undo"`
	Warnings          []string `json:"warnings"`
	Duration          string   `json:"duration"`
}

// importDB merges a portable JSON-lines export of one database into it
// (POST /api/v1/import/:db, the file as the body or the multipart field
// "backup"; ?dry_run=true only counts). It takes the restore scopes of the
// database and runs as one of its restores (409 while another runs). The
// upload is staged (--upload-dir, --max-upload) and checked whole — every
// line, and that every line belongs to this database — before anything is
// written. If it would change anything, a safety snapshot of the database
// goes into the catalog first (unless no_safety_snapshot=true, which the
// restore guard allows only with a restore-verified set), and the reply
// says how to undo. Requests on the database go on meanwhile, as in a merge
// restore.
func (s *Server) importDB(c echo.Context) error {
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
	if p.wipe {
		return badRequest("wipe=true does not apply to an import, which always merges",
			"nothing was changed; leave wipe out, or restore a backup file with POST /api/v1/restore/"+string(name)+"?wipe=true")
	}
	dryRun, err := boolParam(c, "dry_run", "use dry_run=true to only count what would change")
	if err != nil {
		return err
	}
	warnings, err := s.guard(c, p, []kv.Name{name})
	if err != nil {
		return err
	}
	end, err := s.beginRestore(name)
	if err != nil {
		return err
	}
	defer end()
	start := time.Now()
	u, err := s.stageUpload(c, name)
	if err != nil {
		return err
	}
	defer u.remove()

	run := &restoreRun{s: s, c: c, name: name, p: p, user: principalOf(c).User}
	reply := importReply{Database: string(name), DryRun: dryRun, Warnings: append([]string{}, warnings...)}
	err = run.importFile(u.path, dryRun, &reply)
	reply.Duration = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		return err
	}
	s.log.Info("import complete", "request_id", requestID(c), "database", name, "user", run.user,
		"dry_run", dryRun, "lines", reply.Lines, "safety_snapshot", reply.SafetySnapshot)
	return c.JSON(http.StatusOK, reply)
}

// importFile checks the staged file, then compares, snapshots and merges.
func (r *restoreRun) importFile(path string, dryRun bool, reply *importReply) error {
	ctx, cancel := r.s.opContext(r.c.Request().Context())
	defer cancel()
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	opts := export.ImportOptions{Databases: []kv.Name{r.name}, DryRun: true, MaxLineBytes: r.s.opts.ImportMaxLineBytes}
	db, release, err := r.s.acquire(r.name)
	if err != nil {
		return err
	}
	defer release()
	probe, err := export.Import(ctx, open, map[kv.Name]*badger.DB{r.name: db}, opts)
	reply.Lines, reply.Changes = probe.Lines, probe.Changes
	if err != nil {
		return importRefusal(r.c, err)
	}
	if dryRun || !changesAny(probe) {
		return nil
	}
	if err := r.safetySnapshot(ctx, db); err != nil {
		return err
	}
	reply.SafetySnapshot, reply.SafetySnapshotDir = r.reply.SafetySnapshot, r.reply.SafetySnapshotDir
	reply.Undo = r.undo("")
	opts.DryRun = false
	res, err := export.Import(ctx, open, map[kv.Name]*badger.DB{r.name: db}, opts)
	reply.Changes = res.Changes
	if len(res.NoPassword) > 0 {
		reply.Warnings = append(reply.Warnings, fmt.Sprintf("new users without a password cannot log in until one is set "+
			"(PUT /api/v1/users/NAME with its password and roles): %s", strings.Join(res.NoPassword, ", ")))
	}
	if err != nil {
		return internal("the import stopped midway", fmt.Sprintf("the %s database may hold part of the file; %s", r.name, reply.Undo), err)
	}
	return nil
}

// changesAny reports whether an import adds or overwrites anything.
func changesAny(res export.Result) bool {
	for _, n := range res.Changes {
		if n.Added > 0 || n.Overwritten > 0 {
			return true
		}
	}
	return false
}

// importRefusal answers a file refused by the check with 400, naming the
// line; other errors pass through.
func importRefusal(c echo.Context, err error) error {
	if export.IsInputError(err) {
		return &apiError{status: http.StatusBadRequest, cause: err, msg: "import refused: " + err.Error(),
			hint: "nothing was changed; fix the line named (an export of this database comes from GET /api/v1/export/DB or `flowg admin export --only DB`)"}
	}
	var ae *apiError
	if errors.As(err, &ae) || errors.Is(err, context.Canceled) {
		return err
	}
	return internal("the import file could not be checked", "nothing was changed; see the server log for request "+requestID(c), err)
}
