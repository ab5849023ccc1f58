package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// Keys of the values middleware stores in an echo.Context.
const (
	keyRequestID = "flowg.request_id"
	keyPrincipal = "flowg.principal"
)

// logRequests gives each request an id (the X-Request-Id response header),
// writes the error answer of a failed handler, and logs one line per request:
// method, path, route, status, bytes, duration, user. It never logs headers,
// query strings or bodies, so no token or password reaches the log. A
// handler's abortError is logged and then cuts the connection.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		id := newRequestID()
		c.Set(keyRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)

		err := next(c)
		var abort *abortError
		aborted := errors.As(err, &abort)
		if err != nil && !aborted {
			c.Error(err) // writes the answer, so the status logged is the one sent
		}
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := res.Status
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", req.Method),
			slog.String("path", loggedPath(req.URL.Path, route)),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", req.RemoteAddr),
		}
		if p, ok := c.Get(keyPrincipal).(auth.Principal); ok {
			attrs = append(attrs, slog.String("user", p.User), slog.String("via", p.Via))
		}
		level := slog.LevelInfo
		switch {
		case aborted || status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		if aborted {
			attrs = append(attrs, slog.Bool("aborted", true))
		}
		s.log.LogAttrs(req.Context(), level, "request", attrs...)
		s.metrics.request(req.Method, route, status)
		if aborted {
			panic(http.ErrAbortHandler) // net/http closes the connection without logging
		}
		return nil
	}
}

// loggedPath is the path of a request as logged: the route for a download
// link, whose path holds its token.
func loggedPath(path, route string) string {
	if route == downloadRoute {
		return route
	}
	return path
}

// recoverPanics turns a panic in a handler into a 500 answer and logs it
// with its stack. http.ErrAbortHandler passes through.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = internal("internal server error", "see the server log for request "+requestID(c), fmt.Errorf("panic: %v", r))
		}()
		return next(c)
	}
}

// authenticate is route middleware: it checks the Authorization header
// against the auth database and stores the Principal for principalOf. The
// auth database is held only while the header is checked, so a restore of
// auth can take it exclusively while this request goes on.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		values := c.Request().Header.Values(echo.HeaderAuthorization)
		if len(values) > 1 {
			return fmt.Errorf("%w: more than one Authorization header", auth.ErrUnauthenticated)
		}
		header := ""
		if len(values) == 1 {
			header = values[0]
		}
		var p auth.Principal
		err := s.withAuth(func(svc *auth.Service) error {
			var err error
			p, err = svc.Authenticate(header)
			return err
		})
		if err != nil {
			return err
		}
		c.Set(keyPrincipal, p)
		return next(c)
	}
}

// withAuth calls fn with an auth.Service over the auth database, held for
// the duration of the call.
func (s *Server) withAuth(fn func(*auth.Service) error) error {
	db, release, err := s.acquire(kv.Auth)
	if err != nil {
		return err
	}
	defer release()
	return fn(auth.NewService(db, auth.Options{Now: s.now, JWTKey: s.opts.JWTKey}))
}

// principalOf returns who the request acts as; the zero Principal (no
// scopes) on a route without authenticate.
func principalOf(c echo.Context) auth.Principal {
	p, _ := c.Get(keyPrincipal).(auth.Principal)
	return p
}

// require fails with a 403 naming the scopes the request lacks.
func require(c echo.Context, scopes ...auth.Scope) error {
	return principalOf(c).Require(scopes...)
}

// requestID returns the id logRequests gave the request.
func requestID(c echo.Context) string {
	id, _ := c.Get(keyRequestID).(string)
	return id
}

// newRequestID returns 16 random hex digits, or a time-based id should the
// random source fail.
func newRequestID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return hex.EncodeToString(b[:])
}
