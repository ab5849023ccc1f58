package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Hint  string `json:"hint"`
}

// apiError is an error whose status, message and hint were decided where it
// happened. The message and hint go to the client; cause only to the log.
type apiError struct {
	status int
	msg    string
	hint   string
	cause  error
}

func (e *apiError) Error() string {
	if e.cause == nil || strings.Contains(e.msg, e.cause.Error()) {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

func (e *apiError) Unwrap() error { return e.cause }

// abortError ends a response that is already under way (a backup stream) by
// cutting the connection, so the client sees an incomplete transfer rather
// than a short file that looks complete.
type abortError struct{ cause error }

func (e *abortError) Error() string { return "response aborted: " + e.cause.Error() }
func (e *abortError) Unwrap() error { return e.cause }

// retryAfter is the Retry-After of every 503, in seconds.
const retryAfter = "5"

// handleError is echo's HTTPErrorHandler: the one place an error becomes a
// status and a JSON body. A response already under way is left alone; the
// request log records the error.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := describe(err, requestID(c))
	h := c.Response().Header()
	switch status {
	case http.StatusUnauthorized:
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="flowg"`)
	case http.StatusServiceUnavailable:
		h.Set(echo.HeaderRetryAfter, retryAfter)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

// describe maps err to a status and what the client is told.
func describe(err error, reqID string) (int, errorBody) {
	var ae *apiError
	var he *echo.HTTPError
	var missing *auth.MissingScopeError
	switch {
	case errors.As(err, &ae):
		return ae.status, errorBody{ae.msg, ae.hint}
	case errors.As(err, &he):
		return describeEcho(he)
	case errors.As(err, &missing):
		return http.StatusForbidden, errorBody{err.Error(), fmt.Sprintf(
			"this request needs %s; ask an administrator for a role that grants it, or use a token that was not narrowed without it",
			joinScopes(missing.Missing))}
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, errorBody{err.Error(),
			"send Authorization: Bearer pat:<token> (a personal access token) or Bearer jwt:<token> (from POST /api/v1/auth/login)"}
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, errorBody{err.Error(), "check the username and password"}
	case errors.Is(err, auth.ErrScopeNotHeld):
		return http.StatusForbidden, errorBody{err.Error(), "a token can only be given scopes its owner holds"}
	case errors.Is(err, kv.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{err.Error(), "retry in a few seconds"}
	case errors.Is(err, kv.ErrBusy):
		return http.StatusConflict, errorBody{err.Error(), "wait for the running restore to finish, then retry"}
	case errors.Is(err, backup.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{"restore refused: " + err.Error(),
			"nothing was changed; restore offline with `flowg admin restore` (no limit unless --max-restore-size), or raise the server's --max-restore-size"}
	case errors.Is(err, backup.ErrTooManySafetyCopies):
		return http.StatusInsufficientStorage, errorBody{"restore refused: " + err.Error(),
			"nothing was changed; each restore keeps a safety copy, and this database has as many as the server allows (--max-safety-copies)"}
	case errors.Is(err, backup.ErrNoSpace):
		return http.StatusInsufficientStorage, errorBody{"restore refused: " + err.Error(),
			"nothing was changed; free space on the disk of the database directory, then retry"}
	case backup.IsInputError(err):
		return http.StatusBadRequest, errorBody{err.Error(), "nothing was changed; " + inputHint(err)}
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, docs.ErrNotFound):
		return http.StatusNotFound, errorBody{err.Error(), "check the name; list what exists with GET on the collection"}
	case errors.Is(err, auth.ErrExists), errors.Is(err, auth.ErrInUse):
		return http.StatusConflict, errorBody{err.Error(), "change or remove what is in the way first"}
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, docs.ErrInvalidName), errors.Is(err, docs.ErrUnknownKind),
		errors.Is(err, logstore.ErrInvalidName), errors.Is(err, logstore.ErrInvalidTTL), errors.Is(err, logstore.ErrInvalidRange),
		errors.Is(err, logstore.ErrInvalidLimit), errors.Is(err, logstore.ErrInvalidRecord):
		return http.StatusBadRequest, errorBody{err.Error(), "fix the request; nothing was written"}
	case errors.Is(err, docs.ErrTooLarge), errors.Is(err, logstore.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{err.Error(), "send less at once; nothing was written"}
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, errorBody{"the request was cancelled (the client went away or the server is stopping)", "retry"}
	}
	return http.StatusInternalServerError, errorBody{"internal server error", "see the server log for request " + reqID}
}

// describeEcho maps echo's own errors (unknown route, wrong method, ...).
func describeEcho(he *echo.HTTPError) (int, errorBody) {
	msg := fmt.Sprint(he.Message)
	switch he.Code {
	case http.StatusNotFound:
		return he.Code, errorBody{"no such route", "see the API routes in the httpapi README; GET /healthz answers without a token"}
	case http.StatusMethodNotAllowed:
		return he.Code, errorBody{"method not allowed on this route", "see the API routes in the httpapi README"}
	}
	return he.Code, errorBody{msg, "see the API routes in the httpapi README"}
}

// inputHint says what to do about a backup file that was refused.
func inputHint(err error) string {
	switch {
	case errors.Is(err, backup.ErrWrongDatabase):
		return "send each database its own file: auth.db to /api/v1/restore/auth, config.db to /config, log.db or logs.db to /logs"
	case errors.Is(err, backup.ErrCompressed):
		return "decompress the file first (e.g. gunzip), then upload it"
	case errors.Is(err, backup.ErrVersion):
		return "restore with the flowg version that wrote the file, or a newer one"
	case errors.Is(err, backup.ErrEmpty), errors.Is(err, backup.ErrNotBackup):
		return "upload a file written by GET /api/v1/backup/{db}, `flowg admin backup` or `badger backup`, " +
			"e.g. curl --form backup=@auth.db ... or --data-binary @auth.db"
	}
	return "the file is damaged (an incomplete download or copy?); upload another copy or take a new backup, " +
		"and check files with `flowg admin verify FILE`"
}

// unavailable is the 503 for a database being wiped and reloaded.
func unavailable(n kv.Name, err error) error {
	return &apiError{status: http.StatusServiceUnavailable, cause: err,
		msg:  fmt.Sprintf("the %s database is unavailable: %v", n, err),
		hint: fmt.Sprintf("a restore is reloading the %s database; retry in a few seconds (the other databases keep serving)", n)}
}

// busy is the 409 for a second restore of one database.
func busy(n kv.Name, err error) error {
	return &apiError{status: http.StatusConflict, cause: err,
		msg:  fmt.Sprintf("a restore of the %s database is already running", n),
		hint: "wait for it to finish, then check whether yours is still needed"}
}

// badRequest is a 400 about the request itself.
func badRequest(msg, hint string) error {
	return &apiError{status: http.StatusBadRequest, msg: msg, hint: hint}
}

// internal is a 500 whose message and hint say what is known to be safe.
func internal(msg, hint string, cause error) error {
	return &apiError{status: http.StatusInternalServerError, msg: msg, hint: hint, cause: cause}
}

// joinScopes lists scopes as "a, b".
func joinScopes(scopes []auth.Scope) string {
	out := ""
	for i, sc := range scopes {
		if i > 0 {
			out += ", "
		}
		out += string(sc)
	}
	return out
}

// restoreDisabled is the 403 of every restore on a server started with
// --no-online-restore.
func restoreDisabled(n kv.Name) error {
	return &apiError{status: http.StatusForbidden,
		msg: "online restore is disabled on this server (it was started with --no-online-restore)",
		hint: fmt.Sprintf("nothing was changed; restore offline: stop the server, then run "+
			"`flowg admin restore --backup-dir DIR --only %s` (add --wipe for a destructive restore); "+
			"or restart the server without --no-online-restore", n)}
}
