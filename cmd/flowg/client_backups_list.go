package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Reading the server's catalog: `flowg backups list`, the calls that fetch
// sets and the choice of the set a command names (an ID or --latest).

// setsListAnswer is the answer of GET /api/v1/backups.
type setsListAnswer struct {
	Catalog string               `json:"catalog"`
	Backups []backup.SetInfo     `json:"backups"`
	Journal []backup.JournalSpan `json:"journal"`
}

// maxCatalogAnswer bounds the catalog answers read.
const maxCatalogAnswer = 16 << 20

// anyBackupScopes is what listing needs, named after a 403.
var anyBackupScopes = []auth.Scope{auth.ScopeReadStreams}

// callJSON sends a request and decodes its JSON answer into v.
func (a *apiClient) callJSON(c *cli.Context, method, path string, query url.Values, v any) error {
	resp, err := a.do(c.Context, method, path, query, nil, 0, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCatalogAnswer))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("read the server's answer to %s %s: %w (is --server %s a flowg server?)", method, path, err, a.server)
	}
	return nil
}

// fetchSets fetches the server's sets, newest first.
func fetchSets(c *cli.Context, a *apiClient) (setsListAnswer, error) {
	var list setsListAnswer
	err := a.callJSON(c, http.MethodGet, "/api/v1/backups", nil, &list)
	return list, err
}

func clientBackupsList(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	list, err := fetchSets(c, api)
	if err != nil {
		return api.clientError("list", err, "nothing was changed", anyBackupScopes)
	}
	if list.Backups == nil {
		list.Backups = []backup.SetInfo{}
	}
	if c.Bool("json") {
		return encodeJSON(c.App.Writer, list.Backups)
	}
	printSets(c.App.Writer, list.Backups)
	printSpans(c.App.Writer, list.Journal)
	if len(list.Backups) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no backup sets on %s (catalog %s); take one with `flowg backups create --verify`\n", api.server, list.Catalog)
	}
	return nil
}

// setDBNames returns the databases of a set in canonical order.
func setDBNames(s backup.SetInfo) []string {
	var out []string
	for _, n := range kv.Names {
		if _, ok := s.Databases[string(n)]; ok {
			out = append(out, string(n))
		}
	}
	return out
}

// setLabelText reads "restore-verified" or "verify failed: <why>".
func setLabelText(s backup.SetInfo) string {
	if s.Problem != "" {
		return s.Label + ": " + s.Problem
	}
	return s.Label
}

// chooseSet resolves the set a command names: its one ID argument, or with
// --latest the newest set that fits (backup.Newest: by creation time, never
// a pre_restore safety set). It returns the set
// as the server lists it.
func chooseSet(c *cli.Context, api *apiClient, op string, fits func(backup.SetInfo) bool, none string) (backup.SetInfo, error) {
	args := c.Args().Slice()
	latest := c.Bool("latest")
	switch {
	case latest && len(args) > 0:
		return backup.SetInfo{}, usagef("give a set ID or --latest, not both")
	case !latest && len(args) == 0:
		return backup.SetInfo{}, usagef("name the set: an ID from `flowg backups list`, or --latest")
	case len(args) > 1:
		return backup.SetInfo{}, usagef("give one set ID, not %d (unexpected %q)", len(args), args[1])
	case !latest && !backup.ValidSetID(args[0]):
		return backup.SetInfo{}, usagef("%q is not a set ID; IDs look like 20261122T020000Z-3fa2c1 (see `flowg backups list`)", truncateText(args[0], 64))
	}
	scopes := anyBackupScopes
	if !latest {
		var info backup.SetInfo
		if err := api.callJSON(c, http.MethodGet, "/api/v1/backups/"+args[0], nil, &info); err != nil {
			return info, api.clientError(op, err, "nothing was changed", scopes)
		}
		return info, nil
	}
	list, err := fetchSets(c, api)
	if err != nil {
		return backup.SetInfo{}, api.clientError(op, err, "nothing was changed", scopes)
	}
	best, ok := backup.Newest(list.Backups, fits)
	if !ok {
		return best, opError{op: op, err: fmt.Errorf("--latest: %s on %s", none, api.server), safe: "nothing was changed",
			next: "see `flowg backups list`; take and verify a set with `flowg backups create --verify`"}
	}
	fmt.Fprintf(c.App.ErrWriter, "--latest: set %s (%s, %s, created %s)\n", best.ID, orDash(best.Trigger), best.Label, best.Created.Format(time.RFC3339))
	return best, nil
}

// chooseVerifiedSet resolves the restore-verified set a command names (see
// chooseSet) that holds the databases of only, and the databases to handle:
// only, or all the set holds when only is nil.
func chooseVerifiedSet(c *cli.Context, api *apiClient, op string, only []kv.Name) (backup.SetInfo, []kv.Name, error) {
	set, err := chooseSet(c, api, op, func(s backup.SetInfo) bool {
		return s.Label == backup.LabelRestoreVerified && setHolds(s, only)
	}, "no restore-verified set"+setHoldsPhrase(only))
	if err != nil {
		return set, nil, err
	}
	names := only
	if names == nil {
		for _, name := range setDBNames(set) {
			names = append(names, kv.Name(name))
		}
	}
	return set, names, nil
}

// onlyGiven is --only, or nil when it is not given.
func onlyGiven(c *cli.Context) ([]kv.Name, error) {
	if c.String("only") == "" {
		return nil, nil
	}
	return namesFrom(c)
}

// setHolds reports whether s holds every database of names.
func setHolds(s backup.SetInfo, names []kv.Name) bool { return backup.Holds(s, kv.Strings(names)) }

func setHoldsPhrase(names []kv.Name) string {
	if len(names) == 0 {
		return ""
	}
	return " holding " + joinNames(names)
}
