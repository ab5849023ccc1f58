package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/operations"
)

// The long operations of the API (take a set, verify a set, restore) run
// through tracked: each one that starts work is an operation of the
// history (GET /api/v1/operations), and with ?async=true it runs detached
// from its request, answered 202 {"operation_id"} as soon as its checks
// passed. The handlers themselves are unchanged: an operation starts when
// the handler first asks for its operation context (Server.opContext),
// after it has checked the request and the caller's scopes, so a refused
// request is answered at once and leaves no record.

// asyncBodyLimit bounds the body of a request run with ?async=true, which is
// read whole before the handler runs without its connection.
const asyncBodyLimit = 1 << 20

// answerKept bounds how much of an operation's answer is kept in memory.
const answerKept = 1 << 20

// asyncDetachAfter is how long an ?async=true request waits for its handler
// to start work or answer before it is answered 202 all the same.
const asyncDetachAfter = 2 * time.Second

// aboutFunc says which databases and set the operation of a request is
// about, read from the request before its handler runs.
type aboutFunc func(c echo.Context) (databases []string, setID string)

// opStarter starts the operation of one tracked request, once. What the
// operation is about is read from the request when the starter is made,
// before the handler runs: start may be called from another goroutine
// than the handler's (asyncDetachAfter).
type opStarter struct {
	s       *Server
	about   operations.Start
	once    sync.Once
	op      *operations.Op
	started chan struct{}
}

func (s *Server) newStarter(c echo.Context, kind string, about aboutFunc) *opStarter {
	dbs, set := about(c)
	dryRun, _ := strconv.ParseBool(c.QueryParam("dry_run"))
	return &opStarter{s: s, started: make(chan struct{}), about: operations.Start{Kind: kind, Trigger: backup.TriggerManual,
		Who: principalOf(c).User, Databases: dbs, SetID: set, DryRun: dryRun && (kind == operations.KindRestore || kind == operations.KindImport)}}
}

// start registers the operation (once) and returns it.
func (st *opStarter) start() *operations.Op {
	st.once.Do(func() {
		st.op = st.s.ops.Start(st.about)
		close(st.started)
	})
	return st.op
}

// startedOp returns the operation if it started, else nil.
func (st *opStarter) startedOp() *operations.Op {
	select {
	case <-st.started:
		return st.op
	default:
		return nil
	}
}

type starterKey struct{}

// into returns ctx carrying st; for a verification or a restore, the bytes
// it reads from the catalog's set files are its progress.
func (st *opStarter) into(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, starterKey{}, st)
	if st.about.Kind == operations.KindBackup {
		return ctx // RunBackup reports the bytes it writes
	}
	return backup.WithReadProgress(ctx, func(n int) {
		if op := st.startedOp(); op != nil {
			op.AddDone(uint64(n))
		}
	})
}

// startTracked starts the operation of the tracked request ctx belongs to,
// if any, and returns ctx carrying it (see operations.FromContext).
func startTracked(ctx context.Context) context.Context {
	st, ok := ctx.Value(starterKey{}).(*opStarter)
	if !ok {
		return ctx
	}
	if op := operations.FromContext(ctx); op != nil {
		return ctx
	}
	return operations.WithOp(ctx, st.start())
}

// tracked wraps the handler of a long operation of kind: see the top of
// this file. async says whether ?async=true is allowed.
func (s *Server) tracked(kind string, async bool, about aboutFunc, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		detach, err := boolParam(c, "async", "?async=true runs the operation detached from the request and answers 202 with its operation id")
		if err != nil {
			return err
		}
		if detach && !async {
			return badRequest("async=true is not available on this route: the upload is read within the request",
				"nothing was changed; leave async out, or restore a set of the catalog with POST /api/v1/backups/ID/restore?async=true")
		}
		if detach {
			return s.runDetached(c, kind, about, h)
		}
		return s.runTracked(c, kind, about, h)
	}
}

// runTracked runs h within its request, recording its operation if it
// starts one and is not refused (a 4xx answer: its checks failed after it
// started, e.g. an uploaded file is damaged; nothing was changed and the
// caller has the answer).
func (s *Server) runTracked(c echo.Context, kind string, about aboutFunc, h echo.HandlerFunc) error {
	st := s.newStarter(c, kind, about)
	req := c.Request()
	c.SetRequest(req.WithContext(st.into(req.Context())))
	tee := &teeWriter{ResponseWriter: c.Response().Writer}
	c.Response().Writer = tee
	err := h(c)
	op := st.startedOp()
	if op == nil {
		return err
	}
	status, body := c.Response().Status, tee.body.Bytes()
	if err != nil {
		var eb errorBody
		status, eb = describe(err, requestID(c))
		body, _ = json.Marshal(eb)
	}
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout {
		s.ops.Discard(op) // refused after all (a damaged upload, a busy database): nothing changed, the caller was told
		return err
	}
	s.finishTracked(req.Context(), op, status, body)
	return err
}

