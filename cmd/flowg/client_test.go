package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

const testToken = "0123456789abcdef_0123456789abcdef0123456789abcdef0123456789abcdef"

// makeBackup returns a real backup file of database name holding keys
// records, dumped from a Badger database.
func makeBackup(t *testing.T, name string, keys int) []byte {
	t.Helper()
	db, err := kv.Open(filepath.Join(t.TempDir(), name), kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(txn *badger.Txn) error {
		for i := range keys {
			if err := txn.Set(fmt.Appendf(nil, "%s/key-%04d", name, i), bytes.Repeat([]byte{byte(i)}, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, _, err := backup.Dump(t.Context(), db, &buf, backup.DumpOptions{Database: name}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeFiles returns backup files of the three databases.
func fakeFiles(t *testing.T) map[string][]byte {
	return map[string][]byte{"auth": makeBackup(t, "auth", 3), "config": makeBackup(t, "config", 5), "logs": makeBackup(t, "logs", 200)}
}

// fakeAnswer is an error answer the fake server gives.
type fakeAnswer struct {
	status     int
	body       string
	retryAfter string
}

// restoreCall is a restore request the fake server received.
type restoreCall struct {
	db          string
	query       string
	contentType string
	body        []byte
}

// fakeServer answers the backup, restore and login endpoints as the flowg
// server does, and records what it was asked.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte     // backup served per database
	deny     map[string]fakeAnswer // error answered instead, per "GET auth" / "POST logs" / "login"
	requests int
	restores []restoreCall
	trailer  string // SHA-256 trailer sent instead of the body's, if set
}

func newFakeServer(t *testing.T, files map[string][]byte) *fakeServer {
	f := &fakeServer{files: files, deny: map[string]fakeAnswer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/backup/{db}", func(w http.ResponseWriter, r *http.Request) {
		if !f.admit(w, r, "GET "+r.PathValue("db")) {
			return
		}
		f.mu.Lock()
		body, ok := f.files[r.PathValue("db")]
		f.mu.Unlock()
		if !ok {
			writeAnswer(w, fakeAnswer{status: 404, body: `{"error":"unknown database"}`})
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Trailer", backup.TrailerSHA256)
		w.Write(body)
		f.mu.Lock()
		sum := f.trailer
		f.mu.Unlock()
		if sum == "" {
			sum = sha256Hex(body)
		}
		w.Header().Set(backup.TrailerSHA256, sum)
	})
	mux.HandleFunc("POST /api/v1/restore/{db}", func(w http.ResponseWriter, r *http.Request) {
		if !f.admit(w, r, "POST "+r.PathValue("db")) {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake server: read upload: %v", err)
			return
		}
		f.mu.Lock()
		f.restores = append(f.restores, restoreCall{db: r.PathValue("db"), query: r.URL.RawQuery, contentType: r.Header.Get("Content-Type"), body: body})
		f.mu.Unlock()
		db := r.PathValue("db")
		_, sum, err := backup.Verify(r.Context(), bytes.NewReader(body), backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: db}})
		if err != nil {
			writeAnswer(w, fakeAnswer{status: 400, body: fmt.Sprintf(`{"error":%q,"hint":"nothing was changed"}`, "restore refused: "+err.Error())})
			return
		}
		// The shape of httpapi's answer to a restore.
		json.NewEncoder(w).Encode(map[string]any{
			"database": db, "mode": map[bool]string{true: "wipe", false: "merge"}[r.URL.Query().Get("wipe") == "true"],
			"written": sum.Keys, "expired_skipped": 0,
			"file":            map[string]any{"format": "flowg", "bytes": len(body), "keys": sum.Keys, "sha256": sum.SHA256},
			"safety_snapshot": "20250101T000000Z-abcdef", "safety_snapshot_dir": "backups/20250101T000000Z-abcdef",
			"undo":     "upload backups/20250101T000000Z-abcdef/" + backup.FileName(db) + " with ?wipe=true",
			"warnings": []string{"fake warning for " + db}, "duration": "12ms",
		})
	})
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		f.count()
		var req struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Username != "root" || req.Password != rootPassword {
			writeAnswer(w, fakeAnswer{status: 401, body: `{"error":"invalid username or password","code":"bad_credentials"}`})
			return
		}
		fmt.Fprint(w, `{"token":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln"}`)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) count() {
	f.mu.Lock()
	f.requests++
	f.mu.Unlock()
}

// admit counts the request, checks its credentials and answers a denial
// set for key; it reports whether the handler should go on.
func (f *fakeServer) admit(w http.ResponseWriter, r *http.Request, key string) bool {
	f.count()
	if r.Header.Get("Authorization") != "Bearer pat:"+testToken {
		writeAnswer(w, fakeAnswer{status: 401, body: `{"error":"unknown token"}`})
		return false
	}
	f.mu.Lock()
	deny, ok := f.deny[key]
	f.mu.Unlock()
	if ok {
		writeAnswer(w, deny)
		return false
	}
	return true
}

func writeAnswer(w http.ResponseWriter, a fakeAnswer) {
	w.Header().Set("Content-Type", "application/json")
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dirState maps every file name in dir to its content.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		state[e.Name()] = string(b)
	}
	return state
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

func TestClientBackup_WritesVerifiedFilesAndManifest(t *testing.T) {
	files := fakeFiles(t)
	srv := newFakeServer(t, files)
	dir := filepath.Join(t.TempDir(), "backup")

	r := runFlowg(t, "", "backup", "--server", srv.URL, "--token", testToken, "--backup-dir", dir)
	if r.code != exitOK {
		t.Fatalf("want exit 0, got %s", r)
	}
	state := dirState(t, dir)
	if want := []string{"auth.db", "config.db", "log.db", "manifest.json"}; !slices.Equal(sortedKeys(state), want) {
		t.Fatalf("files: want %v, got %v", want, sortedKeys(state))
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("backup dir mode: want 0700, got %v", st.Mode().Perm())
	}
	m, err := backup.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != backup.StatusComplete || m.Verification == nil || !m.Verification.OK {
		t.Errorf("manifest: want complete and verified, got status %q verification %+v", m.Status, m.Verification)
	}
	wantKeys := map[string]uint64{"auth": 3, "config": 5, "logs": 200}
	for db, body := range files {
		e := m.Databases[db]
		file := backup.FileName(db)
		if state[file] != string(body) {
			t.Errorf("%s: the file differs from what the server sent", file)
		}
		if st, _ := os.Stat(filepath.Join(dir, file)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode: want 0600, got %v", file, st.Mode().Perm())
		}
		if e.File != file || e.Format != backup.FormatFlowg || e.Keys != wantKeys[db] || e.Bytes != int64(len(body)) ||
			e.SHA256 != sha256Hex(body) || e.ContentSum == "" || e.ReadTs == 0 || e.Source != srv.URL {
			t.Errorf("manifest entry of %s: want file %s, %d keys, %d bytes, sha256 %s, source %s; got %+v",
				db, file, wantKeys[db], len(body), sha256Hex(body), srv.URL, e)
		}
		if !strings.Contains(r.stdout, fmt.Sprintf("%-6s %8d keys", db, wantKeys[db])) {
			t.Errorf("stdout: want a summary line for %s, got\n%s", db, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "\n"); n != 3 {
		t.Errorf("stdout: want 3 lines, got %d:\n%s", n, r.stdout)
	}
	// The directory is what the offline commands read.
	if v := runFlowg(t, "", "admin", "verify", "--backup-dir", dir); v.code != exitOK {
		t.Errorf("admin verify of the downloaded backup: %s", v)
	}
}

func TestClientBackup_OnlyKeepsOtherManifestEntries(t *testing.T) {
	srv := newFakeServer(t, fakeFiles(t))
	dir := t.TempDir()
	for _, only := range []string{"auth", "logs"} {
		r := runFlowg(t, "", "backup", "--server", srv.URL, "--token", testToken, "--backup-dir", dir, "--only", only)
		if r.code != exitOK {
			t.Fatalf("--only %s: want exit 0, got %s", only, r)
		}
	}
	m, err := backup.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Databases["auth"]; !ok || len(m.Databases) != 2 {
		t.Errorf("manifest: want entries for auth and logs, got %v", m.Databases)
	}
	if want := []string{"auth.db", "log.db", "manifest.json"}; !slices.Equal(sortedKeys(dirState(t, dir)), want) {
		t.Errorf("files: want %v, got %v", want, sortedKeys(dirState(t, dir)))
	}
}

func TestClientBackup_RefusesABadDownloadAndKeepsEarlierFiles(t *testing.T) {
	files := fakeFiles(t)
	logs := files["logs"]
	flipped := slices.Clone(logs)
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"one flipped byte", flipped, "checksum mismatch"},
		{"cut short", logs[:len(logs)-40], "truncated"},
		{"another database", files["config"], "of another database"},
		{"bytes after the end", append(slices.Clone(logs), 'x'), "data after the end marker"},
		{"empty", nil, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, fakeFiles(t))
			dir := t.TempDir()
			if r := runFlowg(t, "", "backup", "--server", srv.URL, "--token", testToken, "--backup-dir", dir); r.code != exitOK {
				t.Fatalf("first backup: %s", r)
			}
			before := dirState(t, dir)

			srv.mu.Lock()
			srv.files["logs"] = tt.body
			srv.mu.Unlock()
			r := runFlowg(t, "", "backup", "--server", srv.URL, "--token", testToken, "--backup-dir", dir)
			if r.code != exitFailed {
				t.Errorf("exit: want %d, got %s", exitFailed, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: want empty, got %q", r.stdout)
			}
			for _, want := range []string{"flowg: backup of logs refused: ", tt.want, "safe:  nothing on the server was changed; earlier files in " + dir + " are unchanged", "next:  run the command again"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in\n%s", want, r.stderr)
				}
			}
			after := dirState(t, dir)
			if !slices.Equal(sortedKeys(after), sortedKeys(before)) {
				t.Errorf("files: want %v (no temporaries left), got %v", sortedKeys(before), sortedKeys(after))
			}
			for name, content := range before {
				if after[name] != content {
					t.Errorf("%s changed, though the run failed", name)
				}
			}
		})
	}
}

func TestClientBackup_ChecksTheServersSHA256Trailer(t *testing.T) {
	srv := newFakeServer(t, fakeFiles(t))
	srv.trailer = strings.Repeat("ab", 32)
	dir := t.TempDir()
	r := runFlowg(t, "", "backup", "--server", srv.URL, "--token", testToken, "--backup-dir", dir, "--only", "config")
	if r.code != exitFailed {
		t.Errorf("exit: want %d, got %s", exitFailed, r)
	}
	if want := "differs from the abababababab the server sent"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr: want %q in\n%s", want, r.stderr)
	}
	if state := dirState(t, dir); len(state) != 0 {
		t.Errorf("backup dir: want empty, got %v", sortedKeys(state))
	}
}

func TestClientBackup_MapsServerErrors(t *testing.T) {
	tests := []struct {
		name       string
		deny       fakeAnswer
		wantStderr []string
	}{
		{"403 without hint names the scopes the call needs",
			fakeAnswer{status: 403, body: `{"error":"missing scope read_streams"}`},
			[]string{"flowg: backup of logs failed: missing scope read_streams (HTTP 403 Forbidden)\n", "next:  use a token with scope read_streams\n"}},
		{"403 with the server's hint",
			fakeAnswer{status: 403, body: `{"error":"missing scope read_streams","hint":"ask for a token with read_streams"}`},
			[]string{"next:  ask for a token with read_streams\n"}},
		{"401 token_gone, whatever the message",
			fakeAnswer{status: 401, body: `{"error":"unauthenticated: whatever","code":"token_gone"}`},
			[]string{"whatever (HTTP 401 Unauthorized)", "next:  this token no longer works: get a new one with `flowg login`"}},
		{"401 unauthenticated, though the message says expired: classified by code, not text",
			fakeAnswer{status: 401, body: `{"error":"token expired","code":"unauthenticated"}`},
			[]string{"token expired (HTTP 401 Unauthorized)", "next:  check --token (FLOWG_TOKEN)"}},
		{"409 no_verified_set",
			fakeAnswer{status: 409, body: `{"error":"restore refused","hint":"server hint","code":"no_verified_set"}`},
			[]string{"restore refused (HTTP 409 Conflict)", "next:  server hint"}},
		{"401 unknown token",
			fakeAnswer{status: 401, body: `{"error":"unknown token","hint":"send Authorization: Bearer pat:<token>"}`},
			[]string{"unknown token (HTTP 401 Unauthorized)", "next:  check --token (FLOWG_TOKEN)"}},
		{"503 with Retry-After",
			fakeAnswer{status: 503, body: `{"error":"the logs database is being restored"}`, retryAfter: "7"},
			[]string{"(HTTP 503 Service Unavailable)", "the server asks to retry in 7 seconds: Retry-After"}},
		{"a body that is not JSON",
			fakeAnswer{status: 502, body: "<html>Bad Gateway</html>"},
			[]string{"the server answered: <html>Bad Gateway</html> (HTTP 502 Bad Gateway)", "next:  check the server's log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, fakeFiles(t))
			srv.deny["GET logs"] = tt.deny
			dir := filepath.Join(t.TempDir(), "backup")
			r := runFlowg(t, "", "backup", "--server", srv.URL, "--token", testToken, "--backup-dir", dir)
			if r.code != exitFailed {
				t.Errorf("exit: want %d, got %s", exitFailed, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: want empty, got %q", r.stdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in\n%s", want, r.stderr)
				}
			}
			// auth and config had arrived: their temporaries are gone, and
			// so is the directory this run created.
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("backup dir %s, created by the failed run: want it removed, got %v", dir, err)
			}
			if want := "safe:  nothing on the server was changed; " + dir + ", which this run had created, was removed again\n"; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr: want %q in\n%s", want, r.stderr)
			}
		})
	}
}

