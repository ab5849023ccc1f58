package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// `flowg backups restore`: the server restores its databases from a set of
// its catalog; the command prints what it did and how to undo it.

func clientBackupsRestore(c *cli.Context) error {
	only, err := onlyGiven(c)
	if err != nil {
		return err
	}
	wipe := c.Bool("wipe")
	if c.Bool("discard-previous") && !wipe {
		return usagef("--discard-previous only applies with --wipe")
	}
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	query := url.Values{}
	if only != nil {
		query.Set("only", joinNames(only))
	}
	for _, flag := range []struct{ name, param string }{
		{"wipe", "wipe"}, {"no-safety-snapshot", "no_safety_snapshot"},
		{"discard-previous", "discard_previous"}, {"skip-backup-check", "skip_backup_check"}, {"dry-run", "dry_run"},
	} {
		if c.Bool(flag.name) {
			query.Set(flag.param, "true")
		}
	}
	if c.IsSet("at") {
		return clientBackupsRestoreAt(c, api, only, query)
	}
	set, names, err := chooseVerifiedSet(c, api, "restore", only)
	if err != nil {
		return err
	}
	errOut := c.App.ErrWriter
	mode := "merge"
	if wipe {
		mode = "wipe"
	}
	fmt.Fprintf(errOut, "restoring %s on %s from set %s (%s, created %s), %s\n", joinNames(names), api.server, set.ID, set.Label,
		set.Created.Format(time.RFC3339), mode)
	if wipe && !c.Bool("dry-run") {
		fmt.Fprintf(errOut, "--wipe: afterwards %s will hold exactly the set's keys; keys written since the set was taken are removed\n", joinNames(names))
	}
	var ans restore.SetResult
	start := time.Now()
	if err := api.callJSON(c, http.MethodPost, "/api/v1/backups/"+set.ID+"/restore", query, &ans); err != nil {
		scopes := []auth.Scope{}
		for _, n := range names {
			scopes = append(scopes, auth.RestoreScopes(string(n))...)
		}
		safe := "the server checks every file of the set before it changes a database"
		var apiErr *apiError
		if errors.As(err, &apiErr) && apiErr.Status < 500 {
			safe = "nothing was changed on the server"
		}
		e := api.clientError("restore", err, safe, scopes)
		if op, ok := e.(opError); ok && apiErr != nil && apiErr.Code == httpapi.CodeNoVerifiedSet {
			op.next = "keep the safety copy (leave out --no-safety-snapshot / --discard-previous), verify a set first " +
				"(`flowg backups verify --latest`), or add --skip-backup-check to accept the risk"
			return op
		}
		return e
	}
	printWarnings(errOut, ans.Warnings)
	if c.Bool("dry-run") {
		return printSetDryRun(c, api, ans)
	}
	for _, r := range ans.Restores {
		printWarnings(errOut, r.Warnings)
		how := "merged into"
		if r.Mode == restore.ModeWipe {
			how = "wiped and restored on"
		}
		fmt.Fprintf(c.App.Writer, "%s  %s %s from set %s",
			fileFigures(r.Database, r.Written, uint64(r.File.Bytes), orDash(r.Duration), r.File.SHA256), how, api.server, ans.Set)
		if r.ExpiredSkipped > 0 {
			fmt.Fprintf(c.App.Writer, " (%s skipped)", countText(r.ExpiredSkipped, "expired record"))
		}
		fmt.Fprintln(c.App.Writer)
		reportOf(c).add("databases", r)
	}
	reportOf(c).set("set", ans.Set)
	reportOf(c).set("mode", ans.Mode)
	if undo := undoSetRestore(ans.Restores); undo != "" {
		fmt.Fprintf(errOut, "  to undo this restore: %s\n", undo)
		reportOf(c).set("undo", undo)
	}
	fmt.Fprintf(errOut, "restore of %s from set %s into %s complete in %s\n", joinNames(names), ans.Set, api.server, shortDuration(time.Since(start)))
	return nil
}

// undoSetRestore is one line saying how to undo every database of a set
// restore: the safety snapshots to restore with --wipe (one of a merge
// holds every database merged), in one command line, and the directories
// the server kept aside; a lone database's undo as the server said it.
func undoSetRestore(restores []restore.Result) string {
	if len(restores) == 1 {
		return restores[0].Undo
	}
	var ids, asides []string
	only := map[string][]string{}
	for _, r := range restores {
		switch {
		case r.SafetySnapshot != "":
			if only[r.SafetySnapshot] == nil {
				ids = append(ids, r.SafetySnapshot)
			}
			only[r.SafetySnapshot] = append(only[r.SafetySnapshot], r.Database)
		case r.SetAside != "":
			asides = append(asides, fmt.Sprintf("%s at %s", r.Database, r.SetAside))
		}
	}
	var cmds []string
	for _, id := range ids {
		cmds = append(cmds, fmt.Sprintf("flowg backups restore --wipe --only %s %s", strings.Join(only[id], ","), id))
	}
	var ways []string
	if len(cmds) > 0 {
		ways = append(ways, strings.Join(cmds, " && "))
	}
	if len(asides) > 0 {
		ways = append(ways, "the previous database directories are kept on the server: "+strings.Join(asides, ", "))
	}
	if len(ways) == 0 && len(restores) > 0 {
		return restores[0].Undo
	}
	return strings.Join(ways, "; ")
}

// printSetDryRun prints the plan of each database of a set restore's dry
// run, or refuses an answer that is no dry run (a server that does not know
// dry_run restored).
func printSetDryRun(c *cli.Context, api *apiClient, ans restore.SetResult) error {
	if !ans.DryRun {
		return opError{op: "restore", err: fmt.Errorf("the server at %s does not know dry_run and restored set %s", api.server, ans.Set),
			safe: "the server kept its safety snapshots: " + orDash(undoSetRestore(ans.Restores)), next: "upgrade the server before using --dry-run"}
	}
	for _, r := range ans.Restores {
		printWarnings(c.App.ErrWriter, r.Warnings)
		if r.Plan != nil {
			printPlan(c, r.Database, "set "+ans.Set, *r.Plan)
		}
	}
	reportOf(c).set("set", ans.Set)
	reportOf(c).set("dry_run", true)
	fmt.Fprintf(c.App.ErrWriter, "dry run on %s: nothing was written\n", api.server)
	return nil
}
