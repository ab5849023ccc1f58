package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// The auth database of a stopped server, opened by `flowg admin user` and
// `flowg admin token`, and what both print and check: errors for a person,
// existing users, roles and scopes, listings.

// authDirFlag is the --auth-dir flag of dirFlags, for commands that only
// touch the auth database.
func authDirFlag() cli.Flag {
	for _, f := range dirFlags() {
		if f.Names()[0] == "auth-dir" {
			return f
		}
	}
	panic("no --auth-dir flag")
}

// authLockedNext is what to do when the auth database cannot be opened,
// mostly because the server holds it.
const authLockedNext = "stop the server first, or use its API while it runs: PUT /api/v1/users/NAME, POST /api/v1/tokens (see flowg login)"

// openAuthWrite opens the auth database read-write for a change. A missing
// database is created only when create is set. The caller closes the
// returned function.
func openAuthWrite(c *cli.Context, create bool) (*auth.Service, func(), error) {
	dir := c.String("auth-dir")
	if !create && !kv.Exists(dir) {
		return nil, nil, missingAuth(dir)
	}
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		return nil, nil, openError{name: kv.Auth, dir: dir, err: err, next: authLockedNext}
	}
	return auth.NewService(db, auth.Options{}), func() { db.Close() }, nil
}

// openAuthRead opens the auth database read-only.
func openAuthRead(c *cli.Context) (*auth.Service, func(), error) {
	dir := c.String("auth-dir")
	if !kv.Exists(dir) {
		return nil, nil, missingAuth(dir)
	}
	s, err := kv.OpenSnapshot(dir, "")
	if err != nil {
		return nil, nil, openError{name: kv.Auth, dir: dir, err: err, next: authLockedNext}
	}
	if s.Note != "" {
		fmt.Fprintf(c.App.ErrWriter, "note: %s\n", s.Note)
	}
	return auth.NewService(s.DB, auth.Options{}), func() { s.Close() }, nil
}

func missingAuth(dir string) error {
	return opError{op: "open auth database", err: fmt.Errorf("there is no auth database at %s", dir),
		safe: "nothing was written",
		next: "check --auth-dir (or FLOWG_AUTH_DIR); `flowg serve` creates the database on first start"}
}

// authError turns an error of the auth package into one for a person.
func authError(op string, err error, safe, next string) error {
	if errors.Is(err, auth.ErrInvalid) {
		return usagef("%s: %v", op, err)
	}
	return opError{op: op, err: err, safe: safe, next: next}
}

// existingUser returns user name, or for a user that does not exist an
// error saying how to find or create one; op and safe describe the command
// in errors.
func existingUser(svc *auth.Service, op, name, safe string) (auth.User, error) {
	user, err := svc.GetUser(name)
	if errors.Is(err, auth.ErrNotFound) {
		return user, opError{op: op, err: fmt.Errorf("there is no user %s", name), safe: safe,
			next: "list the users with `flowg admin user list`, or create one with `flowg admin user create`"}
	} else if err != nil {
		return user, authError(op, err, safe, "")
	}
	return user, nil
}

// heldScopes returns the scopes user holds through its roles; best effort,
// for messages.
func heldScopes(svc *auth.Service, u auth.User) auth.ScopeSet {
	var set auth.ScopeSet
	for _, name := range u.Roles {
		if r, err := svc.GetRole(name); err == nil {
			set = set.Union(r.Scopes)
		}
	}
	return set
}

func roleNames(svc *auth.Service) string {
	roles, err := svc.ListRoles()
	if err != nil || len(roles) == 0 {
		return "there are none yet"
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

func scopeNames(set []auth.Scope) []string {
	out := make([]string, len(set))
	for i, s := range set {
		out[i] = string(s)
	}
	return out
}

// flagValues flattens repeated and comma-separated flag values, dropping
// empty ones.
func flagValues(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// printListing prints v as JSON with --json; otherwise a table of aligned
// columns: the tab-separated header, then the rows that rows writes.
func printListing(c *cli.Context, v any, header string, rows func(w io.Writer)) error {
	if c.Bool("json") {
		return encodeJSON(c.App.Writer, v)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	return tw.Flush()
}

// purgeRestoredLegacyJWTKey deletes, unread, the JWT signing key an older
// flowg kept in the auth database (auth.PurgeLegacySecrets), which restoring
// one of its backups writes back; `flowg admin restore` defers it, so it runs
// once the databases are closed and unlocked, whatever the outcome. When the
// database cannot be opened, the server deletes the key at its next start.
func purgeRestoredLegacyJWTKey(c *cli.Context, names []kv.Name) {
	dir := c.String("auth-dir")
	if c.Bool("dry-run") || !slices.Contains(names, kv.Auth) || !kv.Exists(dir) {
		return
	}
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		return
	}
	defer db.Close()
	if deleted, err := auth.PurgeLegacySecrets(db); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warning: %v; the server deletes it at its next start\n", err)
	} else if deleted {
		fmt.Fprintf(c.App.ErrWriter, "deleted the JWT signing key the backup held (meta/jwt_secret), unused: "+
			"this flowg signs JWTs with the key of --jwt-key-file, outside the database\n")
	}
}