// runDetached runs h on a context of the server, not of the request: a
// client that goes away does not cancel it; Stop does. It answers as h
// does when h answers before starting work (a refusal), else 202 with the
// operation id.
func (s *Server) runDetached(c echo.Context, kind string, about aboutFunc, h echo.HandlerFunc) error {
	if err := s.allowDetached(c, kind); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, asyncBodyLimit+1))
	if err != nil {
		return badRequest("the request body could not be read: "+err.Error(), "nothing was changed; send the request again")
	}
	if len(body) > asyncBodyLimit {
		return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body of an async=true request is over %d bytes", asyncBodyLimit),
			hint: "nothing was changed; these operations take their parameters in the query string"}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.Request().Context()))
	stopWithServer := context.AfterFunc(s.base, cancel)
	req := c.Request().Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	rec := &answerRecorder{header: http.Header{}}
	dc := s.echo.NewContext(req, rec)
	dc.SetPath(c.Path())
	dc.SetParamNames(c.ParamNames()...)
	dc.SetParamValues(c.ParamValues()...)
	dc.Set(keyPrincipal, c.Get(keyPrincipal))
	dc.Set(keyRequestID, requestID(c))
	st := s.newStarter(dc, kind, about)
	dc.SetRequest(req.WithContext(st.into(ctx)))

	done := make(chan error, 1)
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Add(-1)
		defer stopWithServer()
		defer cancel()
		err := s.runHandler(dc, h)
		if err != nil {
			s.handleError(err, dc)
			// No request log line follows a detached handler: its cause goes here.
			s.log.Warn("detached operation answered an error", "request_id", requestID(dc), "route", dc.Path(),
				"status", rec.status(), "error", err)
		}
		if op := st.startedOp(); op != nil {
			s.finishTracked(ctx, op, rec.status(), rec.body.Bytes())
		}
		done <- err
	}()

	timer := time.NewTimer(asyncDetachAfter)
	defer timer.Stop()
	select {
	case <-st.started:
	case err := <-done:
		if st.startedOp() == nil {
			return rec.replay(c, err)
		}
	case <-timer.C:
		st.start()
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/operations/"+st.op.ID())
	return c.JSON(http.StatusAccepted, map[string]string{"operation_id": st.op.ID()})
}

// runHandler runs h, turning a panic into an error as recoverPanics does
// for requests.
func (s *Server) runHandler(c echo.Context, h echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in a detached operation", "request_id", requestID(c), "panic", fmt.Sprint(r))
			err = internal("internal server error", "see the server log for request "+requestID(c), fmt.Errorf("panic: %v", r))
		}
	}()
	return h(c)
}

// allowDetached refuses, with 429, an async backup while --max-backup-streams
// backup sets are already being written; verifications and restores are
// bounded by their handlers (--max-concurrent-verifies, one restore per
// database). A caller with no backup scope is refused (403) first: the
// 429 would tell it how many backups run.
func (s *Server) allowDetached(c echo.Context, kind string) error {
	if kind != operations.KindBackup {
		return nil
	}
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	max := s.store.StreamLimits().Max
	if n := s.ops.Running(operations.KindBackup); max > 0 && n >= max {
		return &apiError{status: http.StatusTooManyRequests, code: CodeTooManyStreams,
			msg:  fmt.Sprintf("backup not started: %d backup set(s) are being written, the most the server runs at once (--max-backup-streams %d)", n, max),
			hint: "nothing was written; retry after Retry-After seconds, or follow the running ones with GET /api/v1/operations"}
	}
	return nil
}

// finishTracked ends op from the answer its request got: failed for an
// error status (with the answer's error) or a set that failed its
// verification; the set it names is recorded.
func (s *Server) finishTracked(ctx context.Context, op *operations.Op, status int, body []byte) {
	var a struct {
		Error   string `json:"error"`
		ID      string `json:"id"`
		Set     string `json:"set"`
		Label   string `json:"label"`
		Problem string `json:"problem"`
	}
	_ = json.Unmarshal(body, &a)
	switch {
	case backup.ValidSetID(a.ID):
		op.SetSet(a.ID)
	case backup.ValidSetID(a.Set):
		op.SetSet(a.Set)
	}
	op.SetResult(body)
	errText := ""
	switch {
	case status >= 400 && a.Error != "":
		errText = a.Error
	case status >= 400:
		errText = fmt.Sprintf("answered %d %s", status, http.StatusText(status))
	case a.Label == backup.LabelVerifyFailed:
		errText = "verify failed: " + a.Problem
	}
	op.Finish(ctx, errText)
	r := op.Snapshot()
	s.log.Info("operation ended", "operation", r.ID, "kind", r.Kind, "who", r.Who, "state", r.State,
		"duration_seconds", r.DurationSeconds, "error", errText)
}
