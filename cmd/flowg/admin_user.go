package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Offline administration of users and personal access tokens, for a stopped
// server (first user, lost password, a token for the client commands).

func adminUserCommand() *cli.Command {
	return &cli.Command{
		Name:  "user",
		Usage: "create users, change passwords and list users in the auth database of a stopped server",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a user with a password and roles",
				UsageText: "flowg admin user create [--auth-dir DIR] --name NAME [--role ROLE ...] [--password-stdin]",
				Description: `Creates user NAME in the auth database with the password read from stdin
(--password-stdin) or typed twice at a prompt, and the roles given. It refuses
an existing user (use 'flowg admin user passwd' for a new password) and an
empty password, and never prints the password. Role admin (every scope) is
created if it does not exist yet; other roles must exist. Only the auth
database is opened; the server must be stopped.

While the server runs, use PUT /api/v1/users/NAME instead (scope write_acls).

Examples:
   flowg admin user create --auth-dir ./data/auth --name alice --role admin
   printf '%s\n' "$ALICE_PASSWORD" | flowg admin user create --name alice --role admin --password-stdin`,
				Flags: []cli.Flag{
					authDirFlag(),
					&cli.StringFlag{Name: "name", Usage: "user name: 1-64 characters of A-Z a-z 0-9 _ . -"},
					&cli.StringSliceFlag{Name: "role", Usage: "role to give the user (repeat, or separate with commas)"},
					passwordStdinFlag(),
				},
				Action: adminUserCreate,
			},
			{
				Name:      "passwd",
				Usage:     "set a new password for a user",
				UsageText: "flowg admin user passwd [--auth-dir DIR] --name NAME [--password-stdin]",
				Description: `Replaces the password of user NAME with one read from stdin (--password-stdin)
or typed twice at a prompt. The user's JWT sessions end; its personal access
tokens stay valid. Nothing else changes. The server must be stopped.

Examples:
   flowg admin user passwd --auth-dir ./data/auth --name root
   printf '%s\n' "$NEW_PASSWORD" | flowg admin user passwd --name root --password-stdin`,
				Flags:  []cli.Flag{authDirFlag(), &cli.StringFlag{Name: "name", Usage: "user whose password to change"}, passwordStdinFlag()},
				Action: adminUserPasswd,
			},
			{
				Name:      "list",
				Usage:     "list users and their roles",
				UsageText: "flowg admin user list [--auth-dir DIR] [--json]",
				Description: `Lists every user with its roles and creation time. The auth database is opened
read-only and never written. --json prints an array of {"name","roles","created"}.

Examples:
   flowg admin user list --auth-dir ./data/auth
   flowg admin user list --json`,
				Flags:  []cli.Flag{authDirFlag(), &cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action: adminUserList,
			},
		},
	}
}

func adminTokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "create, list and revoke personal access tokens in the auth database of a stopped server",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a personal access token and print it (once) on stdout",
				UsageText: "flowg admin token create [--auth-dir DIR] --user NAME [--scope SCOPE ...] [--expires-in DURATION]",
				Description: `Creates a personal access token for user NAME and prints only the token on
stdout, so it can be captured; its id, scopes and expiry go to stderr. The token
is shown once: only a hash of it is stored. Without --scope it carries all of
the user's scopes, now and later; with --scope it is narrowed to those (each
must be held by the user). Use it as 'Authorization: Bearer pat:<token>', or
with FLOWG_TOKEN for 'flowg backup' and 'flowg restore'. The server must be
stopped; while it runs, use POST /api/v1/tokens.

Scopes: ` + scopeList() + `
Online backup needs read_acls (auth), read_pipelines + read_transformers +
read_alerts (config), read_streams (logs); restore the write_ ones.

Examples:
   export FLOWG_TOKEN=$(flowg admin token create --auth-dir ./data/auth --user root)
   flowg admin token create --user backup-bot --scope read_acls --scope read_pipelines --scope read_transformers --scope read_alerts --scope read_streams --expires-in 720h`,
				Flags: []cli.Flag{
					authDirFlag(),
					&cli.StringFlag{Name: "user", Usage: "user the token acts as"},
					&cli.StringSliceFlag{Name: "scope", Usage: "narrow the token to this scope (repeat, or separate with commas); all of the user's when unset"},
					&cli.DurationFlag{Name: "expires-in", Usage: "lifetime, e.g. 720h; the token never expires when unset"},
				},
				Action: adminTokenCreate,
			},
			{
				Name:      "list",
				Usage:     "list personal access tokens (never their secrets)",
				UsageText: "flowg admin token list [--auth-dir DIR] [--user NAME] [--json]",
				Description: `Lists the tokens of every user, or of --user, oldest first: id, owner, scopes,
creation and expiry. Revoked tokens are not listed. The auth database is opened
read-only and never written.

Examples:
   flowg admin token list --auth-dir ./data/auth
   flowg admin token list --user root --json`,
				Flags: []cli.Flag{
					authDirFlag(),
					&cli.StringFlag{Name: "user", Usage: "list only this user's tokens"},
					&cli.BoolFlag{Name: "json", Usage: "print JSON"},
				},
				Action: adminTokenList,
			},
			{
				Name:      "revoke",
				Usage:     "revoke a personal access token by id",
				UsageText: "flowg admin token revoke [--auth-dir DIR] --id ID",
				Description: `Revokes token ID (as shown by 'flowg admin token create' and 'list'). The
revocation is recorded, so a later merge restore of an older backup does not
bring the token back. The server must be stopped; while it runs, use
DELETE /api/v1/tokens/ID.

Examples:
   flowg admin token revoke --auth-dir ./data/auth --id 0123456789abcdef`,
				Flags:  []cli.Flag{authDirFlag(), &cli.StringFlag{Name: "id", Usage: "id of the token to revoke"}},
				Action: adminTokenRevoke,
			},
		},
	}
}

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

