package httpapi_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/kv"
)

// setJSON is a set as the catalog routes answer it.
type setJSON struct {
	backup.SetInfo
	Pruned     []string `json:"pruned"`
	Warnings   []string `json:"warnings"`
	FullReason string   `json:"full_reason"`
}

func decodeSet(t testing.TB, r reply) setJSON {
	t.Helper()
	var s setJSON
	if err := json.Unmarshal(r.body, &s); err != nil || s.ID == "" {
		t.Fatalf("answer %s is not a set (%v)", r, err)
	}
	return s
}

// createSet makes a set now with root and returns it.
func (e *env) createSet(query string) setJSON {
	e.t.Helper()
	return decodeSet(e.t, e.do("POST", "/api/v1/backups"+query, e.root, nil, "").must(e.t, http.StatusCreated))
}

// sets lists the catalog with root.
func (e *env) sets() []backup.SetInfo {
	e.t.Helper()
	var list struct {
		Catalog string           `json:"catalog"`
		Backups []backup.SetInfo `json:"backups"`
	}
	r := e.do("GET", "/api/v1/backups", e.root, nil, "").must(e.t, 200)
	if err := json.Unmarshal(r.body, &list); err != nil || list.Backups == nil {
		e.t.Fatalf("list answer %s: %v", r, err)
	}
	if list.Catalog != e.backupDir {
		e.t.Errorf("list says catalog %q, want %q", list.Catalog, e.backupDir)
	}
	return list.Backups
}

// labelOf returns the label (and problem) the list gives set id.
func labelOf(sets []backup.SetInfo, id string) (string, string) {
	for _, s := range sets {
		if s.ID == id {
			return s.Label, s.Problem
		}
	}
	return "(not listed)", ""
}

