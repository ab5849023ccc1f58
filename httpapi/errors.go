package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// errorBody is the JSON body of every error answer: Code is stable and
// machine-readable (see Code), Error and Hint are for people.
type errorBody struct {
	Error string `json:"error"`
	Hint  string `json:"hint"`
	Code  Code   `json:"code"`
}

// apiError is an error whose status, message and hint were decided where it
// happened. The message and hint go to the client; cause only to the log.
// Without a code, the answer carries CodeForStatus(status).
type apiError struct {
	status int
	code   Code
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

// retryAfter is the Retry-After of a 503 or 429 whose handler set none, in seconds.
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
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		if h.Get(echo.HeaderRetryAfter) == "" { // a handler that knows the wait set it
			h.Set(echo.HeaderRetryAfter, retryAfter)
		}
	}
	var limited *auth.LoginLimitError
	if errors.As(err, &limited) {
		h.Set(echo.HeaderRetryAfter, strconv.Itoa(limited.RetrySeconds()))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

// describe maps err to a status and what the client is told; every body
// carries a code.
func describe(err error, reqID string) (int, errorBody) {
	status, body := describeError(err, reqID)
	if body.Code == "" && status == http.StatusBadRequest && backup.IsInputError(err) {
		body.Code = backupCode(err) // a refused file: say which refusal
	}
	if body.Code == "" {
		body.Code = CodeForStatus(status)
	}
	return status, body
}

// describeError is describe before the code of a status is filled in.
func describeError(err error, reqID string) (int, errorBody) {
	var ae *apiError
	var he *echo.HTTPError
	var missing *auth.MissingScopeError
	switch {
	case errors.As(err, &ae):
		return ae.status, errorBody{ae.msg, ae.hint, ae.code}
	case errors.As(err, &he):
		return describeEcho(he)
	case errors.As(err, &missing):
		return http.StatusForbidden, errorBody{err.Error(), fmt.Sprintf(
			"this request needs %s; ask an administrator for a role that grants it, or use a token that was not narrowed without it",
			joinScopes(missing.Missing)), CodeMissingScope}
	case errors.Is(err, auth.ErrTokenGone):
		return http.StatusUnauthorized, errorBody{err.Error(),
			"this token no longer works: send a new one, Bearer pat:<token> (POST /api/v1/tokens) or Bearer jwt:<token> (POST /api/v1/auth/login)", CodeTokenGone}
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, errorBody{err.Error(),
			"send Authorization: Bearer pat:<token> (a personal access token) or Bearer jwt:<token> (from POST /api/v1/auth/login)", CodeUnauthenticated}
	case errors.Is(err, auth.ErrTooManyLogins):
		return http.StatusTooManyRequests, errorBody{err.Error(), "wait the seconds of Retry-After, then log in again; " +
			"a right password works again then; other users, and this user from other addresses, are not held up", CodeTooManyLogins}
	case errors.Is(err, auth.ErrLoginsBusy):
		return http.StatusServiceUnavailable, errorBody{err.Error(), "the server checks only a few passwords at once; " +
			"retry after the seconds of Retry-After, or use a personal access token, which needs no password check", CodeLoginsBusy}
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, errorBody{err.Error(), "check the username and password", CodeBadCredentials}
	case errors.Is(err, auth.ErrWiderToken):
		return http.StatusForbidden, errorBody{err.Error(),
			"a token can only create or revoke tokens whose scopes are all within its own; ask for a subset of your token's scopes, " +
				"or log in (POST /api/v1/auth/login) and act with the JWT, which carries all of your scopes", CodeWiderToken}
	case errors.Is(err, auth.ErrScopeNotHeld):
		return http.StatusForbidden, errorBody{err.Error(), "a token can only be given scopes its owner holds", CodeScopeNotHeld}
	case errors.Is(err, kv.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{err.Error(), "retry in a few seconds", CodeDatabaseUnavailable}
	case errors.Is(err, kv.ErrBusy):
		return http.StatusConflict, errorBody{err.Error(), "wait for the running restore to finish, then retry", CodeRestoreBusy}
	case backup.IsInputError(err):
		return http.StatusBadRequest, errorBody{err.Error(), "nothing was changed; " + inputHint(err), backupCode(err)}
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, docs.ErrNotFound):
		return http.StatusNotFound, errorBody{err.Error(), "check the name; list what exists with GET on the collection", CodeNotFound}
	case errors.Is(err, auth.ErrExists), errors.Is(err, auth.ErrInUse):
		return http.StatusConflict, errorBody{err.Error(), "change or remove what is in the way first", CodeConflict}
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, docs.ErrInvalidName), errors.Is(err, docs.ErrUnknownKind),
		errors.Is(err, logstore.ErrInvalidName), errors.Is(err, logstore.ErrInvalidTTL), errors.Is(err, logstore.ErrInvalidRange),
		errors.Is(err, logstore.ErrInvalidLimit), errors.Is(err, logstore.ErrInvalidRecord):
		return http.StatusBadRequest, errorBody{err.Error(), "fix the request; nothing was written", CodeInvalidRequest}
	case errors.Is(err, docs.ErrTooLarge), errors.Is(err, logstore.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{err.Error(), "send less at once; nothing was written", CodeTooLarge}
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, errorBody{"the request was cancelled (the client went away or the server is stopping)", "retry", CodeCancelled}
	}
	return http.StatusInternalServerError, errorBody{"internal server error", "see the server log for request " + reqID, CodeInternal}
}

// describeEcho maps echo's own errors (unknown route, wrong method, ...).
func describeEcho(he *echo.HTTPError) (int, errorBody) {
	msg := fmt.Sprint(he.Message)
	switch he.Code {
	case http.StatusNotFound:
		return he.Code, errorBody{"no such route", "see the API routes in the httpapi README; GET /healthz answers without a token", CodeNoRoute}
	case http.StatusMethodNotAllowed:
		return he.Code, errorBody{"method not allowed on this route", "see the API routes in the httpapi README", CodeMethodNotAllowed}
	}
	return he.Code, errorBody{msg, "see the API routes in the httpapi README", CodeForStatus(he.Code)}
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
	case errors.Is(err, backup.ErrEncrypted), errors.Is(err, backup.ErrWrongKey):
		return "the server restores plain backup files only: decrypt it first with `age -d -i KEYFILE -o FILE.plain FILE` " +
			"(or `age -d` and the passphrase) and upload that, or restore it offline with `flowg admin restore --identity KEYFILE`"
	case errors.Is(err, backup.ErrEmpty), errors.Is(err, backup.ErrNotBackup):
		return "upload a file written by GET /api/v1/backup/{db}, `flowg admin backup` or `badger backup`, " +
			"e.g. curl --form backup=@auth.db ... or --data-binary @auth.db"
	}
	return "the file is damaged (an incomplete download or copy?); upload another copy or take a new backup, " +
		"and check files with `flowg admin verify FILE`"
}

