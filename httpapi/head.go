package httpapi

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// HEAD answers wherever GET does (RFC 9110 9.3.2): curl -I, monitoring
// probes and download managers ask it before a GET.

// answerHeadLikeGet makes every GET route registered after it answer HEAD
// too, with the same handler and middleware: net/http sends the headers
// the handler sets and drops its body. A route whose GET is costly
// registers its own HEAD first (as GET /api/v1/backup/:db does), and that
// one is kept.
func (s *Server) answerHeadLikeGet() {
	e := s.echo
	e.OnAddRouteHandler = func(_ string, r echo.Route, h echo.HandlerFunc, mw []echo.MiddlewareFunc) {
		if r.Method == http.MethodGet && !hasRoute(e, http.MethodHead, r.Path) {
			e.Add(http.MethodHead, r.Path, h, mw...)
		}
	}
}

func hasRoute(e *echo.Echo, method, path string) bool {
	for _, r := range e.Routes() {
		if r.Method == method && r.Path == path {
			return true
		}
	}
	return false
}

// backupHead answers HEAD /api/v1/backup/:db with the headers GET sends,
// without reading the database: the file is made as it is sent, so its
// size, key count and SHA-256 are not known beforehand (GET sends the last
// two as trailers). The scopes and the database's availability are checked
// as GET checks them, so HEAD answers 401, 403 or 503 where GET would.
func (s *Server) backupHead(c echo.Context) error {
	name, err := dbParam(c)
	if err != nil {
		return err
	}
	if err := require(c, auth.BackupScopes(string(name))...); err != nil {
		return err
	}
	_, release, err := s.acquire(name)
	if err != nil {
		return err
	}
	release()
	setBackupHeaders(c.Response().Header(), name)
	return c.NoContent(http.StatusOK)
}

// setBackupHeaders sets the headers of an online backup of database n
// (GET and HEAD /api/v1/backup/:db): a file download named as the database's
// file, never cached.
func setBackupHeaders(h http.Header, n kv.Name) {
	h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", downloadName(n)))
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
}