// preRestoreSets returns the ids of the pre_restore sets in sets.
func preRestoreSets(sets []backup.SetInfo) []string {
	var ids []string
	for _, s := range sets {
		if s.Trigger == backup.TriggerPreRestore {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// flipByte flips one byte in the middle of path, keeping its size.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x5a
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCatalog_CreatedSetIsListedThenVerifyMakesItRestoreVerified(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	set := e.createSet("")
	if set.Label != backup.LabelCreated || set.Trigger != backup.TriggerManual || set.By != "root" {
		t.Fatalf("created set = %+v, want label %q, trigger manual, by root", set.SetInfo, backup.LabelCreated)
	}
	if got := setNamesOf(set.SetInfo); !slices.Equal(got, []string{"auth", "config", "logs"}) {
		t.Errorf("set holds %v, want auth, config, logs", got)
	}
	if label, _ := labelOf(e.sets(), set.ID); label != backup.LabelCreated {
		t.Errorf("list labels the new set %q, want %q", label, backup.LabelCreated)
	}
	got := decodeSet(t, e.do("GET", "/api/v1/backups/"+set.ID, e.root, nil, "").must(t, 200))
	if got.ID != set.ID || got.Databases["config"].Keys != 1 {
		t.Errorf("GET set = %+v, want %s with 1 config key", got.SetInfo, set.ID)
	}

	verified := decodeSet(t, e.do("POST", "/api/v1/backups/"+set.ID+"/verify", e.root, nil, "").must(t, 200))
	if verified.Label != backup.LabelRestoreVerified || verified.Verification == nil || !verified.Verification.OK {
		t.Fatalf("after verify: %+v, want restore-verified", verified.SetInfo)
	}
	if label, _ := labelOf(e.sets(), set.ID); label != backup.LabelRestoreVerified {
		t.Errorf("list labels the verified set %q, want %q", label, backup.LabelRestoreVerified)
	}

	// ?only and ?verify=true in one call.
	logsOnly := e.createSet("?only=logs&verify=true")
	if logsOnly.Label != backup.LabelRestoreVerified || !slices.Equal(setNamesOf(logsOnly.SetInfo), []string{"logs"}) {
		t.Errorf("create ?only=logs&verify=true = %+v, want a restore-verified set of logs only", logsOnly.SetInfo)
	}
	e.do("POST", "/api/v1/backups?only=nope", e.root, nil, "").wantError(t, http.StatusBadRequest, "unknown database", "only=")
	e.do("POST", "/api/v1/backups?verify=maybe", e.root, nil, "").wantError(t, http.StatusBadRequest, "verify", "verify=true")
}

func setNamesOf(s backup.SetInfo) []string {
	var names []string
	for name := range s.Databases {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func TestCatalog_CorruptedFileIsListedVerifyFailedWithTheError(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	set := e.createSet("")
	path := filepath.Join(e.backupDir, set.ID, "config.db")
	before, _ := os.Stat(path)
	flipByte(t, path)
	if after, _ := os.Stat(path); after.Size() != before.Size() {
		t.Fatalf("flipping a byte changed the size")
	}
	// Same size: the list cannot tell before verification.
	if label, _ := labelOf(e.sets(), set.ID); label != backup.LabelCreated {
		t.Errorf("before verify: label %q, want %q", label, backup.LabelCreated)
	}
	got := decodeSet(t, e.do("POST", "/api/v1/backups/"+set.ID+"/verify", e.root, nil, "").must(t, 200))
	if got.Label != backup.LabelVerifyFailed || !strings.Contains(got.Problem, "config.db") {
		t.Fatalf("after verify: label %q problem %q, want %q naming config.db", got.Label, got.Problem, backup.LabelVerifyFailed)
	}
	label, problem := labelOf(e.sets(), set.ID)
	if label != backup.LabelVerifyFailed || problem != got.Problem {
		t.Errorf("list: %q %q, want %q %q", label, problem, backup.LabelVerifyFailed, got.Problem)
	}
	// A set that failed its verification is not restored.
	content := e.content(t, kv.Config)
	e.do("POST", "/api/v1/backups/"+set.ID+"/restore", e.root, nil, "").wantError(t, http.StatusConflict, "verify failed", "another set")
	sameContent(t, "config after a refused restore", e.content(t, kv.Config), content)
}

func TestCatalog_DownloadReturnsTheExactFile(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":1}]}`), "").must(t, 200)
	set := e.createSet("")
	for _, tt := range []struct{ db, file string }{{"auth", "auth.db"}, {"config", "config.db"}, {"logs", "log.db"}} {
		t.Run(tt.db, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(e.backupDir, set.ID, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r := e.do("GET", "/api/v1/backups/"+set.ID+"/"+tt.db, e.root, nil, "").must(t, 200)
			if !bytes.Equal(r.body, want) {
				t.Errorf("download is %d bytes, want the %d bytes of the file on disk", len(r.body), len(want))
			}
			if cd := r.header.Get("Content-Disposition"); cd != fmt.Sprintf("attachment; filename=%q", tt.file) {
				t.Errorf("Content-Disposition = %q, want the file name %s", cd, tt.file)
			}
			if sum := r.header.Get("X-Flowg-Backup-Sha256"); sum != set.Databases[tt.db].SHA256 {
				t.Errorf("X-Flowg-Backup-Sha256 = %q, want the manifest's %q", sum, set.Databases[tt.db].SHA256)
			}
		})
	}
	only := e.createSet("?only=logs")
	e.do("GET", "/api/v1/backups/"+only.ID+"/config", e.root, nil, "").wantError(t, http.StatusNotFound, "holds no config backup", "it holds logs")
	e.do("GET", "/api/v1/backups/"+only.ID+"/secrets", e.root, nil, "").wantError(t, http.StatusNotFound, "unknown database", "/api/v1/backups/ID/auth")
}

func TestCatalog_RestoreByIDAndUndoWithItsPreRestoreSet(t *testing.T) {
	tests := []struct {
		name  string
		query string
		// after says what config holds after the restore.
		wantP, wantNew string // "" means absent
	}{
		{name: "merge", query: "", wantP: "v1", wantNew: "new"},
		{name: "wipe", query: "?wipe=true", wantP: "v1", wantNew: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.putPipeline("p", "v1")
			e.putPipeline("deleted-later", "x")
			e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":"before"}]}`), "").must(t, 200)
			set := e.createSet("")
			e.putPipeline("p", "v2")
			e.putPipeline("created-after", "new")
			e.do("DELETE", "/api/v1/pipelines/deleted-later", e.root, nil, "").must(t, 200)
			e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":"after"}]}`), "").must(t, 200)
			changed := map[kv.Name]map[string]string{}
			for _, n := range kv.Names {
				changed[n] = userContent(t, e, n)
			}
			preBefore := len(preRestoreSets(e.sets()))

			r := e.do("POST", "/api/v1/backups/"+set.ID+"/restore"+tt.query, e.root, nil, "").must(t, 200)
			var got struct {
				Set      string `json:"set"`
				Mode     string `json:"mode"`
				Restores []struct {
					Database       string `json:"database"`
					Mode           string `json:"mode"`
					Written        uint64 `json:"written"`
					SafetySnapshot string `json:"safety_snapshot"`
					SetAside       string `json:"set_aside"`
					Undo           string `json:"undo"`
				} `json:"restores"`
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal(r.body, &got); err != nil || got.Set != set.ID || got.Mode != tt.name || len(got.Restores) != 3 {
				t.Fatalf("restore answer = %s (%v), want set %s restored in %s mode, 3 databases", r, err, set.ID, tt.name)
			}
			if v, _ := e.pipeline("p"); v != tt.wantP {
				t.Errorf("after the restore p = %q, want %q", v, tt.wantP)
			}
			if v, _ := e.pipeline("created-after"); v != tt.wantNew {
				t.Errorf("after the restore created-after = %q, want %q", v, tt.wantNew)
			}
			if v, _ := e.pipeline("deleted-later"); v != "x" {
				t.Errorf("after the restore deleted-later = %q, want it back", v)
			}
			logs := string(e.do("GET", "/api/v1/streams/app/logs", e.root, nil, "").must(t, 200).body)
			if !strings.Contains(logs, "before") || strings.Contains(logs, `"after"`) != (tt.name == "merge") {
				t.Errorf("logs after the %s = %s", tt.name, logs)
			}

			// Every restore left a pre_restore set of its database.
			sets := e.sets()
			if pre := preRestoreSets(sets); len(pre) != preBefore+3 {
				t.Fatalf("pre_restore sets after the restore: %v, want %d more than %d", pre, 3, preBefore)
			}
			for _, rr := range got.Restores {
				info := findSet(t, sets, rr.SafetySnapshot)
				if info.Trigger != backup.TriggerPreRestore || !slices.Equal(setNamesOf(info), []string{rr.Database}) {
					t.Errorf("safety snapshot of %s = %+v, want a pre_restore set of %s alone", rr.Database, info, rr.Database)
				}
				if !strings.Contains(rr.Undo, "/api/v1/backups/"+rr.SafetySnapshot+"/restore?wipe=true") {
					t.Errorf("undo of %s = %q, want how to restore %s", rr.Database, rr.Undo, rr.SafetySnapshot)
				}
			}

			// Undo: restore each pre_restore set with wipe; the databases are as
			// they were before the restore.
			for _, rr := range got.Restores {
				e.do("POST", "/api/v1/backups/"+rr.SafetySnapshot+"/restore?wipe=true", e.root, nil, "").must(t, 200)
			}
			for _, n := range kv.Names {
				sameContent(t, "after undoing the restore: "+string(n), userContent(t, e, n), changed[n])
			}
			// The undo took its own safety snapshots.
			if pre := preRestoreSets(e.sets()); len(pre) != preBefore+6 {
				t.Errorf("pre_restore sets after the undo: %d, want %d", len(pre), preBefore+6)
			}
		})
	}
}

// userContent is the content of database n without the keys flowg keeps
// for itself (kv.ReservedPrefix), which are never backed up nor restored.
func userContent(t *testing.T, e *env, n kv.Name) map[string]string {
	t.Helper()
	c := e.content(t, n)
	for k := range c {
		if strings.HasPrefix(k, kv.ReservedPrefix) {
			delete(c, k)
		}
	}
	return c
}

func findSet(t *testing.T, sets []backup.SetInfo, id string) backup.SetInfo {
	t.Helper()
	for _, s := range sets {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("set %q is not listed", id)
	return backup.SetInfo{}
}

func TestCatalog_RestoreOnlyNamesDatabasesOfTheSet(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	set := e.createSet("?only=config,logs")
	e.putPipeline("p", "v2")
	e.do("POST", "/api/v1/backups/"+set.ID+"/restore?only=auth", e.root, nil, "").wantError(t, http.StatusBadRequest, "holds no auth backup", "nothing was changed")
	r := e.do("POST", "/api/v1/backups/"+set.ID+"/restore?only=config", e.root, nil, "").must(t, 200)
	if n := strings.Count(string(r.body), `"database"`); n != 1 {
		t.Errorf("restore ?only=config restored %d databases, want 1: %s", n, r)
	}
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("p = %q, want v1", v)
	}
}

func TestCatalog_IDsOutsideTheCatalogAre404(t *testing.T) {
	e := newEnv(t, nil)
	set := e.createSet("")
	// Something next to the catalog that no id may reach.
	outside := filepath.Join(filepath.Dir(e.backupDir), "outside")
	if err := os.MkdirAll(filepath.Join(outside, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, backup.ManifestName), []byte(`{"status":"complete","databases":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	before := dirFingerprint(t, filepath.Dir(e.backupDir))
	tmpLeftover := ".tmp-" + set.ID
	ids := []string{
		"..", "%2e%2e", "..%2F..%2Fetc", "%2e%2e%2foutside", "..%2Foutside", "%2Fetc%2Fpasswd", "%2Ftmp",
		"outside", tmpLeftover, ".deleting-" + set.ID, set.ID + "%2F..", "%2E%2E%2F" + set.ID,
		strings.Repeat("a", 4000), strings.Repeat("9", 8) + "T" + strings.Repeat("9", 6) + "Z-" + strings.Repeat("f", 600),
		"20260102T030405Z-a1b2c3", "20260102T030405Z-A1B2C3", "%20" + set.ID,
	}
	for _, id := range ids {
		name := id
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			for _, req := range []struct{ method, suffix string }{
				{"GET", ""}, {"GET", "/config"}, {"POST", "/verify"}, {"POST", "/restore"}, {"POST", "/restore?wipe=true"}, {"DELETE", ""},
			} {
				r := e.do(req.method, "/api/v1/backups/"+id+req.suffix, e.root, nil, "")
				if r.status != http.StatusNotFound {
					t.Errorf("%s /api/v1/backups/%s%s = %s, want 404", req.method, name, req.suffix, r)
				}
			}
		})
	}
	if after := dirFingerprint(t, filepath.Dir(e.backupDir)); after != before {
		t.Errorf("requests with bad ids changed files:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if label, _ := labelOf(e.sets(), set.ID); label != backup.LabelCreated {
		t.Errorf("the real set is now %q, want it untouched", label)
	}
}

// dirFingerprint names every file under dir with its size and modification
// time, leaving out the databases (which Badger may touch on its own).
func dirFingerprint(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "data" && d.IsDir() {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %d %d", rel, info.Size(), info.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func TestCatalog_ScopesOfEachRoute(t *testing.T) {
	e := newEnv(t, nil)
	set := e.createSet("")
	streams := e.token(e.root, "read_streams")
	sendOnly := e.token(e.root, "send_logs")
	writeStreams := e.token(e.root, "read_streams", "write_streams")
	id := set.ID

	tests := []struct {
		name           string
		authz          string
		method, path   string
		status         int
		inError, inHit string
	}{
		{"read_streams lists", streams, "GET", "/api/v1/backups", 200, "", ""},
		{"read_streams reads a set", streams, "GET", "/api/v1/backups/" + id, 200, "", ""},
		{"read_streams downloads logs", streams, "GET", "/api/v1/backups/" + id + "/logs", 200, "", ""},
		{"read_streams cannot download config", streams, "GET", "/api/v1/backups/" + id + "/config", 403,
			"missing scopes read_pipelines, read_transformers, read_alerts", "read_pipelines"},
		{"read_streams cannot back up every database", streams, "POST", "/api/v1/backups", 403, "missing scopes read_acls", "read_acls"},
		{"read_streams cannot verify a set of all three", streams, "POST", "/api/v1/backups/" + id + "/verify", 403, "read_acls", "read_acls"},
		{"read_streams cannot restore", streams, "POST", "/api/v1/backups/" + id + "/restore?only=logs", 403, "missing scope write_streams", "write_streams"},
		{"write_streams cannot restore config", writeStreams, "POST", "/api/v1/backups/" + id + "/restore", 403, "write_acls", "write_acls"},
		{"write_streams cannot delete a set of all three", writeStreams, "DELETE", "/api/v1/backups/" + id, 403, "write_acls", "write_acls"},
		{"no read scope cannot list", sendOnly, "GET", "/api/v1/backups", 403, "at least one database", "read_streams"},
		{"no read scope cannot read a set", sendOnly, "GET", "/api/v1/backups/" + id, 403, "at least one database", "read_streams"},
		{"no token", "", "GET", "/api/v1/backups", 401, "", "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.authz, nil, "")
			if tt.status < 400 {
				r.must(t, tt.status)
				return
			}
			r.wantError(t, tt.status, tt.inError, tt.inHit)
		})
	}
	// A read_streams token backs up, verifies and a write_streams one
	// restores and deletes a set of logs alone.
	logs := decodeSet(t, e.do("POST", "/api/v1/backups?only=logs", streams, nil, "").must(t, 201))
	if logs.By != "root" {
		t.Errorf("set made with root's token: by %q, want root", logs.By)
	}
	e.do("POST", "/api/v1/backups/"+logs.ID+"/verify", streams, nil, "").must(t, 200)
	e.do("POST", "/api/v1/backups/"+logs.ID+"/restore", writeStreams, nil, "").must(t, 200)
	e.do("DELETE", "/api/v1/backups/"+logs.ID, streams, nil, "").wantError(t, 403, "write_streams", "write_streams")
	e.do("DELETE", "/api/v1/backups/"+logs.ID, writeStreams, nil, "").must(t, 200)
	if _, err := os.Stat(filepath.Join(e.backupDir, logs.ID)); !os.IsNotExist(err) {
		t.Errorf("deleted set still on disk: %v", err)
	}
	e.do("GET", "/api/v1/backups/"+logs.ID, e.root, nil, "").wantError(t, 404, "not found", "GET /api/v1/backups")
}

func TestCatalog_GuardRefusesRestoresWithoutSafetyCopyUntilASetIsVerified(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	set := e.createSet("?only=config")
	e.putPipeline("p", "v2")
	file := e.backupOf("config")
	before := e.content(t, kv.Config)
	countPre := func() int { return len(preRestoreSets(e.sets())) }

	refused := []string{
		"/api/v1/backups/" + set.ID + "/restore?no_safety_snapshot=true",
		"/api/v1/backups/" + set.ID + "/restore?wipe=true&discard_previous=true",
		"/api/v1/backups/" + set.ID + "/restore?wipe=true&no_safety_snapshot=true",
	}
	for _, path := range refused {
		e.do("POST", path, e.root, nil, "").wantError(t, http.StatusConflict, "no restore-verified set of the config database", "skip_backup_check=true")
	}
	e.restore("config", "?no_safety_snapshot=true", file).wantError(t, http.StatusConflict, "no restore-verified set", "verify a set first")
	sameContent(t, "config after refused restores", e.content(t, kv.Config), before)
	if n := countPre(); n != 0 {
		t.Errorf("refused restores left %d pre_restore sets, want 0", n)
	}
	e.do("POST", "/api/v1/backups/"+set.ID+"/restore?discard_previous=true", e.root, nil, "").wantError(t, http.StatusBadRequest, "only applies with wipe=true", "")

	// The override goes through and says what is given up.
	r := e.do("POST", "/api/v1/backups/"+set.ID+"/restore?no_safety_snapshot=true&skip_backup_check=true", e.root, nil, "").must(t, 200)
	if !strings.Contains(string(r.body), "no safety snapshot is taken before the merge") || !strings.Contains(string(r.body), "cannot be undone") {
		t.Errorf("answer with skip_backup_check = %s, want a warning that the restore cannot be undone", r)
	}
	if n := countPre(); n != 0 {
		t.Errorf("no_safety_snapshot restore left %d pre_restore sets, want 0", n)
	}

	// Once a set of config is restore-verified, the flags are accepted.
	e.do("POST", "/api/v1/backups/"+set.ID+"/verify", e.root, nil, "").must(t, 200)
	e.putPipeline("p", "v3")
	r = e.do("POST", "/api/v1/backups/"+set.ID+"/restore?no_safety_snapshot=true", e.root, nil, "").must(t, 200)
	if !strings.Contains(string(r.body), `"safety_snapshot":""`) || !strings.Contains(string(r.body), "no safety snapshot is taken") {
		t.Errorf("no_safety_snapshot answer = %s, want no safety snapshot and a warning", r)
	}
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("p = %q, want v1", v)
	}
	e.restore("config", "?no_safety_snapshot=true", file).must(t, 200)

	// discard_previous deletes the directory a wipe keeps aside.
	r = e.do("POST", "/api/v1/backups/"+set.ID+"/restore?wipe=true&discard_previous=true", e.root, nil, "").must(t, 200)
	var ans struct {
		Restores []struct {
			SetAside       string   `json:"set_aside"`
			SafetySnapshot string   `json:"safety_snapshot"`
			Warnings       []string `json:"warnings"`
		} `json:"restores"`
	}
	if err := json.Unmarshal(r.body, &ans); err != nil || len(ans.Restores) != 1 {
		t.Fatalf("answer %s: %v", r, err)
	}
	if ans.Restores[0].SetAside != "" || ans.Restores[0].SafetySnapshot == "" {
		t.Errorf("wipe with discard_previous: set_aside %q, safety snapshot %q; want none kept aside, a snapshot taken", ans.Restores[0].SetAside, ans.Restores[0].SafetySnapshot)
	}
	matches, _ := filepath.Glob(e.dirs.Config + "*before-restore*")
	if len(matches) != 0 {
		t.Errorf("previous config directories left: %v, want none", matches)
	}
	// Without the flags nothing changes: the seed's calls work as before.
	e.restore("config", "", file).must(t, 200)
	e.restore("config", "?wipe=true", file).must(t, 200)
}

// TestCatalog_IncrementalChainsHoldAtMostDefaultMaxChainSets: with
// Options.MaxChain unset, ?incremental=true builds six sets on a full one,
// then the eighth set is full, its answer has no parent and full_reason
// names the chain that was full; the ninth builds on it.
func TestCatalog_IncrementalChainsHoldAtMostDefaultMaxChainSets(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v0")
	prev := e.createSet("?incremental=true")
	if prev.Parent != "" || prev.FullReason != "there is no complete set to build on" {
		t.Fatalf("the first set builds on %q, full_reason %q; want a full set saying there is nothing to build on", prev.Parent, prev.FullReason)
	}
	for i := 2; i <= httpapi.DefaultMaxChain; i++ {
		e.putPipeline("p", fmt.Sprintf("v%d", i))
		set := e.createSet("?incremental=true")
		if set.Parent != prev.ID || set.FullReason != "" {
			t.Fatalf("set %d builds on %q (full_reason %q), want %s", i, set.Parent, set.FullReason, prev.ID)
		}
		prev = set
	}
	capped := e.createSet("?incremental=true")
	want := fmt.Sprintf("the chain of set %s already holds 7 sets, the most a chain may hold (7): a new chain starts", prev.ID)
	if capped.Parent != "" || capped.FullReason != want {
		t.Fatalf("set 8 builds on %q, full_reason %q; want a full set, full_reason %q", capped.Parent, capped.FullReason, want)
	}
	if next := e.createSet("?incremental=true"); next.Parent != capped.ID {
		t.Errorf("set 9 builds on %q, want %s", next.Parent, capped.ID)
	}
	if full := e.createSet(""); full.FullReason != "" {
		t.Errorf("a set not asked to be incremental has full_reason %q, want none", full.FullReason)
	}
}

func TestCatalog_CreateAppliesRetentionButKeepsTheNewestVerifiedSet(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.Retention = backup.Retention{Keep: 1} })
	// Set ids sort by their second: one second apart, the order is sure.
	first := e.createSet("?verify=true")
	time.Sleep(time.Until(first.Created.Truncate(time.Second).Add(time.Second)))
	second := e.createSet("")
	time.Sleep(time.Until(second.Created.Truncate(time.Second).Add(time.Second)))
	third := e.createSet("")
	if len(second.Pruned) != 0 || !slices.Equal(third.Pruned, []string{second.ID}) {
		t.Errorf("pruned %v then %v; want nothing (the newest verified set is kept), then %s", second.Pruned, third.Pruned, second.ID)
	}
	var ids []string
	for _, s := range e.sets() {
		ids = append(ids, s.ID)
	}
	if want := []string{third.ID, first.ID}; !slices.Equal(ids, want) {
		t.Errorf("sets left: %v, want %v: the newest and the restore-verified one", ids, want)
	}
}

func TestCatalog_UnwritableCatalogFailsCreateCleanly(t *testing.T) {
	t.Run("a file where the catalog should be", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "backups")
		if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(o *httpapi.Options) { o.BackupDir = file })
		e.do("POST", "/api/v1/backups", e.root, nil, "").wantError(t, http.StatusInternalServerError, "could not be written", "is a writable directory")
		e.do("GET", "/api/v1/backups", e.root, nil, "").wantError(t, http.StatusInternalServerError, "could not be read", file)
		if b, _ := os.ReadFile(file); string(b) != "not a directory" {
			t.Errorf("the file in the way now holds %q", b)
		}
		// A restore cannot take its safety snapshot: nothing changes.
		e.putPipeline("p", "v1")
		cfg := e.backupOf("config")
		e.putPipeline("p", "v2")
		e.restore("config", "", cfg).wantError(t, http.StatusInternalServerError, "safety snapshot could not be written", "nothing was changed")
		if v, _ := e.pipeline("p"); v != "v2" {
			t.Errorf("p = %q after a refused restore, want v2", v)
		}
	})
	t.Run("a file where a parent directory should be", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "srv")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(o *httpapi.Options) { o.BackupDir = filepath.Join(file, "flowg", "backups") })
		e.do("POST", "/api/v1/backups", e.root, nil, "").wantError(t, http.StatusInternalServerError, "not a directory", "writable directory")
	})
	t.Run("a read-only catalog keeps its older sets", func(t *testing.T) {
		e := newEnv(t, nil)
		older := e.createSet("?verify=true")
		mustMount(t, true, "--bind", e.backupDir, e.backupDir)
		mustMount(t, false, "-o", "remount,bind,ro", e.backupDir)
		before := dirFingerprint(t, e.backupDir)
		e.do("POST", "/api/v1/backups", e.root, nil, "").wantError(t, http.StatusInternalServerError, "read-only file system", "older set")
		if after := dirFingerprint(t, e.backupDir); after != before {
			t.Errorf("a failed run changed the catalog:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if label, _ := labelOf(e.sets(), older.ID); label != backup.LabelRestoreVerified {
			t.Errorf("older set is %q, want restore-verified", label)
		}
	})
	t.Run("a full disk keeps the older sets", func(t *testing.T) {
		dir := t.TempDir()
		mustMount(t, true, "-t", "tmpfs", "-o", "size=512k", "flowg-test", dir)
		e := newEnv(t, func(o *httpapi.Options) { o.BackupDir = filepath.Join(dir, "backups") })
		e.backupDir = filepath.Join(dir, "backups")
		e.putPipeline("p", "v1")
		older := e.createSet("?only=config&verify=true")
		olderFiles := dirFingerprint(t, filepath.Join(dir, "backups", older.ID))
		fillLogs(t, e, 2<<20)

		r := e.do("POST", "/api/v1/backups", e.root, nil, "")
		r.wantError(t, http.StatusInsufficientStorage, "no space left on device", "older set")
		sets := e.sets()
		if label, _ := labelOf(sets, older.ID); label != backup.LabelRestoreVerified {
			t.Errorf("older set is %q after the failed run, want restore-verified", label)
		}
		if got := dirFingerprint(t, filepath.Join(dir, "backups", older.ID)); got != olderFiles {
			t.Errorf("older set's files changed:\nbefore:\n%s\nafter:\n%s", olderFiles, got)
		}
		for _, s := range sets {
			if s.ID != older.ID && s.Label != backup.LabelFailed {
				t.Errorf("the failed run is listed as %q (%+v), want failed or nothing", s.Label, s)
			}
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "backups"))
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), ".tmp-") {
				t.Errorf("the failed run left %s", en.Name())
			}
		}
		// The older set still restores.
		e.putPipeline("p", "v2")
		e.do("POST", "/api/v1/backups/"+older.ID+"/restore?no_safety_snapshot=true", e.root, nil, "").must(t, 200)
		if v, _ := e.pipeline("p"); v != "v1" {
			t.Errorf("p = %q after restoring the older set, want v1", v)
		}
	})
}

// mustMount runs mount with args, failing the test when mounting is not
// permitted (the CI machine permits it); with undo, the mount is undone
// when the test ends.
func mustMount(t *testing.T, undo bool, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %s (this test needs mount(8) to be permitted): %v: %s", strings.Join(args, " "), err, out)
	}
	if !undo {
		return
	}
	target := args[len(args)-1]
	t.Cleanup(func() {
		if out, err := exec.Command("umount", target).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", target, err, out)
		}
	})
}

// fillLogs writes n bytes of incompressible records into the logs database.
func fillLogs(t *testing.T, e *env, n int) {
	t.Helper()
	db, release, err := e.store.Acquire(kv.Logs)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for i := 0; i*64<<10 < n; i++ {
		v := make([]byte, 64<<10)
		_, _ = rand.Read(v)
		if err := wb.SetEntry(badger.NewEntry(fmt.Appendf(nil, "log/fill/%06d", i), []byte(hex.EncodeToString(v)[:64<<10]))); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestCatalog_MetricsShowLastSuccessAndLastVerifiedPerDatabase(t *testing.T) {
	first := newEnv(t, nil)
	verified := first.createSet("?only=config,logs&verify=true")
	// A server started on that catalog reads the times from it.
	e := newEnv(t, func(o *httpapi.Options) { o.BackupDir = first.backupDir })
	e.backupDir = first.backupDir
	at := float64(verified.Created.UnixNano()) / 1e9
	m := e.metrics()
	for _, db := range []string{"config", "logs"} {
		wantMetric(t, m, "flowg_backup_last_success_timestamp_seconds", db, at)
		wantMetric(t, m, "flowg_backup_last_verified_timestamp_seconds", db, at)
	}
	wantMetric(t, m, "flowg_backup_last_success_timestamp_seconds", "auth", 0)
	wantMetric(t, m, "flowg_backup_last_verified_timestamp_seconds", "auth", 0)

	// A new set moves the last success; verifying it moves the last verified.
	time.Sleep(10 * time.Millisecond)
	set := e.createSet("")
	created := float64(set.Created.UnixNano()) / 1e9
	m = e.metrics()
	wantMetric(t, m, "flowg_backup_last_success_timestamp_seconds", "auth", created)
	wantMetric(t, m, "flowg_backup_last_verified_timestamp_seconds", "auth", 0)
	wantMetric(t, m, "flowg_backup_last_verified_timestamp_seconds", "config", at)
	e.do("POST", "/api/v1/backups/"+set.ID+"/verify", e.root, nil, "").must(t, 200)
	m = e.metrics()
	for _, db := range []string{"auth", "config", "logs"} {
		wantMetric(t, m, "flowg_backup_last_verified_timestamp_seconds", db, created)
	}
	if !strings.Contains(m, `flowg_backup_set_runs_total{result="ok",trigger="manual"} 1`) {
		t.Errorf("metrics lack the manual run:\n%s", grepLines(m, "flowg_backup_set_runs_total"))
	}
}

// metrics returns the Prometheus text of the server.
func (e *env) metrics() string {
	e.t.Helper()
	return string(e.do("GET", "/metrics", "", nil, "").must(e.t, 200).body)
}

// wantMetric checks the value of name{database="db"} within a millisecond.
func wantMetric(t *testing.T, text, name, db string, want float64) {
	t.Helper()
	prefix := fmt.Sprintf(`%s{database=%q} `, name, db)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			got, err := strconv.ParseFloat(v, 64)
			if err != nil || math.Abs(got-want) > 1e-3 {
				t.Errorf("%s%s, want %f", prefix, v, want)
			}
			return
		}
	}
	t.Errorf("no %s in the metrics:\n%s", prefix, grepLines(text, name))
}

func grepLines(text, word string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestCatalog_ConcurrentRunsPrunesAndRestoresStayConsistent(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.Retention = backup.Retention{Keep: 2} })
	e.putPipeline("p", "v1")
	verified := e.createSet("?verify=true")
	done := make(chan reply, 8)
	for range 4 {
		go func() { done <- e.do("POST", "/api/v1/backups?only=config", e.root, nil, "") }()
	}
	for range 2 {
		go func() {
			done <- e.do("POST", "/api/v1/backups/"+verified.ID+"/restore?only=logs", e.root, nil, "")
		}()
	}
	for range 6 {
		r := <-done
		if r.status == http.StatusConflict && strings.Contains(string(r.body), "already running") {
			continue // two restores of logs at once: one waits its turn
		}
		if r.status != http.StatusCreated && r.status != http.StatusOK {
			t.Errorf("concurrent call: %s", r)
		}
		if strings.Contains(string(r.body), "could not prune") {
			t.Errorf("concurrent prunes got in each other's way: %s", r)
		}
	}
	for _, s := range e.sets() {
		if s.Label != backup.LabelCreated && s.Label != backup.LabelRestoreVerified {
			t.Errorf("after concurrent runs set %s is %q (%s)", s.ID, s.Label, s.Problem)
		}
	}
	if label, _ := labelOf(e.sets(), verified.ID); label != backup.LabelRestoreVerified {
		t.Errorf("the restore-verified set is %q, want it kept", label)
	}
}