func TestClient_Misuse(t *testing.T) {
	t.Setenv("FLOWG_TOKEN", "")
	t.Setenv("FLOWG_SERVER", "")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"no token", []string{"backup", "--backup-dir", t.TempDir()}, exitUsage, "flowg: no token: give --token or set FLOWG_TOKEN"},
		{"unknown token kind", []string{"restore", "--token", "basic:xyz"}, exitUsage, `unknown kind "basic"`},
		{"server without scheme", []string{"backup", "--server", "localhost:5080", "--token", "t"}, exitUsage, "did you mean http://localhost:5080?"},
		{"unknown database", []string{"backup", "--token", "t", "--only", "users"}, exitUsage, `--only: unknown database "users"`},
		{"server not running", []string{"backup", "--server", closed.URL, "--token", "t", "--backup-dir", t.TempDir()}, exitFailed,
			"next:  is the server running at " + closed.URL + "? start it with `flowg serve`"},
		{"login without username", []string{"login"}, exitUsage, "flowg: name the user with --username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit: want %d, got %s", tt.wantCode, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: want empty, got %q", r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr: want %q in\n%s", tt.wantStderr, r.stderr)
			}
		})
	}
}

func TestAuthorizationHeader(t *testing.T) {
	tests := []struct {
		token, want string
	}{
		{"pat:abc_def", "Bearer pat:abc_def"},
		{"jwt:aaa.bbb.ccc", "Bearer jwt:aaa.bbb.ccc"},
		{"JWT:aaa.bbb.ccc", "Bearer jwt:aaa.bbb.ccc"},
		{testToken, "Bearer pat:" + testToken},
		{"aaa.bbb.ccc", "Bearer jwt:aaa.bbb.ccc"},
		{"  " + testToken + "\n", "Bearer pat:" + testToken},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			got, err := authorizationHeader(tt.token)
			if err != nil || got != tt.want {
				t.Errorf("want %q, got %q (err %v)", tt.want, got, err)
			}
		})
	}
	for _, bad := range []string{"", "pat:", "bearer:x"} {
		if got, err := authorizationHeader(bad); err == nil {
			t.Errorf("%q: want an error, got %q", bad, got)
		}
	}
}

