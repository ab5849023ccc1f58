package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/urfave/cli/v2"
)

// `flowg admin token create|list|revoke`: offline administration of personal
// access tokens in the auth database of a stopped server (a token for the
// client commands). Opening the database and the helpers shared with
// `flowg admin user` are in admin_auth.go.

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
   flowg admin token create --user backup-bot --scope read_acls --scope read_pipelines --scope read_transformers --scope read_alerts --scope read_streams --expires-in 30d`,
				Flags: []cli.Flag{
					authDirFlag(),
					&cli.StringFlag{Name: "user", Usage: "user the token acts as"},
					&cli.StringSliceFlag{Name: "scope", Usage: "narrow the token to this scope (repeat, or separate with commas); all of the user's when unset"},
					&cli.StringFlag{Name: "expires-in", Usage: "lifetime: e.g. 720h, 90m or 30d; the token never expires when unset"},
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

// scopeList is every scope, space-separated, for help texts and errors.
func scopeList() string {
	names := make([]string, len(auth.AllScopes))
	for i, s := range auth.AllScopes {
		names[i] = string(s)
	}
	return strings.Join(names, " ")
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
	ttl, err := durationFrom(c, "expires-in")
	if err != nil {
		return err
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
	id, token, err := svc.CreateToken(auth.LocalAdmin, owner, scopes, ttl)
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
	if err := svc.RevokeToken(auth.LocalAdmin, id); errors.Is(err, auth.ErrNotFound) {
		return opError{op: "revoke token", err: fmt.Errorf("there is no token %s", id), safe: "nothing was written",
			next: "list the tokens with `flowg admin token list`"}
	} else if err != nil {
		return authError("revoke token", err, "nothing was written", "")
	}
	fmt.Fprintf(c.App.Writer, "revoked token %s\n", id)
	return nil
}
