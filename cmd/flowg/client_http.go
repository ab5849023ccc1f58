package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/internal/tlsconfig"
	"github.com/urfave/cli/v2"
)

// defaultServer is where the client commands look for the server.
const defaultServer = "http://localhost:5080"

func serverFlag() cli.Flag {
	return &cli.StringFlag{Name: "server", Value: defaultServer, EnvVars: []string{"FLOWG_SERVER"}, Usage: "base URL of the flowg server"}
}

func caCertFlag() cli.Flag {
	return &cli.StringFlag{Name: "ca-cert", EnvVars: []string{"FLOWG_CA_CERT"},
		Usage: "trust the https:// server's certificate when a private CA in this PEM file signed it (default: the system's roots)"}
}

func tokenFlag() cli.Flag {
	return &cli.StringFlag{Name: "token", EnvVars: []string{"FLOWG_TOKEN"},
		Usage: "personal access token (pat:TOKEN or a bare TOKEN) or JWT (jwt:TOKEN, as flowg login prints it); prefer FLOWG_TOKEN, which ps does not show"}
}

// apiClient talks to a running flowg server.
type apiClient struct {
	base   *url.URL
	server string // base URL as shown in messages
	authz  string // Authorization header, "" for none
	http   *http.Client
}

// newAPIClient reads --server and, when needsToken, --token.
func newAPIClient(c *cli.Context, needsToken bool) (*apiClient, error) {
	raw := strings.TrimSpace(c.String("server"))
	if raw == "" {
		raw = defaultServer // FLOWG_SERVER set but empty
	}
	if !strings.Contains(raw, "://") {
		return nil, usagef("--server %q has no scheme; did you mean http://%s?", raw, raw)
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, usagef("--server %q is not an http:// or https:// URL", raw)
	}
	if base.User != nil {
		return nil, usagef("--server must not hold credentials; give the token with --token or FLOWG_TOKEN")
	}
	base.RawQuery, base.Fragment = "", ""
	base.Path = strings.TrimRight(base.Path, "/")
	transport, err := clientTransport(base, c.String("ca-cert"))
	if err != nil {
		return nil, err
	}
	a := &apiClient{base: base, server: base.String(), http: &http.Client{Transport: transport}}
	if needsToken {
		header, err := authorizationHeader(c.String("token"))
		if err != nil {
			return nil, err
		}
		a.authz = header
		if base.Scheme == "http" && !tlsconfig.IsLoopbackHost(base.Hostname()) {
			fmt.Fprintf(c.App.ErrWriter, "warning: the token is sent over plain http to %s; use https:// beyond this machine\n", base.Host)
		}
	}
	return a, nil
}

// backupDirAndClient reads --backup-dir, which the command needs (missing is
// the usage error when it is empty), then the server and token as
// newAPIClient does.
func backupDirAndClient(c *cli.Context, missing string) (string, *apiClient, error) {
	dir := c.String("backup-dir")
	if dir == "" {
		return "", nil, usagef("%s", missing)
	}
	api, err := newAPIClient(c, true)
	if err != nil {
		return "", nil, err
	}
	return dir, api, nil
}

// authorizationHeader builds the Authorization header from a --token value:
// "pat:X" and "jwt:X" say their kind; a bare value is a personal access
// token, unless it has the three dot-separated parts of a JWT (which a
// personal access token never has), as `flowg login` prints it.
func authorizationHeader(token string) (string, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return "", usagef("no token: give --token or set FLOWG_TOKEN " +
			"(create one with `flowg admin token create --user NAME` while the server is stopped, or `flowg login` for a JWT)")
	}
	kind, value, found := strings.Cut(token, ":")
	switch k := strings.ToLower(kind); {
	case found && (k == auth.ViaPAT || k == auth.ViaJWT):
		if value == "" {
			return "", usagef("--token %s: is empty", k)
		}
		return "Bearer " + k + ":" + value, nil
	case found:
		return "", usagef("--token: unknown kind %q; use pat:TOKEN, jwt:TOKEN or a bare personal access token", truncateText(kind, 16))
	case strings.Count(token, ".") == 2:
		return "Bearer jwt:" + token, nil
	}
	return "Bearer pat:" + token, nil
}

