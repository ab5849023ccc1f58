package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
)

// importDB merges a portable JSON-lines export of one database into it
// (POST /api/v1/import/:db, the file as the body or the multipart field
// "backup"; ?dry_run=true only counts; ?lenient=true skips unknown fields). It takes the restore scopes of the
// database and runs as one of its restores (409 while another runs). The
// upload is checked as it arrives — every line, and that every line
// belongs to this database — and spooled (--upload-dir, --max-upload) for
// the merge; nothing is written before the whole of it passed. If it would change anything, a safety snapshot of the database
// goes into the catalog first (unless no_safety_snapshot=true, which the
// restore guard allows only with a restore-verified set), and the reply
// says how to undo. Requests on the database go on meanwhile, as in a merge
// restore.
func (s *Server) importDB(c echo.Context) error {
	name, p, err := s.uploadRestoreOf(c)
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
	lenient, err := boolParam(c, "lenient", "use lenient=true to skip (and count) fields the schema does not name; every other check stays")
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
	src, _, err := s.uploadSource(c.Request(), name)
	if err != nil {
		return err
	}
	defer src.Close()

	user := principalOf(c).User
	ctx, cancel := s.opContext(c.Request().Context())
	defer cancel()
	// The upload is checked as it arrives, and spooled (0600, in
	// --upload-dir) for the merge: a bad line is refused without reading
	// the rest, a line too long after the limit.
	body := &uploadLimit{r: src, left: s.opts.MaxUploadBytes, limited: s.opts.MaxUploadBytes > 0}
	rep, err := export.Run(ctx, export.Request{
		Input:    body,
		SpoolDir: s.opts.UploadDir,
		Options:  export.ImportOptions{Databases: []kv.Name{name}, DryRun: dryRun, Lenient: lenient, MaxLineBytes: s.opts.ImportMaxLineBytes},
		Hold:     export.HoldEach(s.acquire),
		Safety:   s.importSafety(c.Request().Context(), p, name, user),
		Guard:    s.importGuard,
	})
	rep.Database = string(name)
	rep.Warnings = append(append(rep.Warnings, warnings...), importWarnings(rep)...)
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		return s.importFailure(c, name, rep, err)
	}
	if len(rep.Written) > 0 && rep.Undo == "" {
		rep.Undo = "no safety snapshot was kept (no_safety_snapshot=true, or the database was empty before): " +
			"restore an earlier restore-verified set from GET /api/v1/backups to go back"
	}
	s.log.Info("import complete", "request_id", requestID(c), "database", name, "user", user,
		"dry_run", dryRun, "lines", rep.Lines, "ignored_fields", rep.IgnoredFields, "safety_snapshot", rep.SafetySnapshot)
	return c.JSON(http.StatusOK, rep)
}

// importGuard holds an import to the size guard of a restore: the file's
// size (its records take about as much once written) must be within
// --max-restore-size (413) and fit, with a restore's margin, on the disk
// of each database it writes (507). Nothing is held or written before.
func (s *Server) importGuard(names []kv.Name, fileBytes uint64) error {
	switch err := export.SizeGuard(s.store.Dirs(), s.opts.MaxRestoreBytes)(names, fileBytes); {
	case errors.Is(err, backup.ErrTooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: CodeTooLarge, cause: err, msg: "import refused: " + err.Error(),
			hint: "nothing was changed; import offline with `flowg admin import`, or raise the server's --max-restore-size"}
	case err != nil:
		return &apiError{status: http.StatusInsufficientStorage, code: CodeInsufficientStorage, cause: err, msg: "import refused: " + err.Error(),
			hint: "nothing was changed; free space on the disk of the database directory, then retry"}
	}
	return nil
}

// importSafety is where an online import keeps its safety copy: the
// server's catalog, unless no_safety_snapshot=true. As for a restore, a
// database that has --max-safety-copies already gets no more: the import
// is refused (507) when it is about to write its first item, so an import
// that changes nothing is never refused.
func (s *Server) importSafety(ctx context.Context, p restoreParams, name kv.Name, user string) export.SafetyCopies {
	if p.noSnapshot {
		return export.SafetyCopies{}
	}
	return export.SafetyCopies{
		Catalog: func() (*backup.Catalog, error) {
			if err := backup.CheckSafetyRoom(ctx, s.catalog.cat, string(name), s.store.Dirs().Of(name), s.opts.MaxSafetyCopies); err != nil {
				return nil, err
			}
			return s.catalog.cat, nil
		},
		By: user, ToolVersion: s.opts.Version,
		Undo: export.OnlineUndo(s.catalog.cat.Dir()),
	}
}

