package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSON_EveryReportingCommandPrintsOneJSONObject runs each command that
// reports with --json: exit 0, and stdout is one JSON value and nothing
// else, an object with "ok": true for the commands whose text is a report.
func TestJSON_EveryReportingCommandPrintsOneJSONObject(t *testing.T) {
	dirs, bk := threeDatabases(t)
	root := filepath.Dir(bk)
	cat := filepath.Join(root, "catalog")
	dbFlags := []string{"--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs}
	cs := newCatalogServer(t)
	client := []string{"--server", cs.url, "--token", cs.token}
	fromClient := filepath.Join(root, "from-server")
	downloaded := filepath.Join(root, "downloaded")

	for _, tt := range []struct {
		name   string
		args   []string
		report bool // a report object with "ok": true
	}{
		{"version", []string{"version", "--json"}, false},
		{"admin backup", append([]string{"admin", "backup", "--backup-dir", filepath.Join(root, "b2"), "--verify", "--json"}, dbFlags...), true},
		{"admin verify", []string{"admin", "verify", "--backup-dir", bk, "--json"}, true},
		{"admin inspect", []string{"admin", "inspect", "--backup-dir", bk, "--json"}, false},
		{"admin restore --dry-run", append([]string{"admin", "restore", "--backup-dir", bk, "--dry-run", "--json"}, dbFlags...), true},
		{"admin restore", append([]string{"admin", "restore", "--backup-dir", bk, "--catalog-dir", filepath.Join(root, "safety"), "--json"}, dbFlags...), true},
		{"admin restore --wipe", append([]string{"admin", "restore", "--backup-dir", bk, "--wipe", "--json"}, dbFlags...), true},
		{"admin backups create", append([]string{"admin", "backups", "create", "--backup-dir", cat, "--verify", "--json"}, dbFlags...), true},
		{"admin backups list", []string{"admin", "backups", "list", "--backup-dir", cat, "--json"}, false},
		{"admin backups verify", []string{"admin", "backups", "verify", "--backup-dir", cat, "--all", "--json"}, true},
		{"admin backups journal", []string{"admin", "backups", "journal", "--backup-dir", cat, "--json"}, false},
		{"admin backups prune", []string{"admin", "backups", "prune", "--backup-dir", cat, "--keep", "1", "--dry-run", "--verbose", "--json"}, true},
		{"admin restore from a catalog", append([]string{"admin", "restore", "--backup-dir", cat, "--dry-run", "--json"}, dbFlags...), true},
		{"admin export", append([]string{"admin", "export", "--only", "config", "--output", filepath.Join(root, "export.jsonl")}, dbFlags...), false},
		{"admin import", append([]string{"admin", "import", "--dry-run", "--json", "--only", "config", filepath.Join(root, "export.jsonl")}, dbFlags...), true},
		{"backup", append([]string{"backup", "--backup-dir", fromClient, "--json"}, client...), true},
		{"restore --dry-run", append([]string{"restore", "--backup-dir", fromClient, "--dry-run", "--json"}, client...), true},
		{"restore", append([]string{"restore", "--backup-dir", fromClient, "--only", "config", "--json"}, client...), true},
		{"backups create", append([]string{"backups", "create", "--verify", "--json"}, client...), false},
		{"backups list", append([]string{"backups", "list", "--json"}, client...), false},
		{"backups verify", append([]string{"backups", "verify", "--latest", "--json"}, client...), false},
		{"backups download", append([]string{"backups", "download", "--latest", "--backup-dir", downloaded, "--json"}, client...), true},
		{"backups restore --dry-run", append([]string{"backups", "restore", "--latest", "--dry-run", "--json"}, client...), true},
		{"backups restore", append([]string{"backups", "restore", "--latest", "--only", "config", "--json"}, client...), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			if r.code != exitOK {
				t.Fatalf("flowg %s: %s", strings.Join(tt.args, " "), r)
			}
			if tt.name == "admin export" {
				return // it writes data, not a report: the file for admin import
			}
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("flowg %s: stdout is no JSON (%v):\n%s", strings.Join(tt.args, " "), err, r)
			}
			if _, err := dec.Token(); err != io.EOF {
				t.Fatalf("flowg %s: stdout holds more than one JSON value:\n%s", strings.Join(tt.args, " "), r)
			}
			obj, isObj := v.(map[string]any)
			if tt.report && (!isObj || obj["ok"] != true) {
				t.Fatalf("flowg %s: want one object with \"ok\": true, got\n%s", strings.Join(tt.args, " "), r)
			}
			if tt.report && bytes.Count([]byte(r.stdout), []byte(`"database"`)) == 0 && obj["sets"] == nil && obj["files"] == nil && obj["result"] == nil {
				t.Errorf("flowg %s: the report lists no database, file or set:\n%s", strings.Join(tt.args, " "), r)
			}
		})
	}
}

// TestJSON_AFailedRunStillPrintsOneObject: a damaged file makes admin
// verify fail (exit 1); --json still prints one object, "ok": false, with
// the file's error.
func TestJSON_AFailedRunStillPrintsOneObject(t *testing.T) {
	_, bk := threeDatabases(t)
	file := filepath.Join(bk, "config.db")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runFlowg(t, "", "admin", "verify", "--backup-dir", bk, "--json")
	var got struct {
		OK    bool `json:"ok"`
		Files []struct {
			File string `json:"file"`
			OK   bool   `json:"ok"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != exitFailed || err != nil || got.OK || len(got.Files) != 3 {
		t.Fatalf("admin verify --json of a damaged set: want exit %d and one object, ok false, 3 files; got %v\n%s", exitFailed, err, r)
	}
	for _, f := range got.Files {
		if f.OK == strings.HasSuffix(f.File, "config.db") {
			t.Errorf("file %s: ok %v", f.File, f.OK)
		}
	}
}