// clientTransport is the HTTP transport for base: for https://, it trusts
// the CA of caFile, or the system roots when caFile is "".
func clientTransport(base *url.URL, caFile string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" && base.Scheme != "https" {
		return nil, usagef("--ca-cert (FLOWG_CA_CERT) is for https:// servers; --server is %s: use https://%s, or drop --ca-cert", base.Redacted(), base.Host)
	}
	cfg, err := tlsconfig.ClientConfig(caFile)
	if err != nil {
		return nil, usagef("--ca-cert %s: %v", caFile, err)
	}
	t.TLSClientConfig = cfg
	return t, nil
}

// endpoint returns the URL of path (e.g. "/api/v1/backup/auth") on the server.
func (a *apiClient) endpoint(path string, query url.Values) string {
	u := *a.base
	u.Path = a.base.Path + path
	u.RawQuery = query.Encode()
	return u.String()
}

// do sends a request and returns the response when its status is 2xx;
// otherwise it reads the server's error and returns an *apiError. The caller
// closes the body of a returned response.
func (a *apiClient) do(ctx context.Context, method, path string, query url.Values, body io.Reader, size int64, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.endpoint(path, query), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", contentType)
	}
	if a.authz != "" {
		req.Header.Set("Authorization", a.authz)
	}
	req.Header.Set("User-Agent", "flowg/"+version)
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, a.transportError(ctx, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readAPIError(resp)
}

// transportError describes a request that got no answer.
func (a *apiClient) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &unreachableError{server: a.server, err: syscall.ECONNREFUSED}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &unreachableError{server: a.server, err: dnsErr}
	}
	if tlsconfig.IsCertificateError(err) {
		return &certificateError{server: a.server, err: err}
	}
	return err
}

// certificateError is an https:// server whose certificate is not trusted.
type certificateError struct {
	server string
	err    error
}

func (e *certificateError) Error() string {
	return fmt.Sprintf("the certificate of %s is not trusted: %v", e.server, e.err)
}
func (e *certificateError) Unwrap() error { return e.err }

// unreachableError is a server that could not be connected to.
type unreachableError struct {
	server string
	err    error
}

func (e *unreachableError) Error() string { return fmt.Sprintf("connect to %s: %v", e.server, e.err) }
func (e *unreachableError) Unwrap() error { return e.err }