// writeBackupDir writes files into a fresh directory under the given names.
func writeBackupDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestClientRestore_RefusesBadFilesBeforeAnyRequest(t *testing.T) {
	files := fakeFiles(t)
	bad := slices.Clone(files["logs"])
	bad[len(bad)-60] ^= 0x01
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"a flipped byte in the last file", map[string][]byte{"auth.db": files["auth"], "config.db": files["config"], "log.db": bad}, "log.db: backup file checksum mismatch"},
		{"a file of another database", map[string][]byte{"auth.db": files["config"], "config.db": files["config"], "log.db": files["logs"]}, `auth.db: backup file is of another database: it holds "config", not "auth"`},
		{"a missing file", map[string][]byte{"auth.db": files["auth"], "config.db": files["config"]}, "has no log.db or logs.db"},
		{"an empty file", map[string][]byte{"auth.db": files["auth"], "config.db": {}, "log.db": files["logs"]}, "config.db: backup file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, files)
			dir := writeBackupDir(t, tt.files)
			r := runFlowg(t, "", "restore", "--server", srv.URL, "--token", testToken, "--backup-dir", dir, "--wipe")
			if r.code != exitFailed {
				t.Errorf("exit: want %d, got %s", exitFailed, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: want empty, got %q", r.stdout)
			}
			for _, want := range []string{"flowg: restore refused: ", tt.want, "safe:  nothing was sent; the server is unchanged"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in\n%s", want, r.stderr)
				}
			}
			if srv.requests != 0 {
				t.Errorf("requests: want none before the files were checked, got %d", srv.requests)
			}
		})
	}
}

