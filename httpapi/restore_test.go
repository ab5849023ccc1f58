package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/kv"
)

// getDoc returns the body of pipeline name, or "" with status 404.
func (e *env) pipeline(name string) (string, int) {
	e.t.Helper()
	r := e.do("GET", "/api/v1/pipelines/"+name, e.root, nil, "")
	if r.status != 200 {
		return "", r.status
	}
	return string(r.body), r.status
}

func (e *env) putPipeline(name, body string) {
	e.t.Helper()
	e.do("PUT", "/api/v1/pipelines/"+name, e.root, strings.NewReader(body), "").must(e.t, 200)
}

func TestRestore_MergePutsBackOldValuesAndKeepsNewKeys(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	file := e.backupOf("config")
	e.putPipeline("p", "v2")
	e.putPipeline("created-after", "new")

	got := e.restore("config", "", file).must(t, 200).json(t)
	if got["mode"] != "merge" || got["written"] != float64(1) || got["database"] != "config" {
		t.Fatalf("restore answer = %v, want a merge of 1 key into config", got)
	}
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("after merge p = %q, want the backup's v1", v)
	}
	if v, _ := e.pipeline("created-after"); v != "new" {
		t.Errorf("after merge created-after = %q, want it kept", v)
	}
	// The safety snapshot holds the database as it was: v2 and created-after.
	set, _ := got["safety_snapshot"].(string)
	m, err := backup.ReadManifest(filepath.Join(e.backupDir, set))
	if err != nil || m.Trigger != backup.TriggerPreRestore || m.By != "root" {
		t.Fatalf("safety snapshot %q: manifest %+v, %v; want trigger pre_restore by root", set, m, err)
	}
	if entry := m.Databases["config"]; entry.Keys != 2 {
		t.Errorf("safety snapshot holds %d config keys, want 2", entry.Keys)
	}
}

func TestRestore_WipeRemovesKeysTheBackupLacks(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	file := e.backupOf("config")
	e.putPipeline("p", "v2")
	e.putPipeline("created-after", "new")

	got := e.restore("config", "?wipe=true", file).must(t, 200).json(t)
	if got["mode"] != "wipe" || got["written"] != float64(1) {
		t.Fatalf("restore answer = %v, want a wipe writing 1 key", got)
	}
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("after wipe p = %q, want v1", v)
	}
	if _, status := e.pipeline("created-after"); status != http.StatusNotFound {
		t.Errorf("after wipe created-after answers %d, want 404", status)
	}
	// One safety copy per restore: the safety snapshot, not also the
	// previous directory.
	if aside, _ := got["set_aside"].(string); aside != "" || got["safety_snapshot"] == "" {
		t.Errorf("set_aside = %q, safety_snapshot = %v; want the snapshot alone", aside, got["safety_snapshot"])
	}
	if left, _ := filepath.Glob(e.dirs.Config + ".before-restore*"); len(left) != 0 {
		t.Errorf("the wipe kept the previous directory %v besides its safety snapshot", left)
	}
	if undo, _ := got["undo"].(string); !strings.Contains(undo, "wipe=true") {
		t.Errorf("undo = %q, want how to restore the safety snapshot", undo)
	}
}

func TestRestore_TextFieldInsteadOfFileIs400WithAtHint(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	before := e.content(t, kv.Config)
	// What curl --form backup=config.db (without @) sends.
	body, ct := form("backup", "", []byte("config.db"))
	e.do("POST", "/api/v1/restore/config", e.root, body, ct).
		wantError(t, http.StatusBadRequest, `holds the text "config.db"`, "--form backup=@config.db")
	// And curl -d backup=config.db.
	e.do("POST", "/api/v1/restore/config", e.root, strings.NewReader("backup=config.db"), "application/x-www-form-urlencoded").
		wantError(t, http.StatusBadRequest, "not a file", "@")
	body, ct = form("file", "config.db", []byte("x"))
	e.do("POST", "/api/v1/restore/config", e.root, body, ct).wantError(t, http.StatusBadRequest, `no field named "backup"`, "backup=@")
	sameContent(t, "config after refused uploads", e.content(t, kv.Config), before)
	if entries, _ := os.ReadDir(e.backupDir); len(entries) != 0 {
		t.Errorf("refused uploads left %d entries in the backup catalog, want none", len(entries))
	}
}