// apiError is an answer of the server other than 2xx.
type apiError struct {
	Status     int
	Code       httpapi.Code // the server's "code"; from the status when it sent none
	Message    string       // the server's "error"
	Hint       string       // the server's "hint"
	RetryAfter string
	PlainText  bool // the body was not flowg's JSON (a proxy's page, Go's own answer)
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, http.StatusText(e.Status))
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// readAPIError reads the server's {"error","hint","code"} answer; a body
// that is not that JSON (a proxy's page, say) is quoted briefly. An answer
// without a code (a proxy, an older server) gets the code of its status.
func readAPIError(resp *http.Response) *apiError {
	e := &apiError{Status: resp.StatusCode, Code: httpapi.CodeForStatus(resp.StatusCode), RetryAfter: resp.Header.Get("Retry-After")}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error string       `json:"error"`
		Hint  string       `json:"hint"`
		Code  httpapi.Code `json:"code"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		e.Message, e.Hint = body.Error, body.Hint
		if body.Code != "" {
			e.Code = body.Code
		}
		return e
	}
	text := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, nil))), " ")
	if text == "" {
		text = "the server gave no reason"
	}
	e.Message = "the server answered: " + truncateText(text, 200)
	e.PlainText = true
	return e
}

// clientError turns an error of a client command into an opError: op is
// what was being done ("backup of logs"), safe what is known to be safe,
// scopes what the call needs (named after a 403).
func (a *apiClient) clientError(op string, err error, safe string, scopes []auth.Scope) error {
	e := opError{op: op, err: err, safe: safe}
	var api *apiError
	var unreachable *unreachableError
	var untrusted *certificateError
	switch {
	case errors.As(err, &unreachable):
		e.next = fmt.Sprintf("is the server running at %s? start it with `flowg serve`, or point --server (FLOWG_SERVER) at it", a.server)
	case errors.As(err, &untrusted):
		e.next = "if a private CA signed the server's certificate, give its certificate with --ca-cert FILE (FLOWG_CA_CERT); " +
			"check that --server names the host the certificate was issued for"
	case errors.As(err, &api):
		e.next = nextForAPI(api, scopes, a.server)
	case errors.Is(err, context.Canceled):
		e.next = "the command was interrupted; run it again"
	}
	return e
}

// nextForAPI says what to do after an error answer, classified by its code
// only: the server's hint, or what the command's user needs where the hint
// speaks of HTTP, or where there is none.
func nextForAPI(api *apiError, scopes []auth.Scope, server string) string {
	next := api.Hint
	orElse := func(s string) {
		if next == "" {
			next = s
		}
	}
	switch code := api.Code; {
	case code == httpapi.CodeTokenGone:
		next = "this token no longer works: get a new one with `flowg login` (jwt:TOKEN) or `flowg admin token create` (pat:TOKEN), and pass it with --token (FLOWG_TOKEN)"
	case code == httpapi.CodeUnauthenticated:
		// The server's hint speaks of HTTP headers; a command's user
		// needs to know where a working token comes from.
		next = "check --token (FLOWG_TOKEN): pat:TOKEN from `flowg admin token create` or POST /api/v1/tokens, or jwt:TOKEN from `flowg login`"
	case code == httpapi.CodeMissingScope || code == httpapi.CodeForbidden:
		if len(scopes) > 0 {
			orElse("use a token with " + scopePhrase(scopes))
		}
	case api.Status == http.StatusBadRequest && api.PlainText && strings.Contains(api.Message, "HTTP request to an HTTPS server"):
		// Go's own answer on a TLS port, before any flowg code runs: plain
		// text, so it has no code to classify by.
		next = fmt.Sprintf("the server speaks HTTPS: use --server https://%s", strings.TrimPrefix(server, "http://"))
	case code == httpapi.CodeBadRequest || code == httpapi.CodeInvalidRequest || strings.HasPrefix(string(code), "backup_"):
		orElse("check the file with `flowg admin verify`, or take a new backup")
	case code == httpapi.CodeTooManyLogins || code == httpapi.CodeRateLimited || code == httpapi.CodeTooManyStreams || code == httpapi.CodeTooManyVerifies:
		if api.RetryAfter != "" {
			next = strings.TrimSuffix(next, ".") + fmt.Sprintf(" (the server asks to retry in %s seconds: Retry-After)", api.RetryAfter)
		}
	case code == httpapi.CodeRestoreBusy || code == httpapi.CodeConflict:
		orElse("another restore of this database is running; wait for it to end, then run the command again")
	case code == httpapi.CodeDatabaseUnavailable || code == httpapi.CodeUnavailable || code == httpapi.CodeCancelled:
		orElse("the database is being wiped and reloaded; run the command again in a moment")
		if api.RetryAfter != "" {
			next = strings.TrimSuffix(next, ".") + fmt.Sprintf(" (the server asks to retry in %s seconds: Retry-After)", api.RetryAfter)
		}
	case code == httpapi.CodeNotFound || code == httpapi.CodeNoRoute:
		orElse(fmt.Sprintf("check that --server (%s) points at a flowg server", server))
	case api.Status >= 500:
		orElse("check the server's log")
	}
	return next
}

// scopePhrase reads "scope write_streams" or "scopes a, b and c".
func scopePhrase(scopes []auth.Scope) string {
	names := scopeNames(scopes)
	if len(names) == 1 {
		return "scope " + names[0]
	}
	return "scopes " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