func TestClientRestore_SendsRawBodies(t *testing.T) {
	files := fakeFiles(t)
	tests := []struct {
		name      string
		files     map[string]string // file name in the backup dir → database
		args      []string
		wantQuery string
		wantHow   string
	}{
		{"merge", map[string]string{"auth.db": "auth", "config.db": "config", "log.db": "logs"}, nil, "", "merged into"},
		{"wipe", map[string]string{"auth.db": "auth", "config.db": "config", "log.db": "logs"}, []string{"--wipe"}, "wipe=true", "wiped and restored on"},
		{"only logs, saved as logs.db by curl", map[string]string{"logs.db": "logs"}, []string{"--only", "logs", "--wipe"}, "wipe=true", "wiped and restored on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, files)
			onDisk := map[string][]byte{}
			var wantDBs []string
			for file, db := range tt.files {
				onDisk[file] = files[db]
				wantDBs = append(wantDBs, db)
			}
			slices.Sort(wantDBs)
			dir := writeBackupDir(t, onDisk)
			args := append([]string{"restore", "--server", srv.URL, "--token", "pat:" + testToken, "--backup-dir", dir}, tt.args...)
			r := runFlowg(t, "", args...)
			if r.code != exitOK {
				t.Fatalf("want exit 0, got %s", r)
			}
			var gotDBs []string
			for _, call := range srv.restores {
				gotDBs = append(gotDBs, call.db)
				if call.query != tt.wantQuery {
					t.Errorf("%s: query: want %q, got %q", call.db, tt.wantQuery, call.query)
				}
				if call.contentType != "application/octet-stream" {
					t.Errorf("%s: Content-Type: want application/octet-stream, got %q", call.db, call.contentType)
				}
				if !bytes.Equal(call.body, files[call.db]) {
					t.Errorf("%s: the body is not the raw file (%d bytes sent, file has %d)", call.db, len(call.body), len(files[call.db]))
				}
				if !strings.Contains(r.stderr, "to undo: upload backups/20250101T000000Z-abcdef/"+backup.FileName(call.db)) {
					t.Errorf("stderr: want how to undo the restore of %s in\n%s", call.db, r.stderr)
				}
				if !strings.Contains(r.stderr, "warning: fake warning for "+call.db) {
					t.Errorf("stderr: want the server's warning for %s in\n%s", call.db, r.stderr)
				}
			}
			if !slices.Equal(gotDBs, wantDBs) {
				t.Errorf("restored: want %v, got %v", wantDBs, gotDBs)
			}
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != len(wantDBs) {
				t.Fatalf("stdout: want %d lines, got\n%s", len(wantDBs), r.stdout)
			}
			for i, line := range lines {
				want := fmt.Sprintf("%-6s", wantDBs[i])
				if !strings.HasPrefix(line, want) || !strings.Contains(line, tt.wantHow+" "+srv.URL) || !strings.Contains(line, shortSum(sha256Hex(files[wantDBs[i]]))) {
					t.Errorf("stdout line %d: want %q, %q and the file's sha256, got %q", i, want, tt.wantHow, line)
				}
			}
		})
	}
}

