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

	"github.com/urfave/cli/v2"
)

// Client commands against a running server: the online backup and restore
// endpoints and login, so nobody has to type three curls. The work happens
// in client_backup.go and client_restore.go; client_http.go talks HTTP.

func clientBackupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "download and verify backups of a running server's databases into a directory",
		UsageText: "flowg backup [--server URL] [--token TOKEN] --backup-dir DIR [--only auth,config,logs]",
		Description: `Downloads each database from GET /api/v1/backup/{auth,config,logs} into a
temporary 0600 file in DIR (created 0700), checks every checksum as it arrives,
then verifies the whole file by loading it into a scratch in-memory database.
Only when every download verified are the files renamed into place as
DIR/auth.db, DIR/config.db and DIR/log.db and DIR/manifest.json written, so a
failed run leaves an earlier backup in DIR intact. The server keeps serving and
nothing on it is changed. DIR is laid out as 'flowg admin backup' lays it out:
'flowg restore' and 'flowg admin restore' read it.

The token (--token or FLOWG_TOKEN) needs, per database:
   auth    read_acls
   config  read_pipelines, read_transformers, read_alerts
   logs    read_streams

Examples:
   export FLOWG_TOKEN=$(flowg admin token create --auth-dir ./data/auth --user root)   # server stopped
   flowg backup --server http://localhost:5080 --backup-dir ./backup
   flowg backup --server https://flowg.example.com --backup-dir /mnt/backups/flowg --only logs,config
   flowg admin verify --backup-dir ./backup`,
		Flags: []cli.Flag{
			serverFlag(),
			tokenFlag(),
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory to write the backup files into (created 0700)"},
			onlyFlag(),
		},
		Action: clientBackup,
	}
}

func clientRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "check backup files locally, then restore them into a running server",
		UsageText: "flowg restore [--server URL] [--token TOKEN] --backup-dir DIR [--only auth,config,logs] [--wipe]",
		Description: `Finds DIR/auth.db, DIR/config.db and DIR/log.db (or logs.db), checks every file
(checksums, trailer, database name) before the first byte is sent, and refuses
to upload anything if one is bad. Then posts each file as the raw request body
to POST /api/v1/restore/{auth,config,logs}; the server checks it again before
writing and keeps a safety snapshot (trigger pre_restore, in its --backup-dir)
of the database it changes. Local files are only read.

By default the server merges: every key of the backup overwrites the database's
value; keys the backup lacks are kept. With --wipe each database afterwards
holds exactly the backup's keys (its requests get 503 while it is reloaded;
the other databases keep serving).

The token (--token or FLOWG_TOKEN) needs, per database:
   auth    write_acls
   config  write_pipelines, write_transformers, write_alerts
   logs    write_streams

Examples:
   flowg restore --server http://localhost:5080 --backup-dir ./backup
   flowg restore --backup-dir ./backup --only config --wipe
   FLOWG_TOKEN=jwt:$(flowg login --username root) flowg restore --backup-dir ./backup --only logs`,
		Flags: []cli.Flag{
			serverFlag(),
			tokenFlag(),
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory holding auth.db, config.db and log.db (or logs.db)"},
			onlyFlag(),
			&cli.BoolFlag{Name: "wipe", Usage: "destructive: afterwards each database holds exactly the backup's keys"},
		},
		Action: clientRestore,
	}
}

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
			serverFlag(),
			&cli.StringFlag{Name: "username", Usage: "user to log in as"},
			passwordStdinFlag(),
		},
		Action: clientLogin,
	}
}

// maxLoginAnswer bounds the login answer read.
const maxLoginAnswer = 64 << 10

func clientLogin(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	user := c.String("username")
	if user == "" {
		return usagef("name the user with --username")
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
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
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
