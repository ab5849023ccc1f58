package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/kv"
)

// catalogServer is a real flowg server (httpapi over Badger in a temp dir)
// for the backups commands, with a personal access token of root.
type catalogServer struct {
	url       string
	token     string // pat:...
	backupDir string
}

func newCatalogServer(t *testing.T) *catalogServer {
	t.Helper()
	dir := t.TempDir()
	store, err := kv.OpenStore(kv.Dirs{Auth: filepath.Join(dir, "auth"), Config: filepath.Join(dir, "config"), Logs: filepath.Join(dir, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db, release, err := store.Acquire(kv.Auth)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(db, auth.Options{})
	_, _, err = svc.Bootstrap("root-password")
	var token string
	if err == nil {
		_, token, err = svc.CreateToken(auth.LocalAdmin, auth.RootUser, nil, 0)
	}
	release()
	if err != nil {
		t.Fatal(err)
	}
	cs := &catalogServer{token: "pat:" + token, backupDir: filepath.Join(dir, "backups")}
	srv := httpapi.New(store, httpapi.Options{BackupDir: cs.backupDir, UploadDir: t.TempDir(), Version: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	cs.url = hs.URL
	return cs
}

// flowg runs `flowg backups <args> --server URL --token T`, the flags put
// before the positional arguments.
func (cs *catalogServer) flowg(t *testing.T, sub string, args ...string) cliResult {
	t.Helper()
	return runFlowg(t, "", append([]string{"backups", sub, "--server", cs.url, "--token", cs.token}, args...)...)
}

func (cs *catalogServer) mustFlowg(t *testing.T, sub string, args ...string) cliResult {
	t.Helper()
	r := cs.flowg(t, sub, args...)
	if r.code != 0 {
		t.Fatalf("flowg backups %s %v: want exit 0, got\n%s", sub, args, r)
	}
	return r
}

// pipeline sets (value != "") or reads pipeline name through the API.
func (cs *catalogServer) pipeline(t *testing.T, name, value string) string {
	t.Helper()
	method, body := http.MethodGet, io.Reader(nil)
	if value != "" {
		method, body = http.MethodPut, strings.NewReader(value)
	}
	req, _ := http.NewRequest(method, cs.url+"/api/v1/pipelines/"+name, body)
	req.Header.Set("Authorization", "Bearer "+cs.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s pipeline %s: %d %s", method, name, resp.StatusCode, b)
	}
	return string(b)
}

// sets is what `flowg backups list --json` prints.
func (cs *catalogServer) sets(t *testing.T) []backup.SetInfo {
	t.Helper()
	r := cs.mustFlowg(t, "list", "--json")
	var sets []backup.SetInfo
	if err := json.Unmarshal([]byte(r.stdout), &sets); err != nil {
		t.Fatalf("list --json printed %q: %v", r.stdout, err)
	}
	return sets
}

// onlySetID returns the id of the one set whose trigger is trigger.
func onlySetID(t *testing.T, sets []backup.SetInfo, trigger string) string {
	t.Helper()
	var ids []string
	for _, s := range sets {
		if s.Trigger == trigger {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("sets with trigger %s: %v, want one", trigger, ids)
	}
	return ids[0]
}

func TestClientBackups_CreateListVerifyDownloadAndRestore(t *testing.T) {
	cs := newCatalogServer(t)
	cs.pipeline(t, "p", "v1")

	r := cs.mustFlowg(t, "create", "--verify")
	for _, db := range []string{"auth", "config", "logs"} {
		if !strings.Contains(r.stdout, db+" ") || !strings.Contains(r.stdout, "(restore-verified)") {
			t.Errorf("create printed no restore-verified line for %s:\n%s", db, r)
		}
	}
	sets := cs.sets(t)
	if len(sets) != 1 || sets[0].Label != backup.LabelRestoreVerified {
		t.Fatalf("list --json = %+v, want one restore-verified set", sets)
	}
	id := sets[0].ID
	if !strings.Contains(r.stderr, "backup set "+id) {
		t.Errorf("create's stderr does not name set %s:\n%s", id, r)
	}
	table := cs.mustFlowg(t, "list")
	if !strings.Contains(table.stdout, "LABEL") || !strings.Contains(table.stdout, id) || !strings.Contains(table.stdout, "restore-verified") {
		t.Errorf("list table:\n%s", table)
	}
	if v := cs.mustFlowg(t, "verify", "--latest"); v.stdout != id+"  restore-verified\n" {
		t.Errorf("verify --latest printed %q, want %q", v.stdout, id+"  restore-verified\n")
	}

	// A newer set that is not verified: download and restore --latest keep
	// to the verified one, verify --latest takes the newest.
	newer := cs.mustFlowg(t, "create", "--only", "config")
	if !strings.Contains(newer.stdout, "(created, not restore-verified)") {
		t.Errorf("create without --verify:\n%s", newer)
	}

	dir := filepath.Join(t.TempDir(), "drill")
	d := cs.mustFlowg(t, "download", "--latest", "--backup-dir", dir)
	if !strings.Contains(d.stderr, "--latest: set "+id) {
		t.Errorf("download --latest did not take the verified set %s:\n%s", id, d)
	}
	for _, file := range []string{"auth.db", "config.db", "log.db"} {
		got, err := os.ReadFile(filepath.Join(dir, file))
		want, werr := os.ReadFile(filepath.Join(cs.backupDir, id, file))
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: downloaded %d bytes (%v), the set holds %d (%v)", file, len(got), err, len(want), werr)
		}
	}
	m, err := backup.ReadManifest(dir)
	if err != nil || m.Verification == nil || !m.Verification.OK || len(m.Databases) != 3 {
		t.Errorf("downloaded manifest = %+v (%v), want 3 verified databases", m, err)
	}

	cs.pipeline(t, "p", "v2")
	rs := cs.mustFlowg(t, "restore", "--latest", "--only", "config")
	if !strings.Contains(rs.stdout, "merged into") || !strings.Contains(rs.stderr, "to undo this restore: the safety snapshot") {
		t.Errorf("restore output:\n%s", rs)
	}
	if v := cs.pipeline(t, "p", ""); v != "v1" {
		t.Errorf("after the restore p = %q, want v1", v)
	}
	// The restore left a pre_restore set; restoring it with --wipe undoes it.
	pre := onlySetID(t, cs.sets(t), backup.TriggerPreRestore)
	cs.mustFlowg(t, "restore", "--wipe", pre)
	if v := cs.pipeline(t, "p", ""); v != "v2" {
		t.Errorf("after undoing the restore p = %q, want v2", v)
	}
}

func TestClientBackups_ACorruptedSetFailsVerifyDownloadAndRestore(t *testing.T) {
	cs := newCatalogServer(t)
	cs.pipeline(t, "p", "v1")
	cs.mustFlowg(t, "create")
	id := cs.sets(t)[0].ID
	path := filepath.Join(cs.backupDir, id, "config.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "out")
	d := cs.flowg(t, "download", "--backup-dir", dir, id)
	if d.code != exitFailed || !strings.Contains(d.stderr, "checksum mismatch") || !strings.Contains(d.stderr, "flowg backups verify "+id) {
		t.Errorf("download of a damaged set: want exit 1 naming the checksum, got\n%s", d)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused download left %d files in %s", len(entries), dir)
	}

	v := cs.flowg(t, "verify", id)
	if v.code != exitFailed || !strings.HasPrefix(v.stdout, id+"  verify failed: config.db") || !strings.Contains(v.stderr, "flowg: verify failed") {
		t.Errorf("verify of a damaged set: want exit 1 and the label, got\n%s", v)
	}
	if label := cs.sets(t)[0].Label; label != backup.LabelVerifyFailed {
		t.Errorf("listed as %q, want %q", label, backup.LabelVerifyFailed)
	}
	cs.pipeline(t, "p", "v2")
	rs := cs.flowg(t, "restore", id)
	if rs.code != exitFailed || !strings.Contains(rs.stderr, "verify failed") {
		t.Errorf("restore of a set that failed verification: want exit 1, got\n%s", rs)
	}
	if v := cs.pipeline(t, "p", ""); v != "v2" {
		t.Errorf("p = %q after a refused restore, want v2", v)
	}
}

func TestClientBackups_RestoreWithoutSafetyCopyNeedsAVerifiedSet(t *testing.T) {
	cs := newCatalogServer(t)
	cs.pipeline(t, "p", "v1")
	cs.mustFlowg(t, "create", "--only", "config")
	id := cs.sets(t)[0].ID
	cs.pipeline(t, "p", "v2")

	r := cs.flowg(t, "restore", "--no-safety-snapshot", id)
	if r.code != exitFailed || !strings.Contains(r.stderr, "no restore-verified set of the config database") ||
		!strings.Contains(r.stderr, "next:  keep the safety copy") || !strings.Contains(r.stderr, "--skip-backup-check") {
		t.Errorf("restore --no-safety-snapshot without a verified set: want a refusal naming --skip-backup-check, got\n%s", r)
	}
	if v := cs.pipeline(t, "p", ""); v != "v2" {
		t.Fatalf("p = %q after a refused restore, want v2", v)
	}
	r = cs.mustFlowg(t, "restore", "--no-safety-snapshot", "--skip-backup-check", id)
	if !strings.Contains(r.stderr, "warning: no safety snapshot is taken before the merge") || !strings.Contains(r.stderr, "cannot be undone") {
		t.Errorf("--skip-backup-check: want a warning on stderr, got\n%s", r)
	}
	cs.mustFlowg(t, "verify", id)
	cs.pipeline(t, "p", "v3")
	cs.mustFlowg(t, "restore", "--no-safety-snapshot", id)
	if v := cs.pipeline(t, "p", ""); v != "v1" {
		t.Errorf("p = %q, want v1", v)
	}
	for _, s := range cs.sets(t) {
		if s.Trigger == backup.TriggerPreRestore {
			t.Errorf("a restore without safety snapshot left pre_restore set %s", s.ID)
		}
	}
}

func TestClientBackups_Misuse(t *testing.T) {
	const id = "20261122T020000Z-3fa2c1"
	server := []string{"--server", "http://127.0.0.1:1", "--token", "pat:x"}
	tests := []struct {
		name    string
		args    []string
		inError string
	}{
		{"unknown subcommand", []string{"backups", "bogus"}, `unknown command "bogus"`},
		{"verify without a set", append([]string{"backups", "verify"}, server...), "name the set"},
		{"an id and --latest", append(append([]string{"backups", "verify"}, server...), "--latest", id), "not both"},
		{"two ids", append(append([]string{"backups", "restore"}, server...), id, id), "give one set ID, not 2"},
		{"a bad id", append(append([]string{"backups", "download"}, server...), "../../etc"), `"../../etc" is not a set ID`},
		{"a flag after the id without its value", append(append([]string{"backups", "restore"}, server...), id, "--only"), "--only needs a value"},
		{"discard without wipe", append(append([]string{"backups", "restore"}, server...), "--discard-previous", id), "--discard-previous only applies with --wipe"},
		{"bad --only", append([]string{"backups", "create", "--only", "nope"}, server...), "--only: unknown database"},
		{"stray argument", append([]string{"backups", "list"}, append(server, "extra")...), `unexpected argument "extra"`},
		{"no token", []string{"backups", "list", "--server", "http://127.0.0.1:1", "--token", ""}, "no token"},
		{"empty backup dir", append(append([]string{"backups", "download", "--backup-dir", ""}, server...), id), "--backup-dir"},
	}
	t.Setenv("FLOWG_TOKEN", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, tt.inError) ||
				!strings.HasSuffix(r.stderr, "see:   flowg --help, or the command's --help\n") {
				t.Errorf("want exit 2, empty stdout and a usage error with %q, got\n%s", tt.inError, r)
			}
		})
	}
}

func TestClientBackups_HelpNamesScopes(t *testing.T) {
	for sub, scopes := range map[string][]string{
		"list":     {"read_streams"},
		"create":   {"read_acls", "read_pipelines", "read_streams"},
		"verify":   {"backup scopes"},
		"download": {"read_acls", "read_streams"},
		"restore":  {"write_acls", "write_pipelines", "write_streams", "--skip-backup-check"},
	} {
		r := runFlowg(t, "", "backups", sub, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "USAGE:") || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("backups %s --help:\n%s", sub, r)
		}
		for _, s := range scopes {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("backups %s --help does not name %s", sub, s)
			}
		}
	}
}

func TestServe_BadBackupFlagsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	dirs := []string{"--auth-dir", filepath.Join(dir, "auth"), "--config-dir", filepath.Join(dir, "config"), "--log-dir", filepath.Join(dir, "logs"),
		"--http-bind", "127.0.0.1:0", "--backup-dir", filepath.Join(dir, "backups")}
	tests := []struct {
		name    string
		args    []string
		inError string
	}{
		{"a schedule that does not parse", []string{"--backup-schedule", "61 * * * *"}, "--backup-schedule: schedule \"61 * * * *\""},
		{"six fields", []string{"--backup-schedule", "0 0 2 * * *"}, "use 5 cron fields"},
		{"an interval under a second", []string{"--backup-schedule", "@every 10ms"}, "at least 1s"},
		{"verify without a schedule", []string{"--backup-verify"}, "--backup-verify verifies scheduled sets"},
		{"a negative keep", []string{"--backup-keep", "-1"}, "--backup-keep -1"},
		{"a negative max age", []string{"--backup-max-age", "-5h"}, `--backup-max-age: "-5h" is negative: use e.g. 720h, 90m or 30d`},
		{"a max age in fractional days", []string{"--backup-max-age", "1.5d"}, `--backup-max-age: "1.5d" is not a duration: use e.g. 720h, 90m or 30d`},
		{"a max age without a unit", []string{"--backup-max-age", "30"}, `--backup-max-age: "30" is not a duration: use e.g. 720h, 90m or 30d`},
		{"a create rate without a duration", []string{"--backup-create-rate", "6"}, `--backup-create-rate: "6" is not a rate: write COUNT/DURATION, e.g. 6/h, 20/24h or 100/7d (0 for no limit)`},
		{"a create rate with a bad duration", []string{"--backup-create-rate", "6/week"}, `--backup-create-rate: "6/week" is not a rate: after the / give a duration such as h, 30m, 24h or 7d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", append(append([]string{"serve"}, dirs...), tt.args...)...)
			if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, tt.inError) {
				t.Errorf("want exit 2 and a usage error with %q, got\n%s", tt.inError, r)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused starts created %d entries in %s, want none", len(entries), dir)
	}
}