func scopeList() string {
	names := make([]string, len(auth.AllScopes))
	for i, s := range auth.AllScopes {
		names[i] = string(s)
	}
	return strings.Join(names, " ")
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

func adminUserCreate(c *cli.Context) error {
	name, err := requiredFlag(c, "name", "name the user with --name")
	if err != nil {
		return err
	}
	roles := flagValues(c.StringSlice("role"))
	const safe = "nothing was written; the auth database is unchanged"
	// A new database is created only once everything is known to be fine.
	dir := c.String("auth-dir")
	fresh := !kv.Exists(dir)
	var password string
	if fresh {
		for _, r := range roles {
			if r != auth.AdminRole {
				return opError{op: "create user", err: fmt.Errorf("role %s does not exist: there is no auth database at %s yet", r, dir),
					safe: "nothing was written", next: "check --auth-dir, or use --role admin, which is created with every scope"}
			}
		}
		if password, err = readPassword(c, true); err != nil {
			return err
		}
	}
	svc, closeDB, err := openAuthWrite(c, true)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := svc.GetUser(name); err == nil {
		return opError{op: "create user", err: fmt.Errorf("user %s %w", name, auth.ErrExists), safe: safe,
			next: fmt.Sprintf("set a new password with `flowg admin user passwd --name %s`", name)}
	} else if !errors.Is(err, auth.ErrNotFound) {
		return authError("create user", err, safe, "")
	}
	var createAdmin bool
	for _, r := range roles {
		if _, err := svc.GetRole(r); errors.Is(err, auth.ErrNotFound) && r == auth.AdminRole {
			createAdmin = true
		} else if errors.Is(err, auth.ErrNotFound) {
			return opError{op: "create user", err: fmt.Errorf("role %s does not exist", r), safe: safe,
				next: fmt.Sprintf("use an existing role (%s) or --role admin, or create the role first while the server runs: PUT /api/v1/roles/%s (scope write_acls)", roleNames(svc), r)}
		} else if err != nil {
			return authError("create user", err, safe, "")
		}
	}
	if !fresh {
		if password, err = readPassword(c, true); err != nil {
			return err
		}
	}
	if fresh {
		fmt.Fprintf(c.App.ErrWriter, "note: created a new auth database at %s\n", dir)
	}
	if createAdmin {
		if err := svc.PutRole(auth.Role{Name: auth.AdminRole, Scopes: auth.NewScopeSet(auth.AllScopes...)}); err != nil {
			return authError("create role admin", err, safe, "")
		}
		fmt.Fprintf(c.App.ErrWriter, "note: created role %s with every scope\n", auth.AdminRole)
	}
	if err := svc.PutUser(name, password, roles); err != nil {
		return authError("create user", err, "the user was not created", "")
	}
	if len(roles) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "warning: user %s holds no role: it can log in but is allowed nothing; give it one with --role (e.g. --role admin)\n", name)
	}
	fmt.Fprintf(c.App.Writer, "created user %s (roles: %s)\n", name, orNone(roles))
	return nil
}

