package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// `flowg backups delete ID`: the server deletes one set of its catalog
// (DELETE /api/v1/backups/:id), files and manifest together.

func clientBackupsDeleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete one backup set of the server's catalog",
		UsageText: "flowg backups delete [--server URL] [--token TOKEN] [--json] ID",
		Description: `Deletes the set ID, its files and its manifest, from the server's catalog.
The set is named by its id only (there is no --latest here). The server
refuses a running set, and a set an incremental set builds on (delete the
sets built on it first). Deleting the newest restore-verified set of a
database is allowed but warned about: retention never does it. The
databases are not touched.

The token needs the restore (write) scopes of every database of the set:
   auth    write_acls
   config  write_pipelines, write_transformers, write_alerts
   logs    write_streams

Examples:
   flowg backups delete 20261122T020000Z-3fa2c1
   flowg backups list --json | jq -r '.[] | select(.label == "verify failed") | .id' | xargs -n1 flowg backups delete`,
		Flags:  []cli.Flag{serverFlag(), caCertFlag(), tokenFlag(), &cli.BoolFlag{Name: "json", Usage: "print the server's answer as JSON"}},
		Action: clientBackupsDelete,
	}
}

func clientBackupsDelete(c *cli.Context) error {
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	set, err := setToDelete(c, api)
	if err != nil {
		return err
	}
	newest := newestVerifiedOf(c, api, set)
	var ans struct {
		Deleted string `json:"deleted"`
	}
	if err := api.callJSON(c, http.MethodDelete, "/api/v1/backups/"+set.ID, nil, &ans); err != nil {
		scopes := []auth.Scope{}
		for _, name := range setDBNames(set) {
			scopes = append(scopes, auth.RestoreScopes(name)...)
		}
		return api.clientError("delete", err, "nothing was deleted", scopes)
	}
	if c.Bool("json") {
		if err := encodeJSON(c.App.Writer, ans); err != nil {
			return err
		}
	} else if set.Created.IsZero() {
		fmt.Fprintf(c.App.Writer, "deleted %s\n", set.ID)
	} else {
		fmt.Fprintf(c.App.Writer, "deleted %s: %s set of %s taken %s, labelled %s\n", set.ID, orDash(set.Trigger),
			orDash(strings.Join(setDBNames(set), ",")), set.Created.Format(time.RFC3339), setLabelText(set))
	}
	if len(newest) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s was the newest restore-verified set of %s; take and verify a new one with `flowg backups create --verify`\n",
			set.ID, strings.Join(newest, ","))
	}
	return nil
}

// setToDelete returns the set the one argument names, as the server
// describes it; only its ID when the token may delete but not read it
// (write scopes without the read ones).
func setToDelete(c *cli.Context, api *apiClient) (backup.SetInfo, error) {
	args := c.Args().Slice()
	switch {
	case len(args) == 0:
		return backup.SetInfo{}, usagef("name the set to delete: an ID from `flowg backups list`")
	case len(args) > 1:
		return backup.SetInfo{}, usagef("give one set ID, not %d (unexpected %q)", len(args), args[1])
	case !backup.ValidSetID(args[0]):
		return backup.SetInfo{}, usagef("%q is not a set ID; IDs look like 20261122T020000Z-3fa2c1 (see `flowg backups list`)", truncateText(args[0], 64))
	}
	var set backup.SetInfo
	err := api.callJSON(c, http.MethodGet, "/api/v1/backups/"+args[0], nil, &set)
	var refused *apiError
	if errors.As(err, &refused) && refused.Status == http.StatusForbidden {
		set = backup.SetInfo{}
		set.ID = args[0]
		return set, nil
	}
	if err != nil {
		return set, api.clientError("delete", err, "nothing was deleted", anyBackupScopes)
	}
	return set, nil
}

// newestVerifiedOf returns the databases whose newest restore-verified set
// on the server is set; none when the list cannot be read.
func newestVerifiedOf(c *cli.Context, api *apiClient, set backup.SetInfo) []string {
	if set.Label != backup.LabelRestoreVerified {
		return nil
	}
	list, err := fetchSets(c, api)
	if err != nil {
		return nil
	}
	var out []string
	for _, db := range setDBNames(set) {
		var newest backup.SetInfo
		for _, s := range list.Backups {
			if _, ok := s.Databases[db]; ok && s.Label == backup.LabelRestoreVerified && s.Created.After(newest.Created) {
				newest = s
			}
		}
		if newest.ID == set.ID {
			out = append(out, db)
		}
	}
	return out
}
