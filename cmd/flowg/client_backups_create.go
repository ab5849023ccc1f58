package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// `flowg backups create` and `flowg backups verify`: the server takes a set
// now, or proves one restores, and records the result in the set's manifest.

// setCreateAnswer is the answer of POST /api/v1/backups.
type setCreateAnswer struct {
	backup.SetInfo
	Pruned   []string `json:"pruned"`
	Warnings []string `json:"warnings"`
	Duration string   `json:"duration"`
}

func clientBackupsCreate(c *cli.Context) error {
	names, err := namesWithoutArgs(c)
	if err != nil {
		return err
	}
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	query := url.Values{}
	if c.String("only") != "" {
		query.Set("only", joinNames(names))
	}
	if c.Bool("verify") {
		query.Set("verify", "true")
	}
	var ans setCreateAnswer
	if err := api.callJSON(c, http.MethodPost, "/api/v1/backups", query, &ans); err != nil {
		scopes := []auth.Scope{}
		for _, n := range names {
			scopes = append(scopes, auth.BackupScopes(string(n))...)
		}
		return api.clientError("create", err, "the databases were only read; the server's older sets are unchanged", scopes)
	}
	if c.Bool("json") {
		if err := encodeJSON(c.App.Writer, ans); err != nil {
			return err
		}
	} else {
		printSetFiles(c.App.Writer, ans.SetInfo)
	}
	errOut := c.App.ErrWriter
	printWarnings(errOut, ans.Warnings)
	fmt.Fprintf(errOut, "backup set %s of %s written on %s in %s: %s\n", ans.ID, strings.Join(setDBNames(ans.SetInfo), ","), api.server, orDash(ans.Duration), setLabelText(ans.SetInfo))
	if len(ans.Pruned) > 0 {
		fmt.Fprintf(errOut, "retention deleted %s: %s\n", countText(len(ans.Pruned), "older set"), strings.Join(ans.Pruned, ", "))
	}
	if c.Bool("verify") && ans.Label != backup.LabelRestoreVerified {
		return opError{op: "create", err: fmt.Errorf("set %s was written but is %s", ans.ID, setLabelText(ans.SetInfo)),
			safe: "the set is kept and labelled so; older sets are unchanged",
			next: "do not rely on this set: check the server's disk and log, then run `flowg backups create --verify` again"}
	}
	return nil
}

// printSetFiles prints one line per database of a set, as `flowg backup` does.
func printSetFiles(w io.Writer, s backup.SetInfo) {
	for _, name := range setDBNames(s) {
		e := s.Databases[name]
		fmt.Fprintf(w, "%s  -> set %s (%s)\n", entryFigures(name, e), s.ID, s.Label)
	}
}

func clientBackupsVerify(c *cli.Context) error {
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	set, err := chooseSet(c, api, "verify", func(s backup.SetInfo) bool {
		return s.Status == backup.StatusComplete && s.Label != backup.LabelRunning
	},
		"no complete set")
	if err != nil {
		return err
	}
	var got backup.SetInfo
	if err := api.callJSON(c, http.MethodPost, "/api/v1/backups/"+set.ID+"/verify", nil, &got); err != nil {
		scopes := []auth.Scope{}
		for _, name := range setDBNames(set) {
			scopes = append(scopes, auth.BackupScopes(name)...)
		}
		return api.clientError("verify", err, "no backup file was changed", scopes)
	}
	if c.Bool("json") {
		if err := encodeJSON(c.App.Writer, got); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.App.Writer, "%s  %s\n", got.ID, setLabelText(got))
	}
	if got.Label != backup.LabelRestoreVerified {
		return opError{op: "verify", err: fmt.Errorf("set %s is %s", got.ID, setLabelText(got)),
			safe: "the result is recorded in the set's manifest; no backup file was changed",
			next: "do not restore from this set: pick a restore-verified one (`flowg backups list`), and take a new one with `flowg backups create --verify`"}
	}
	return nil
}
