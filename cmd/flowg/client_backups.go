package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Client commands on the backup catalog of a running server: the sets it
// takes on its schedule or on request (POST /api/v1/backups...).

func clientBackupsCommand() *cli.Command {
	idArg := "(--latest | ID)"
	return &cli.Command{
		Name:   "backups",
		Action: groupAction,
		Usage:  "list, create, verify, download and restore the backup sets of a running server",
		Description: `A running server keeps backup sets in its catalog (flowg serve --backup-dir):
the sets it takes on its --backup-schedule, those asked for with
'flowg backups create', and the pre_restore safety snapshots every restore
takes. Each set is listed with a trust label: restore-verified; created, not
restore-verified; verify failed; incomplete; running. These commands talk to
the server (--server, --token or FLOWG_TOKEN); 'flowg admin backups' reads a
catalog directory directly.

Examples:
   flowg backups create --verify && flowg backups list
   flowg backups verify --latest
   flowg backups download --latest --backup-dir ./drill
   flowg backups restore --only config --wipe 20261122T020000Z-3fa2c1

Flags go before the set ID.`,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the server's backup sets, newest first, with their trust labels",
				UsageText: "flowg backups list [--server URL] [--token TOKEN] [--json]",
				Description: `Prints one line per set: id, creation time, trigger (manual, scheduled,
pre_restore), databases, size and trust label, with the reason a set is not
trusted. --json prints the sets as 'flowg admin backups list --json' does.
Nothing is changed.

The token needs the backup scopes of at least one database: read_acls; or
read_pipelines, read_transformers and read_alerts; or read_streams.

Examples:
   flowg backups list --server http://localhost:5080
   flowg backups list --json | jq -r '.[] | select(.label == "restore-verified") | .id' | head -1`,
				Flags:  []cli.Flag{serverFlag(), tokenFlag(), &cli.BoolFlag{Name: "json", Usage: "print the sets as JSON"}},
				Action: clientBackupsList,
			},
			{
				Name:      "create",
				Usage:     "take a backup set now, into the server's catalog",
				UsageText: "flowg backups create [--server URL] [--token TOKEN] [--only auth,config,logs] [--verify] [--json]",
				Description: `Asks the server to write a backup set of its databases now (trigger manual)
while it keeps serving; with --verify the server then restores every file
into a scratch database to prove it restores, and the set is labelled
restore-verified or verify failed. The server's retention (--backup-keep,
--backup-max-age) runs afterwards and may delete older sets, never the newest
restore-verified one. The databases are only read. Exit code 1 when the set
could not be written or, with --verify, failed its verification.

The token needs, per database backed up:
   auth    read_acls
   config  read_pipelines, read_transformers, read_alerts
   logs    read_streams

Examples:
   flowg backups create --verify
   flowg backups create --only logs,config`,
				Flags: []cli.Flag{serverFlag(), tokenFlag(), onlyFlag(),
					&cli.BoolFlag{Name: "verify", Usage: "verify the set right after it is written"},
					&cli.BoolFlag{Name: "json", Usage: "print the server's answer as JSON"}},
				Action: clientBackupsCreate,
			},
			{
				Name:      "verify",
				Usage:     "prove a set restores: every checksum and a load into a scratch database",
				UsageText: "flowg backups verify [--server URL] [--token TOKEN] [--json] " + idArg,
				Description: `The server reads every file of the set, checks every checksum and its
SHA-256 against the manifest, and loads it into a scratch database, comparing
key counts and content hashes. The result is recorded in the set's manifest:
the set is then listed restore-verified, or verify failed with the error.
--latest verifies the newest complete set. Only the manifest is written.
Exit code 1 when the set fails.

The token needs the backup scopes of every database of the set (see
'flowg backups create --help').

Examples:
   flowg backups verify --latest
   flowg backups verify 20261122T020000Z-3fa2c1`,
				Flags:  []cli.Flag{serverFlag(), tokenFlag(), backupsLatestFlag("the newest complete set"), &cli.BoolFlag{Name: "json", Usage: "print the set as JSON"}},
				Action: clientBackupsVerify,
			},
			{
				Name:      "download",
				Usage:     "download the files of a set into a directory, verified locally",
				UsageText: "flowg backups download [--server URL] [--token TOKEN] --backup-dir DIR [--only auth,config,logs] " + idArg,
				Description: `Downloads each file of the set into a temporary 0600 file in DIR (created
0700), checks every checksum as it arrives and the SHA-256 against the set's
manifest, then loads it into a scratch database. Only when every file
verified are they renamed into place as DIR/auth.db, DIR/config.db and
DIR/log.db and DIR/manifest.json written, as 'flowg backup' does, so a
failed run leaves earlier files in DIR intact; 'flowg admin restore' and
'flowg restore' read DIR. --latest takes the newest restore-verified set
(holding the databases of --only). Nothing on the server is changed.

The token needs, per database downloaded: read_acls (auth); read_pipelines,
read_transformers and read_alerts (config); read_streams (logs).

Examples:
   flowg backups download --latest --backup-dir ./drill
   flowg backups download --backup-dir /mnt/offsite/flowg --only logs 20261122T020000Z-3fa2c1`,
				Flags: []cli.Flag{serverFlag(), tokenFlag(), backupsLatestFlag("the newest restore-verified set"), onlyFlag(),
					&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory to write the files into (created 0700)"}},
				Action: clientBackupsDownload,
			},
			{
				Name:      "restore",
				Usage:     "restore the server's databases from a set of its catalog",
				UsageText: "flowg backups restore [--server URL] [--token TOKEN] [--only auth,config,logs] [--wipe] [--no-safety-snapshot] [--discard-previous] [--skip-backup-check] " + idArg,
				Description: `The server checks every file of the set before the first database changes,
then restores each database as an upload to POST /api/v1/restore/{db} is
restored: a safety snapshot (a pre_restore set) of the database first, then
a merge (every key of the set overwrites the database's value; keys the set
lacks are kept) or, with --wipe, a rebuild that afterwards holds exactly the
set's keys (the previous directory is kept aside on the server). The command
prints how to undo each restore. --latest takes the newest restore-verified
set (holding the databases of --only); sets labelled verify failed or
incomplete are refused.

--no-safety-snapshot and --discard-previous (with --wipe) turn a safety copy
off; the server refuses them unless its catalog holds a restore-verified set
of each database, and --skip-backup-check overrides that with a warning.

The token needs, per database restored:
   auth    write_acls
   config  write_pipelines, write_transformers, write_alerts
   logs    write_streams

Examples:
   flowg backups restore --latest --only config
   flowg backups restore --wipe 20261122T020000Z-3fa2c1
   flowg backups restore --only logs --wipe 20261122T093012Z-0b9e44   # undo: restore a pre_restore set`,
				Flags: []cli.Flag{serverFlag(), tokenFlag(), backupsLatestFlag("the newest restore-verified set"), onlyFlag(),
					&cli.BoolFlag{Name: "wipe", Usage: "destructive: afterwards each database holds exactly the set's keys"},
					&cli.BoolFlag{Name: "no-safety-snapshot", Usage: "take no pre_restore set first (needs a restore-verified set, or --skip-backup-check)"},
					&cli.BoolFlag{Name: "discard-previous", Usage: "with --wipe, delete the previous database directory instead of keeping it aside"},
					&cli.BoolFlag{Name: "skip-backup-check", Usage: "allow --no-safety-snapshot / --discard-previous without a restore-verified set"}},
				Action: clientBackupsRestore,
			},
		},
	}
}