func TestClientRestore_ForbiddenStopsAndSaysWhatWasRestored(t *testing.T) {
	files := fakeFiles(t)
	srv := newFakeServer(t, files)
	srv.deny["POST logs"] = fakeAnswer{status: 403, body: `{"error":"missing scope write_streams"}`}
	dir := writeBackupDir(t, map[string][]byte{"auth.db": files["auth"], "config.db": files["config"], "log.db": files["logs"]})
	r := runFlowg(t, "", "restore", "--server", srv.URL, "--token", testToken, "--backup-dir", dir)
	if r.code != exitFailed {
		t.Errorf("exit: want %d, got %s", exitFailed, r)
	}
	for _, want := range []string{
		"flowg: restore of logs failed: missing scope write_streams (HTTP 403 Forbidden)\n",
		"safe:  the server changed nothing in logs; already restored: auth,config\n",
		"next:  use a token with scope write_streams\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr: want %q in\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stdout, "\n"); n != 2 {
		t.Errorf("stdout: want the 2 restored databases, got\n%s", r.stdout)
	}
}

func TestClientRestore_ServerRefusalNamesItsReason(t *testing.T) {
	files := fakeFiles(t)
	srv := newFakeServer(t, files)
	srv.deny["POST auth"] = fakeAnswer{status: 409, body: `{"error":"a restore of auth is already running"}`}
	dir := writeBackupDir(t, map[string][]byte{"auth.db": files["auth"]})
	r := runFlowg(t, "", "restore", "--server", srv.URL, "--token", testToken, "--backup-dir", dir, "--only", "auth")
	if r.code != exitFailed {
		t.Errorf("exit: want %d, got %s", exitFailed, r)
	}
	for _, want := range []string{"a restore of auth is already running (HTTP 409 Conflict)", "next:  another restore of this database is running"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr: want %q in\n%s", want, r.stderr)
		}
	}
}

func TestClientLogin_PrintsOnlyTheJWT(t *testing.T) {
	srv := newFakeServer(t, nil)
	r := runFlowg(t, rootPassword+"\n", "login", "--server", srv.URL, "--username", "root", "--password-stdin")
	if r.code != exitOK {
		t.Fatalf("want exit 0, got %s", r)
	}
	if want := "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln\n"; r.stdout != want {
		t.Errorf("stdout: want %q, got %q", want, r.stdout)
	}
	if !strings.Contains(r.stderr, "expires at 2023-11-14T22:13:20Z") {
		t.Errorf("stderr: want the expiry in\n%s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, rootPassword) {
		t.Errorf("the password was printed:\n%s", r)
	}

	r = runFlowg(t, "wrong\n", "login", "--server", srv.URL, "--username", "root", "--password-stdin")
	if r.code != exitFailed || r.stdout != "" {
		t.Errorf("wrong password: want exit 1 and empty stdout, got %s", r)
	}
	for _, want := range []string{"flowg: login failed: invalid username or password (HTTP 401 Unauthorized)", "flowg admin user passwd --name root"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr: want %q in\n%s", want, r.stderr)
		}
	}
}