// TestRestore_FileNamedInsteadOfUploadedComesFromTheRestoreDir runs the
// FlowG page's call as written, curl --form backup=config.db without @,
// against a server with a restore directory: the named file there is
// restored. Names with a directory, hidden names and missing files are 400s
// that change nothing.
func TestRestore_FileNamedInsteadOfUploadedComesFromTheRestoreDir(t *testing.T) {
	restoreDir := t.TempDir()
	e := newEnv(t, func(o *httpapi.Options) { o.RestoreDir = restoreDir })
	e.putPipeline("p", "v1")
	file := e.backupOf("config")
	if err := os.WriteFile(filepath.Join(restoreDir, "config.db"), file, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restoreDir, ".hidden.db"), file, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(restoreDir, "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Not a flowg file (a raw Badger stream names no database): refused.
	if err := os.WriteFile(filepath.Join(restoreDir, "raw.db"), []byte("\x10\x00\x00\x00\x00\x00\x00\x00raw badger stream"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.putPipeline("p", "v2")
	before := e.content(t, kv.Config)

	for _, tt := range []struct{ name, msg, hint string }{
		{"../config.db", "not a file", "--form backup=@"},
		{"/etc/passwd", "not a file", "--form backup=@"},
		{".hidden.db", "not a file", "--form backup=@"},
		// Missing, not a file or not a flowg file: one and the same
		// answer, which names neither the directory nor what it holds.
		{"missing.db", "is not a flowg backup file this server's restore directory can give", "--form backup=@missing.db"},
		{"raw.db", "is not a flowg backup file this server's restore directory can give", "--form backup=@raw.db"},
		{"subdir", "is not a flowg backup file this server's restore directory can give", "--form backup=@subdir"},
	} {
		body, ct := form("backup", "", []byte(tt.name))
		r := e.do("POST", "/api/v1/restore/config", e.root, body, ct)
		r.wantError(t, http.StatusBadRequest, tt.msg, tt.hint)
		if strings.Contains(r.String(), restoreDir) {
			t.Errorf("the answer to %q shows the server's restore directory %s:\n%s", tt.name, restoreDir, r)
		}
	}
	sameContent(t, "config after refused names", e.content(t, kv.Config), before)

	body, ct := form("backup", "", []byte("config.db"))
	got := e.do("POST", "/api/v1/restore/config", e.root, body, ct).must(t, 200).json(t)
	if got["mode"] != "merge" {
		t.Fatalf("restore answer = %v, want a merge", got)
	}
	// The answer names the server's file it restored, and says so.
	if f, _ := got["file"].(map[string]any); f["server_file"] != "config.db" {
		t.Errorf("restore answer file = %v, want server_file config.db", got["file"])
	}
	if w := fmt.Sprint(got["warnings"]); !strings.Contains(w, "restored config.db from the server's restore directory") || !strings.Contains(w, "backup=@config.db") {
		t.Errorf("restore answer warnings = %s, want one saying the server's config.db was restored and how to upload", w)
	}
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("after restoring the named file p = %q, want v1", v)
	}
	// curl -d backup=config.db names it the same way.
	e.putPipeline("p", "v3")
	e.do("POST", "/api/v1/restore/config", e.root, strings.NewReader("backup=config.db"), "application/x-www-form-urlencoded").must(t, 200)
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("after curl -d backup=config.db p = %q, want v1", v)
	}
}

func TestRestore_BadUploadsAre400AndChangeNothing(t *testing.T) {
	e := newEnv(t, nil)
	e.putPipeline("p", "v1")
	good := e.backupOf("config")
	authFile := e.backupOf("auth")
	e.putPipeline("p", "v2")
	e.putPipeline("q", "new")
	before := e.content(t, kv.Config)

	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(good)
	_ = zw.Close()
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rand.IntN(256))
	}
	tests := []struct {
		name    string
		file    []byte
		inError string
		inHint  string
	}{
		{name: "empty", file: nil, inError: "empty", inHint: "--form backup=@"},
		{name: "random", file: random, inError: "", inHint: "nothing was changed"},
		{name: "truncated in the middle", file: good[:len(good)/2], inError: "truncated", inHint: "nothing was changed"},
		{name: "truncated by one byte", file: good[:len(good)-1], inError: "", inHint: "nothing was changed"},
		{name: "one byte flipped", file: flipped, inError: "", inHint: "nothing was changed"},
		{name: "gzip-wrapped", file: gz.Bytes(), inError: "compressor", inHint: "decompress"},
		{name: "another database", file: authFile, inError: `holds "auth", not "config"`, inHint: "its own file"},
	}
	for _, tt := range tests {
		for _, mode := range []string{"", "?wipe=true"} {
			t.Run(tt.name+mode, func(t *testing.T) {
				e.restore("config", mode, tt.file).wantError(t, http.StatusBadRequest, tt.inError, tt.inHint)
				e.do("POST", "/api/v1/restore/config"+mode, e.root, bytes.NewReader(tt.file), "application/octet-stream").
					wantError(t, http.StatusBadRequest, tt.inError, tt.inHint)
				sameContent(t, "config after a refused upload", e.content(t, kv.Config), before)
			})
		}
	}
	if entries, _ := os.ReadDir(e.backupDir); len(entries) != 0 {
		t.Errorf("refused uploads left %d safety snapshots, want none (they come after the check)", len(entries))
	}
	e.do("POST", "/api/v1/restore/config?wipe=maybe", e.root, bytes.NewReader(good), "").wantError(t, http.StatusBadRequest, "wipe", "wipe=true")
}