// unavailable is the 503 for a database being wiped and reloaded.
func unavailable(n kv.Name, err error) error {
	return &apiError{status: http.StatusServiceUnavailable, code: CodeDatabaseUnavailable, cause: err,
		msg:  fmt.Sprintf("the %s database is unavailable: %v", n, err),
		hint: fmt.Sprintf("a restore is reloading the %s database; retry in a few seconds (the other databases keep serving)", n)}
}

// tooManyStreams is the 429 for a backup stream past the cap of its
// database.
func tooManyStreams(n kv.Name, err error) error {
	return &apiError{status: http.StatusTooManyRequests, code: CodeTooManyStreams, cause: err, msg: err.Error(),
		hint: fmt.Sprintf("retry after Retry-After seconds, when a running backup of %s has finished; "+
			"the server's --max-backup-streams sets how many may run at once per database", n)}
}

// busy is the 409 for a second restore of one database.
func busy(n kv.Name, err error) error {
	return &apiError{status: http.StatusConflict, code: CodeRestoreBusy, cause: err,
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
	return &apiError{status: http.StatusForbidden, code: CodeRestoreDisabled,
		msg: "online restore is disabled on this server (it was started with --no-online-restore)",
		hint: fmt.Sprintf("nothing was changed; restore offline: stop the server, then run "+
			"`flowg admin restore --backup-dir DIR --only %s` (add --wipe for a destructive restore); "+
			"or restart the server without --no-online-restore", n)}
}
