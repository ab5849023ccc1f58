package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// `flowg backups restore --at TIME`: the server restores its databases to
// an instant of its catalog's journal (POST /api/v1/backups/restore?at=).

func backupsAtFlag() cli.Flag {
	return &cli.StringFlag{Name: "at", Usage: "restore each database to its state at this instant of the server's journal (RFC 3339, or latest); instead of a set ID"}
}

// clientBackupsRestoreAt asks the server for a restore to --at; query
// holds the other restore parameters.
func clientBackupsRestoreAt(c *cli.Context, api *apiClient, only []kv.Name, query url.Values) error {
	if c.Bool("latest") || c.Args().Len() > 0 {
		return usagef("--at restores an instant of the journal: give no set ID and no --latest")
	}
	if _, _, err := backup.ParseAt(c.String("at")); err != nil {
		return usagef("--at: %v", err)
	}
	query.Set("at", c.String("at"))
	names := only
	if names == nil {
		names = kv.Names
	}
	var ans restore.AtResult
	start := time.Now()
	if err := api.callJSON(c, http.MethodPost, "/api/v1/backups/restore", query, &ans); err != nil {
		var scopes []auth.Scope
		for _, n := range names {
			scopes = append(scopes, auth.RestoreScopes(string(n))...)
		}
		safe := "the server rebuilds and checks every database before it changes one"
		var apiErr *apiError
		if errors.As(err, &apiErr) && apiErr.Status < 500 {
			safe = "nothing was changed on the server"
		}
		return api.clientError("restore", err, safe, scopes)
	}
	errOut := c.App.ErrWriter
	printWarnings(errOut, ans.Warnings)
	if c.Bool("dry-run") {
		if !ans.DryRun {
			return opError{op: "restore", err: fmt.Errorf("the server at %s does not know dry_run with at and restored", api.server),
				safe: "the server kept its safety snapshots", next: "upgrade the server before using --dry-run with --at"}
		}
		for _, r := range ans.Restores {
			printWarnings(errOut, r.Warnings)
			if r.Plan != nil {
				printPlan(c, r.Database, "the journal at "+ans.At, *r.Plan)
			}
		}
		reportOf(c).set("dry_run", true)
		fmt.Fprintf(errOut, "dry run on %s: nothing was written\n", api.server)
		return nil
	}
	for _, p := range ans.Instants {
		fmt.Fprintf(errOut, "%s restored to its state at %s: set %s and %d journal segments (%d changes)\n",
			p.Database, p.Instant.Format(time.RFC3339Nano), p.BaseSet, p.Segments, p.Changes)
	}
	for i, r := range ans.Restores {
		printWarnings(errOut, r.Warnings)
		how := "merged into"
		if r.Mode == restore.ModeWipe {
			how = "wiped and restored on"
		}
		fmt.Fprintf(c.App.Writer, "%s  %s %s", fileFigures(r.Database, r.Written, uint64(r.File.Bytes), orDash(r.Duration), r.File.SHA256), how, api.server)
		if i < len(ans.Instants) {
			fmt.Fprintf(c.App.Writer, " at %s", ans.Instants[i].Instant.Format(time.RFC3339Nano))
		}
		if n, ok := ans.Deleted[r.Database]; ok {
			fmt.Fprintf(c.App.Writer, " (%d keys deleted before the instant removed)", n)
		}
		fmt.Fprintln(c.App.Writer)
		reportOf(c).add("databases", r)
		if r.Undo != "" {
			fmt.Fprintf(errOut, "  to undo %s: %s\n", r.Database, r.Undo)
		}
	}
	fmt.Fprintf(errOut, "restore of %s into %s complete in %s\n", joinNames(names), api.server, shortDuration(time.Since(start)))
	return nil
}