// holdRestores returns options whose hook stops restores of db at the write
// step until release is called; entered is closed when the first arrives.
func holdRestores(db kv.Name) (tune func(*httpapi.Options), entered <-chan struct{}, release func()) {
	in, hold := make(chan struct{}), make(chan struct{})
	var once, done sync.Once
	tune = func(o *httpapi.Options) {
		o.BeforeRestoreWrite = func(n kv.Name, wipe bool) {
			if n != db {
				return
			}
			once.Do(func() { close(in) })
			<-hold
		}
	}
	return tune, in, func() { done.Do(func() { close(hold) }) }
}

func TestRestore_SecondRestoreOfOneDatabaseIs409(t *testing.T) {
	tune, entered, release := holdRestores(kv.Config)
	e := newEnv(t, tune)
	defer release()
	e.putPipeline("p", "v1")
	file := e.backupOf("config")
	logsFile := e.backupOf("logs")

	first := make(chan reply, 1)
	go func() { first <- e.restore("config", "", file) }()
	<-entered
	e.restore("config", "?wipe=true", file).wantError(t, http.StatusConflict, "already running", "wait")
	e.restore("logs", "", logsFile).must(t, 200) // another database is not blocked
	release()
	(<-first).must(t, 200)
	e.restore("config", "", file).must(t, 200) // and the next one runs
}

func TestRestore_WipeMakesOnlyThatDatabaseAnswer503(t *testing.T) {
	tune, entered, release := holdRestores(kv.Logs)
	e := newEnv(t, tune)
	defer release()
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":"before"}]}`), "").must(t, 200)
	file := e.backupOf("logs")
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":"after"}]}`), "").must(t, 200)
	e.putPipeline("p", "v1")

	done := make(chan reply, 1)
	go func() { done <- e.restore("logs", "?wipe=true", file) }()
	<-entered
	for _, path := range []string{"/api/v1/streams", "/api/v1/streams/app/logs", "/api/v1/backup/logs"} {
		r := e.do("GET", path, e.root, nil, "")
		r.wantError(t, http.StatusServiceUnavailable, "logs database", "retry")
		if got := r.header.Get("Retry-After"); got != "5" {
			t.Errorf("GET %s: Retry-After = %q, want 5", path, got)
		}
	}
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{}]}`), "").
		wantError(t, http.StatusServiceUnavailable, "logs database", "retry")
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("config during the logs wipe: p = %q, want v1", v)
	}
	e.do("GET", "/api/v1/backup/config", e.root, nil, "").must(t, 200)
	if h := e.do("GET", "/healthz", "", nil, "").must(t, 200).json(t); h["databases"].(map[string]any)["logs"] != "unavailable" {
		t.Errorf("healthz during the wipe = %v, want logs unavailable", h)
	}
	release()
	(<-done).must(t, 200)
	q := e.do("GET", "/api/v1/streams/app/logs", e.root, nil, "").must(t, 200)
	if !strings.Contains(string(q.body), "before") || strings.Contains(string(q.body), "after") {
		t.Errorf("logs after the wipe = %s, want only the backed-up record", q)
	}
}

func TestRestore_DisabledOnlineRestoreIs403(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.NoOnlineRestore = true })
	file := e.backupOf("config")
	e.restore("config", "", file).wantError(t, http.StatusForbidden, "online restore is disabled", "flowg admin restore")
}

func TestRestore_MergeOfAuthWarnsAboutRevivedUsers(t *testing.T) {
	e := newEnv(t, nil)
	e.doJSON("PUT", "/api/v1/users/carol", e.root, map[string]any{"password": "pw", "roles": []string{"admin"}}).must(t, 200)
	file := e.backupOf("auth")
	e.do("DELETE", "/api/v1/users/carol", e.root, nil, "").must(t, 200)
	got := e.restore("auth", "", file).must(t, 200)
	if !strings.Contains(string(got.body), "brought back 1 user ") || !strings.Contains(string(got.body), "carol") {
		t.Errorf("restore answer = %s, want a warning that carol is back", got)
	}
	e.do("GET", "/api/v1/users/carol", e.root, nil, "").must(t, 200)
}

func TestRestore_UploadOverTheLimitIs413(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.MaxUploadBytes = 100 })
	file := e.backupOf("auth")
	before := e.content(t, kv.Auth)
	e.restore("auth", "", file).wantError(t, http.StatusRequestEntityTooLarge, "limit of 100 bytes", "nothing was changed")
	sameContent(t, "auth after a refused upload", e.content(t, kv.Auth), before)
}