func backupsLatestFlag(what string) cli.Flag {
	return &cli.BoolFlag{Name: "latest", Usage: "use " + what + " instead of naming an ID"}
}

// setsListAnswer is the answer of GET /api/v1/backups.
type setsListAnswer struct {
	Catalog string           `json:"catalog"`
	Backups []backup.SetInfo `json:"backups"`
}

// setCreateAnswer is the answer of POST /api/v1/backups.
type setCreateAnswer struct {
	backup.SetInfo
	Pruned   []string `json:"pruned"`
	Warnings []string `json:"warnings"`
	Duration string   `json:"duration"`
}

// setRestoreAnswer is the answer of POST /api/v1/backups/:id/restore.
type setRestoreAnswer struct {
	Set      string          `json:"set"`
	Mode     string          `json:"mode"`
	Restores []restoreAnswer `json:"restores"`
	Warnings []string        `json:"warnings"`
	Duration string          `json:"duration"`
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
		return backupsJSON(c.App.Writer, list.Backups)
	}
	printSets(c.App.Writer, list.Backups)
	if len(list.Backups) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no backup sets on %s (catalog %s); take one with `flowg backups create --verify`\n", api.server, list.Catalog)
	}
	return nil
}

func backupsJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func clientBackupsCreate(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	names, err := namesFrom(c)
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
		if err := backupsJSON(c.App.Writer, ans); err != nil {
			return err
		}
	} else {
		printSetFiles(c.App.Writer, ans.SetInfo)
	}
	errOut := c.App.ErrWriter
	printWarnings(errOut, ans.Warnings)
	fmt.Fprintf(errOut, "backup set %s of %s written on %s in %s: %s\n", ans.ID, strings.Join(setDBNames(ans.SetInfo), ","), api.server, orDash(ans.Duration), setLabelText(ans.SetInfo))
	if len(ans.Pruned) > 0 {
		fmt.Fprintf(errOut, "retention deleted %d older set(s): %s\n", len(ans.Pruned), strings.Join(ans.Pruned, ", "))
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
		fmt.Fprintf(w, "%-6s %8d keys %10s  %7s  sha256 %s  -> set %s (%s)\n", name, e.Keys,
			humanize.IBytes(uint64(e.Bytes)), e.Duration.Round(time.Millisecond), shortSum(e.SHA256), s.ID, s.Label)
	}
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
// --latest the newest set that fits (by creation time). It returns the set
// as the server lists it.
func chooseSet(c *cli.Context, api *apiClient, op string, fits func(backup.SetInfo) bool, none string) (backup.SetInfo, error) {
	args := c.Args().Slice()
	latest := c.Bool("latest")
	switch {
	case latest && len(args) > 0:
		return backup.SetInfo{}, usagef("give a set ID or --latest, not both")
	case !latest && len(args) == 0:
		return backup.SetInfo{}, usagef("name the set: an ID from `flowg backups list`, or --latest")
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return backup.SetInfo{}, usagef("flags go before the set ID: `%s %s %s`", c.Command.HelpName, strings.Join(args[1:], " "), args[0])
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
	var best backup.SetInfo
	for _, s := range list.Backups {
		if fits(s) && (best.ID == "" || s.Created.After(best.Created) || (s.Created.Equal(best.Created) && s.ID > best.ID)) {
			best = s
		}
	}
	if best.ID == "" {
		return best, opError{op: op, err: fmt.Errorf("--latest: %s on %s", none, api.server), safe: "nothing was changed",
			next: "see `flowg backups list`; take and verify a set with `flowg backups create --verify`"}
	}
	fmt.Fprintf(c.App.ErrWriter, "--latest: set %s (%s, %s, created %s)\n", best.ID, orDash(best.Trigger), best.Label, best.Created.Format(time.RFC3339))
	return best, nil
}

// setHolds reports whether s holds every database of names.
func setHolds(s backup.SetInfo, names []kv.Name) bool {
	for _, n := range names {
		if _, ok := s.Databases[string(n)]; !ok {
			return false
		}
	}
	return true
}

// onlyGiven is --only, or nil when it is not given.
func onlyGiven(c *cli.Context) ([]kv.Name, error) {
	if c.String("only") == "" {
		return nil, nil
	}
	return namesFrom(c)
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
		if err := backupsJSON(c.App.Writer, got); err != nil {
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

func clientBackupsDownload(c *cli.Context) error {
	only, err := onlyGiven(c)
	if err != nil {
		return err
	}
	dir := c.String("backup-dir")
	if dir == "" {
		return usagef("name the directory to write into with --backup-dir")
	}
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	set, err := chooseSet(c, api, "download", func(s backup.SetInfo) bool {
		return s.Label == backup.LabelRestoreVerified && setHolds(s, only)
	}, "no restore-verified set"+setHoldsPhrase(only))
	if err != nil {
		return err
	}
	names := only
	if names == nil {
		for _, name := range setDBNames(set) {
			names = append(names, kv.Name(name))
		}
	}
	safe := fmt.Sprintf("nothing on the server was changed; earlier files in %s are unchanged", dir)
	if set.Parent != "" {
		return opError{op: "download", err: fmt.Errorf("set %s is incremental (built on set %s): its files hold only the changes since", set.ID, set.Parent),
			safe: safe, next: "download a full set, or restore this one on the server with `flowg backups restore`, which rebuilds its chain"}
	}
	if !setHolds(set, names) {
		return opError{op: "download", err: fmt.Errorf("set %s holds %s, not %s", set.ID, strings.Join(setDBNames(set), ", "), joinNames(names)),
			safe: safe, next: "download the databases it holds (--only), or pick another set"}
	}
	if len(names) == 0 {
		return opError{op: "download", err: fmt.Errorf("set %s holds no database file (%s)", set.ID, setLabelText(set)), safe: safe}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return opError{op: "download", err: fmt.Errorf("create backup directory: %w", err), safe: safe, next: "choose a --backup-dir you can write to"}
	}
	m, err := backup.ReadManifest(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		m = backup.Manifest{}
	case err != nil:
		return opError{op: "download", err: err, safe: safe,
			next: fmt.Sprintf("move %s aside, or choose another --backup-dir", filepath.Join(dir, backup.ManifestName))}
	}
	if m.Databases == nil {
		m.Databases = map[string]backup.DBEntry{}
	}

	start := time.Now()
	var done []backupDownload
	defer func() {
		for _, d := range done {
			os.Remove(d.tmp) // a no-op once moved into place
		}
	}()
	for _, name := range names {
		d, err := fetchSetFile(c, api, dir, set, name)
		if err != nil {
			return err
		}
		done = append(done, d)
	}
	for _, d := range done {
		if err := os.Rename(d.tmp, filepath.Join(dir, d.entry.File)); err != nil {
			return opError{op: "download", err: fmt.Errorf("move %s into place: %w", d.entry.File, err),
				safe: "every download was verified, but some files in " + dir + " may be of this run and others older"}
		}
	}
	if err := kv.SyncDir(dir); err != nil {
		return opError{op: "download", err: err, safe: "the files are in place but may not be on disk yet"}
	}
	for _, d := range done {
		m.Databases[string(d.name)] = d.entry
	}
	m.Created = time.Now().UTC()
	m.Status = backup.StatusComplete
	m.Error = ""
	m.ToolVersion = version
	m.Verification = nil
	if allDownloadsVerified(m, done) && !slices.ContainsFunc(done, func(d backupDownload) bool { return d.entry.Encrypted }) {
		m.Verification = &backup.Verification{Time: m.Created, OK: true}
	}
	if err := backup.WriteManifest(dir, m); err != nil {
		return opError{op: "download", err: err, safe: fmt.Sprintf("the verified files are in %s; only its manifest is stale", dir),
			next: "free some space and run the command again"}
	}
	for _, d := range done {
		e := d.entry
		how := "verified"
		if e.Encrypted {
			how = "SHA-256 checked; encrypted, not loaded"
		}
		fmt.Fprintf(c.App.Writer, "%-6s %8d keys %10s  %7s  sha256 %s  -> %s (%s)\n", d.name, e.Keys,
			humanize.IBytes(uint64(e.Bytes)), e.Duration.Round(time.Millisecond), shortSum(e.SHA256), filepath.Join(dir, e.File), how)
	}
	fmt.Fprintf(c.App.ErrWriter, "set %s (%s) downloaded from %s into %s in %s\n", set.ID, set.Label, api.server, dir, time.Since(start).Round(time.Millisecond))
	return nil
}

func setHoldsPhrase(names []kv.Name) string {
	if len(names) == 0 {
		return ""
	}
	return " holding " + joinNames(names)
}

// fetchSetFile downloads database name's file of a set into a temporary
// file in dir and checks it: every frame as it arrives, the SHA-256 and key
// count against the set's manifest, then a load into a scratch database. An
// encrypted file is checked by its SHA-256 alone. On error the temporary
// file is removed.
func fetchSetFile(c *cli.Context, api *apiClient, dir string, set backup.SetInfo, name kv.Name) (backupDownload, error) {
	op := "download of " + string(name)
	safe := fmt.Sprintf("nothing on the server was changed; earlier files in %s are unchanged", dir)
	want := set.Databases[string(name)]
	path := "/api/v1/backups/" + set.ID + "/" + string(name)
	start := time.Now()
	resp, err := api.do(c.Context, http.MethodGet, path, nil, nil, 0, "")
	if err != nil {
		return backupDownload{}, api.clientError(op, err, safe, auth.BackupScopes(string(name)))
	}
	defer resp.Body.Close()

	file := backup.FileName(string(name))
	f, err := os.CreateTemp(dir, "."+file+".download-*")
	if err == nil {
		if err = f.Chmod(0o600); err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return backupDownload{}, opError{op: op, err: fmt.Errorf("create %s: %w", filepath.Join(dir, file), err), safe: safe,
			next: "choose a --backup-dir you can write to"}
	}
	tmp := f.Name()
	fail := func(err error, next string) (backupDownload, error) {
		f.Close()
		os.Remove(tmp)
		return backupDownload{}, opError{op: op, err: err, safe: safe + "; the partial download was deleted", next: next}
	}
	retry := fmt.Sprintf("run the command again; if the file is refused again, verify the set on the server (`flowg backups verify %s`) and pick another", set.ID)

	bar := newProgress(c.App.ErrWriter, "download "+string(name), resp.ContentLength)
	var digest string
	var n int64
	var hdr backup.Header
	if want.Encrypted {
		w := &downloadWriter{w: f, h: sha256.New()}
		n, err = io.Copy(w, resp.Body)
		digest = hex.EncodeToString(w.h.Sum(nil))
	} else {
		hdr, n, digest, err = receiveBackup(c.Context, resp, f, string(name), bar)
	}
	bar.finish()
	if err != nil {
		if c.Context.Err() != nil {
			return fail(c.Context.Err(), "")
		}
		return fail(fmt.Errorf("download %s: %w", api.endpoint(path, nil), err), retry)
	}
	if digest != want.SHA256 {
		return fail(fmt.Errorf("%w: the download's sha256 %s differs from the %s the set's manifest records", backup.ErrChecksum, shortSum(digest), shortSum(want.SHA256)), retry)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("write %s: %w", tmp, err), "free some space or choose another --backup-dir")
	}
	entry := want
	entry.File = file
	entry.Bytes = n
	entry.Duration = time.Since(start)
	entry.Source = api.endpoint(path, nil)
	entry.Note = fmt.Sprintf("set %s (%s, %s)", set.ID, orDash(set.Trigger), set.Label)
	if !want.Encrypted {
		_, sum, err := backup.VerifyFile(c.Context, tmp, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(name)}, Load: true})
		if err == nil && want.Format != backup.FormatBadger && sum.Keys != want.Keys {
			err = fmt.Errorf("%w: the file holds %d keys, the set's manifest says %d", backup.ErrChecksum, sum.Keys, want.Keys)
		}
		if err != nil {
			return fail(fmt.Errorf("verify the download: %w", err), retry)
		}
		if hdr.Raw {
			fmt.Fprintf(c.App.ErrWriter, "warning: %s: %s\n", name, backup.RawWarning)
		}
	} else {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s: the set is encrypted: its SHA-256 was checked, but it was not loaded; "+
			"verify it with `flowg admin verify --identity FILE`\n", name)
	}
	return backupDownload{name: name, tmp: tmp, entry: entry}, nil
}

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
	set, err := chooseSet(c, api, "restore", func(s backup.SetInfo) bool {
		return s.Label == backup.LabelRestoreVerified && setHolds(s, only)
	}, "no restore-verified set"+setHoldsPhrase(only))
	if err != nil {
		return err
	}
	names := only
	if names == nil {
		for _, name := range setDBNames(set) {
			names = append(names, kv.Name(name))
		}
	}
	query := url.Values{}
	if only != nil {
		query.Set("only", joinNames(only))
	}
	for _, flag := range []struct{ name, param string }{
		{"wipe", "wipe"}, {"no-safety-snapshot", "no_safety_snapshot"},
		{"discard-previous", "discard_previous"}, {"skip-backup-check", "skip_backup_check"},
	} {
		if c.Bool(flag.name) {
			query.Set(flag.param, "true")
		}
	}
	errOut := c.App.ErrWriter
	mode := "merge"
	if wipe {
		mode = "wipe"
	}
	fmt.Fprintf(errOut, "restoring %s on %s from set %s (%s, created %s), %s\n", joinNames(names), api.server, set.ID, set.Label,
		set.Created.Format(time.RFC3339), mode)
	if wipe {
		fmt.Fprintf(errOut, "--wipe: afterwards %s will hold exactly the set's keys; keys written since the set was taken are removed\n", joinNames(names))
	}
	var ans setRestoreAnswer
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
		if op, ok := e.(opError); ok && apiErr != nil && apiErr.Status == http.StatusConflict &&
			(c.Bool("no-safety-snapshot") || c.Bool("discard-previous")) && strings.Contains(apiErr.Message, "restore-verified") {
			op.next = "keep the safety copy (leave out --no-safety-snapshot / --discard-previous), verify a set first " +
				"(`flowg backups verify --latest`), or add --skip-backup-check to accept the risk"
			return op
		}
		return e
	}
	printWarnings(errOut, ans.Warnings)
	for _, r := range ans.Restores {
		printWarnings(errOut, r.Warnings)
		how := "merged into"
		if r.Mode == modeWipeAnswer {
			how = "wiped and restored on"
		}
		took := r.Duration
		fmt.Fprintf(c.App.Writer, "%-6s %8d keys %10s  %7s  sha256 %s  %s %s from set %s", r.Database, r.Written,
			humanize.IBytes(uint64(r.File.Bytes)), orDash(took), shortSum(r.File.SHA256), how, api.server, ans.Set)
		if r.ExpiredSkipped > 0 {
			fmt.Fprintf(c.App.Writer, " (%d expired records skipped)", r.ExpiredSkipped)
		}
		fmt.Fprintln(c.App.Writer)
		if r.Undo != "" {
			fmt.Fprintf(errOut, "  to undo %s: %s\n", r.Database, r.Undo)
		}
	}
	fmt.Fprintf(errOut, "restore of %s from set %s into %s complete in %s\n", joinNames(names), ans.Set, api.server, time.Since(start).Round(time.Millisecond))
	return nil
}

// modeWipeAnswer is how a restore answer names a wipe.
const modeWipeAnswer = "wipe"
