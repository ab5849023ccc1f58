// Package console is flowg's web console: plain HTML, CSS and JavaScript
// embedded in the binary (no build step, nothing loaded from another host)
// and the http.Handler that serves them with a strict Content-Security-Policy.
// The page is a client of the HTTP API like any script: it signs in with
// POST /api/v1/auth/login or a personal access token, keeps the credential in
// the tab's sessionStorage and sends it as Authorization: Bearer jwt:… or
// Bearer pat:…, so no cookie carries authority and there is no CSRF surface.
// httpapi mounts Handler at GET / and GET /console/*.
package console