func adminUserPasswd(c *cli.Context) error {
	name, err := requiredFlag(c, "name", "name the user with --name")
	if err != nil {
		return err
	}
	svc, closeDB, err := openAuthWrite(c, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := existingUser(svc, "change password", name, "nothing was written; the auth database is unchanged"); err != nil {
		return err
	}
	password, err := readPassword(c, true)
	if err != nil {
		return err
	}
	if err := svc.SetPassword(name, password); err != nil {
		return authError("change password", err, "the password was not changed", "")
	}
	fmt.Fprintf(c.App.Writer, "changed the password of %s; its JWT sessions ended, its personal access tokens stay valid\n", name)
	return nil
}

func adminUserList(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	svc, closeDB, err := openAuthRead(c)
	if err != nil {
		return err
	}
	defer closeDB()
	users, err := svc.ListUsers()
	if err != nil {
		return opError{op: "list users", err: err, safe: "the auth database was only read"}
	}
	return printListing(c, users, "NAME\tROLES\tCREATED", func(w io.Writer) {
		for _, u := range users {
			fmt.Fprintf(w, "%s\t%s\t%s\n", u.Name, orNone(u.Roles), u.Created.Format(time.RFC3339))
		}
	})
}

func adminTokenCreate(c *cli.Context) error {
	owner, err := requiredFlag(c, "user", "name the token's user with --user")
	if err != nil {
		return err
	}
	scopes, err := auth.ParseScopes(flagValues(c.StringSlice("scope")))
	if err != nil {
		return usagef("--scope: %v; the scopes are: %s", err, scopeList())
	}
	ttl := c.Duration("expires-in")
	if ttl < 0 {
		return usagef("--expires-in must not be negative")
	}
	svc, closeDB, err := openAuthWrite(c, false)
	if err != nil {
		return err
	}
	defer closeDB()
	const safe = "nothing was written; no token was created"
	user, err := existingUser(svc, "create token", owner, safe)
	if err != nil {
		return err
	}
	id, token, err := svc.CreateToken(owner, scopes, ttl)
	if errors.Is(err, auth.ErrScopeNotHeld) {
		return opError{op: "create token", err: err, safe: safe,
			next: fmt.Sprintf("ask only for scopes %s holds (%s), or give it a role with the missing ones", owner, orNone(scopeNames(heldScopes(svc, user))))}
	} else if err != nil {
		return authError("create token", err, safe, "")
	}
	fmt.Fprintln(c.App.Writer, token)

	errOut := c.App.ErrWriter
	fmt.Fprintf(errOut, "created token %s for user %s\n", id, owner)
	if len(scopes) == 0 {
		fmt.Fprintf(errOut, "  scopes:  all of %s's, now and later (currently: %s)\n", owner, orNone(scopeNames(heldScopes(svc, user))))
	} else {
		fmt.Fprintf(errOut, "  scopes:  %s\n", strings.Join(scopeNames(auth.NewScopeSet(scopes...)), ", "))
	}
	if ttl > 0 {
		fmt.Fprintf(errOut, "  expires: %s (in %s)\n", time.Now().Add(ttl).UTC().Format(time.RFC3339), ttl)
	} else {
		fmt.Fprintf(errOut, "  expires: never (revoke it with `flowg admin token revoke --id %s`)\n", id)
	}
	fmt.Fprintf(errOut, "the token is shown once and cannot be displayed again; send it as\n"+
		"  Authorization: Bearer pat:<token>, or export FLOWG_TOKEN=<token> for `flowg backup` and `flowg restore`\n")
	return nil
}

func adminTokenList(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	svc, closeDB, err := openAuthRead(c)
	if err != nil {
		return err
	}
	defer closeDB()
	tokens, err := svc.ListTokens(c.String("user"))
	if err != nil {
		return authError("list tokens", err, "the auth database was only read", "")
	}
	now := time.Now()
	return printListing(c, tokens, "ID\tUSER\tSCOPES\tCREATED\tEXPIRES", func(w io.Writer) {
		for _, t := range tokens {
			scopes := "all of the user's"
			if t.Scopes != nil {
				scopes = strings.Join(scopeNames(t.Scopes), ",")
			}
			expires := "never"
			if t.ExpiresAt != nil {
				expires = t.ExpiresAt.Format(time.RFC3339)
				if !now.Before(*t.ExpiresAt) {
					expires += " (expired)"
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Owner, scopes, t.Created.Format(time.RFC3339), expires)
		}
	})
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

func adminTokenRevoke(c *cli.Context) error {
	id, err := requiredFlag(c, "id", "name the token with --id (see `flowg admin token list`)")
	if err != nil {
		return err
	}
	svc, closeDB, err := openAuthWrite(c, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := svc.RevokeToken("", id); errors.Is(err, auth.ErrNotFound) {
		return opError{op: "revoke token", err: fmt.Errorf("there is no token %s", id), safe: "nothing was written",
			next: "list the tokens with `flowg admin token list`"}
	} else if err != nil {
		return authError("revoke token", err, "nothing was written", "")
	}
	fmt.Fprintf(c.App.Writer, "revoked token %s\n", id)
	return nil
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
