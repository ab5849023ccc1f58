package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/console"
)

// consoleRoutes serves the web console (package console): the page at
// GET / and its files under /console/. They need no token: the page signs
// in itself and calls the API like any script.
func (s *Server) consoleRoutes() {
	h := echo.WrapHandler(console.Handler())
	s.echo.GET("/", h)
	s.echo.GET(console.Prefix+"*", h)
}
