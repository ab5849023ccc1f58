package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// The secrets `flowg serve` starts with: the JWT signing key (its own file,
// --jwt-key-file) and root's first password (--root-password-file,
// FLOWG_ROOT_PASSWORD or --root-password), and the legacy signing key an
// older flowg left in the auth database, deleted at start.

// rootPasswordEnv gives root's first password without showing it in ps.
const rootPasswordEnv = "FLOWG_ROOT_PASSWORD"

// secretFlags are the flags of serve for its secrets.
func secretFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "jwt-key-file", Usage: "file holding the JWT signing key (0600, created with a random key on first start; never inside a database directory) (default: <auth-dir>.jwt-key)", EnvVars: []string{"FLOWG_JWT_KEY_FILE"}},
		&cli.StringFlag{Name: "root-password", Usage: "password of user root, created on first start only (random and printed once when unset); visible to every user in ps: prefer --root-password-file or " + rootPasswordEnv},
		&cli.StringFlag{Name: "root-password-file", Usage: "read root's first password from the first line of this file (keep it 0600)", EnvVars: []string{"FLOWG_ROOT_PASSWORD_FILE"}},
	}
}

// jwtKeyFrom reads the signing key from --jwt-key-file (or the default
// beside --auth-dir), creating the file on first start.
func jwtKeyFrom(c *cli.Context, dirs kv.Dirs, logger *slog.Logger) ([]byte, error) {
	path := c.String("jwt-key-file")
	if path == "" {
		path = auth.DefaultJWTKeyFile(dirs.Auth)
	}
	if n, ok := dirs.Holding(path); ok {
		return nil, usagef("--jwt-key-file %s is inside the %s database directory %s: a copy or a wipe restore of it would take the key along; "+
			"put it beside the directory, e.g. %s", path, n, dirs.Of(n), auth.DefaultJWTKeyFile(dirs.Auth))
	}
	key, created, err := auth.LoadOrCreateJWTKey(path)
	if err != nil {
		next := "check --jwt-key-file and the permissions of its directory"
		if errors.Is(err, auth.ErrBadKeyFile) {
			next = "fix the file as said above; JWTs signed with it stay valid once it is readable again"
		}
		return nil, opError{op: "serve", err: err, safe: "no database was opened or written", next: next}
	}
	if created {
		logger.Info("created the JWT signing key file (0600); keep it out of backups of the databases, or JWTs can be forged", "jwt_key_file", path)
	}
	return key, nil
}

// rootPasswordFrom returns root's first password from at most one of
// --root-password-file, FLOWG_ROOT_PASSWORD and --root-password ("" for
// none: a random one is made). --root-password warns on errOut that every
// user of the machine sees it in ps; a file others may read is warned about
// too.
func rootPasswordFrom(c *cli.Context, errOut io.Writer) (string, error) {
	flag, file, env := c.String("root-password"), c.String("root-password-file"), os.Getenv(rootPasswordEnv)
	var given []string
	for _, g := range []struct{ name, value string }{{"--root-password", flag}, {"--root-password-file", file}, {rootPasswordEnv, env}} {
		if g.value != "" {
			given = append(given, g.name)
		}
	}
	if len(given) > 1 {
		return "", usagef("%s: give root's first password one way only", strings.Join(given, " and "))
	}
	switch {
	case flag != "":
		fmt.Fprintf(errOut, "warning: --root-password is visible to every user of this machine (ps, /proc/<pid>/cmdline); "+
			"use --root-password-file FILE (mode 0600) or the %s environment variable instead\n", rootPasswordEnv)
		return flag, nil
	case file != "":
		return readRootPasswordFile(file, errOut)
	}
	return env, nil
}

// readRootPasswordFile returns the first line of path, without its line
// ending.
func readRootPasswordFile(path string, errOut io.Writer) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", usagef("--root-password-file: %v", err)
	}
	defer f.Close()
	// A pipe (--root-password-file <(pass flowg/root)) is nobody else's to read.
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(errOut, "warning: --root-password-file %s is readable by group or others (mode %04o): run `chmod 600 %s`\n", path, st.Mode().Perm(), path)
	}
	line, err := bufio.NewReaderSize(io.LimitReader(f, auth.MaxPasswordLen+2), auth.MaxPasswordLen+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", usagef("--root-password-file %s: %v", path, err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case pw == "":
		return "", usagef("--root-password-file %s: the first line is empty; write the password on it", path)
	case len(pw) > auth.MaxPasswordLen:
		return "", usagef("--root-password-file %s: the first line is longer than %d bytes", path, auth.MaxPasswordLen)
	}
	return pw, nil
}

// purgeLegacyJWTKey deletes, unread, the signing key an older flowg kept in
// the auth database (auth.PurgeLegacySecrets); JWTs it signed stop working.
func purgeLegacyJWTKey(store *kv.Store, logger *slog.Logger) error {
	db, release, err := store.Acquire(kv.Auth)
	if err != nil {
		return err
	}
	defer release()
	deleted, err := auth.PurgeLegacySecrets(db)
	if deleted {
		logger.Warn("deleted the JWT signing key an older flowg kept in the auth database (meta/jwt_secret), unused: " +
			"JWTs issued before this upgrade no longer work (log in again); personal access tokens still do")
	}
	return err
}
