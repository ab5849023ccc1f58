package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// `flowg admin user create|passwd|list`: offline administration of users in
// the auth database of a stopped server (the first user, a lost password).
// Opening the database and the helpers shared with `flowg admin token` are
// in admin_auth.go.

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