// importWarnings says what a person should know of an import that went
// through: users who cannot log in, fields that were skipped.
func importWarnings(rep export.Report) []string {
	var out []string
	if len(rep.NoPassword) > 0 {
		out = append(out, fmt.Sprintf("new users without a password cannot log in until one is set "+
			"(PUT /api/v1/users/NAME with its password and roles): %s", strings.Join(rep.NoPassword, ", ")))
	}
	if rep.IgnoredFields > 0 {
		out = append(out, fmt.Sprintf("lenient: %d unknown fields skipped, this flowg does not know them: %s",
			rep.IgnoredFields, strings.Join(rep.IgnoredFieldNames, ", ")))
	}
	return out
}

// importFailure answers a failed import: 400 naming the line for a file
// the check refused, the hold's own answer, 500 for the rest, saying what
// was written.
func (s *Server) importFailure(c echo.Context, name kv.Name, rep export.Report, err error) error {
	var ae *apiError
	switch stage := export.StageOf(err); {
	case errors.Is(err, errUploadTooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, cause: err,
			msg:  fmt.Sprintf("the upload is larger than this server's limit of %d bytes", s.opts.MaxUploadBytes),
			hint: "nothing was changed; import offline with `flowg admin import`, or raise the server's --max-upload"}
	case errors.Is(err, backup.ErrTooManySafetyCopies) && len(rep.Written) == 0:
		return &apiError{status: http.StatusInsufficientStorage, code: CodeTooManySafetyCopies, cause: err, msg: "import refused: " + err.Error(),
			hint: "nothing was changed; each import that changes a database keeps a safety copy, and this database has as many as the server allows (--max-safety-copies)"}
	case errors.Is(err, export.ErrSpool):
		return internal("the upload could not be staged", fmt.Sprintf(
			"nothing was changed; free space in the upload directory %s or choose another (flowg serve --upload-dir)", s.opts.UploadDir), err)
	case stage == export.StageCheck && export.IsInputError(err):
		hint := "nothing was changed; fix the line named (an export of this database comes from GET /api/v1/export/DB or `flowg admin export --only DB`)"
		if errors.Is(err, export.ErrUnknownField) {
			hint = "nothing was changed; check the field named, or import a file of a later flowg with lenient=true, which skips unknown fields"
		}
		return &apiError{status: http.StatusBadRequest, cause: err, msg: "import refused: " + err.Error(), hint: hint}
	case errors.As(err, &ae), errors.Is(err, context.Canceled):
		return err
	case stage == export.StageCheck && !errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusBadRequest, cause: err, msg: fmt.Sprintf("the upload could not be read: %v", err),
			hint: "nothing was changed; send the file again"}
	case stage == export.StageCheck:
		return internal("the import file could not be checked", "nothing was changed; see the server log for request "+requestID(c), err)
	case len(rep.Written) == 0 && stage == export.StageSafetyCopy:
		return internal("the safety snapshot could not be written, so the import did not start",
			"nothing was changed; free space in the backup catalog or fix its permissions (flowg serve --backup-dir)", err)
	case len(rep.Written) == 0:
		return internal("the import could not start", "nothing was changed; see the server log for request "+requestID(c), err)
	}
	undo := rep.Undo
	if undo == "" {
		undo = "no safety snapshot was kept (no_safety_snapshot=true): restore an earlier restore-verified set from GET /api/v1/backups to go back"
	}
	return internal("the import stopped midway", fmt.Sprintf("the %s database may hold part of the file; %s", name, undo), err)
}

// errUploadTooLarge is an import upload past --max-upload.
var errUploadTooLarge = errors.New("the upload is larger than the server's limit (--max-upload)")

// uploadLimit reads an upload, failing with errUploadTooLarge past left
// bytes when limited.
type uploadLimit struct {
	r       io.Reader
	left    int64
	limited bool
}

func (u *uploadLimit) Read(p []byte) (int, error) {
	if !u.limited {
		return u.r.Read(p)
	}
	if u.left <= 0 {
		var one [1]byte
		n, err := u.r.Read(one[:])
		if n > 0 {
			return 0, errUploadTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > u.left {
		p = p[:u.left]
	}
	n, err := u.r.Read(p)
	u.left -= int64(n)
	return n, err
}
