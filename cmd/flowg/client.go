package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/httpapi"
	"github.com/urfave/cli/v2"
)

// Client commands against a running server: the online backup and restore
// endpoints and login, so nobody has to type three curls. `flowg backup` is
// in client_backup.go (its downloads in client_download.go), `flowg restore`
// in client_restore.go, `flowg backups` in client_backups*.go and login here;
// client_http.go talks HTTP.

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "log in to a running server and print a JWT on stdout",
		UsageText: "flowg login [--server URL] --username NAME [--password-stdin]",
		Description: `Posts the user name and password (read from stdin with --password-stdin, or
typed at a prompt without echo) to POST /api/v1/auth/login and prints only the
JSON Web Token on stdout, for --token, FLOWG_TOKEN or an
'Authorization: Bearer jwt:<token>' header. Nothing is stored on disk and no
scope is needed; the token carries the user's scopes and expires (by default
after 24 hours). A password change ends it.

Examples:
   export FLOWG_TOKEN=$(flowg login --server http://localhost:5080 --username root)
   printf '%s\n' "$ROOT_PASSWORD" | flowg login --username root --password-stdin
   curl -H "Authorization: Bearer jwt:${FLOWG_TOKEN}" http://localhost:5080/api/v1/backup/auth --output auth.db`,
		Flags: []cli.Flag{
			serverFlag(), caCertFlag(),
			&cli.StringFlag{Name: "username", Usage: "user to log in as"},
			passwordStdinFlag(),
		},
		Action: clientLogin,
	}
}

// maxLoginAnswer bounds the login answer read.
const maxLoginAnswer = 64 << 10

func clientLogin(c *cli.Context) error {
	user, err := requiredFlag(c, "username", "name the user with --username")
	if err != nil {
		return err
	}
	api, err := newAPIClient(c, false)
	if err != nil {
		return err
	}
	password, err := readPassword(c, false)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"username": user, "password": password})
	if err != nil {
		return err
	}
	resp, err := api.do(c.Context, http.MethodPost, "/api/v1/auth/login", nil, bytes.NewReader(body), int64(len(body)), "application/json")
	var apiErr *apiError
	if errors.As(err, &apiErr) && apiErr.Code == httpapi.CodeBadCredentials {
		return opError{op: "login", err: err, safe: "nothing was changed",
			next: fmt.Sprintf("check the user name and password; with the server stopped, `flowg admin user passwd --name %s` sets a new one", user)}
	}
	if err != nil {
		return api.clientError("login", err, "nothing was changed", nil)
	}
	defer resp.Body.Close()
	var answer struct {
		Token string `json:"token"`
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginAnswer))
	if err == nil {
		err = json.Unmarshal(b, &answer)
	}
	if err == nil && answer.Token == "" {
		err = errors.New("the answer holds no token")
	}
	if err != nil {
		return opError{op: "login", err: fmt.Errorf("read the server's answer: %w", err),
			next: fmt.Sprintf("check that --server (%s) points at a flowg server", api.server)}
	}
	fmt.Fprintln(c.App.Writer, answer.Token)
	expiry := ""
	if exp, ok := jwtExpiry(answer.Token); ok {
		expiry = fmt.Sprintf("; it expires at %s", exp.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(c.App.ErrWriter, "logged in to %s as %s%s\n  use it as --token jwt:<token>, FLOWG_TOKEN, or Authorization: Bearer jwt:<token>\n",
		api.server, user, expiry)
	return nil
}

// jwtExpiry reads the exp claim of a JWT, unverified, for display only.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}, false
	}
	sec, err := claims.Exp.Int64()
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}
