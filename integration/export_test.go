package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Portable export and import (flowg admin export|import, GET
// /api/v1/export/{db}) against the real binary: a server populated through
// its API, exported with secrets, imported into empty directories, exported
// again line for line the same; a second import that changes nothing; the
// filters; the online export streamed with curl, without password hashes.

// mimeNDJSON is the media type of a portable export.
const mimeNDJSON = "application/x-ndjson"

// dirArgs are the database flags of dirs.
func dirArgs(d serverDirs) []string {
	return []string{"--auth-dir", d.auth, "--config-dir", d.config, "--log-dir", d.logs}
}

// exportLines parses an export and returns its lines' kinds in order.
func exportKinds(t testing.TB, b []byte) []string {
	t.Helper()
	var kinds []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var l struct {
			V      int    `json:"v"`
			Kind   string `json:"kind"`
			Stream string `json:"stream"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.V != 1 {
			t.Fatalf("line %q: v %d, %v", sc.Text(), l.V, err)
		}
		kinds = append(kinds, l.Kind+":"+l.Stream)
	}
	return kinds
}

func countPrefix(items []string, prefix string) int {
	n := 0
	for _, s := range items {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func TestExportImport_RoundTripThroughTheBinary(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)

	// Online: streamed as ndjson, never with password hashes.
	curl := func(path string, extra ...string) result {
		t.Helper()
		args := append([]string{"--silent", "--show-error", "--no-buffer", "-D", "-", "-H", "Authorization: " + root}, extra...)
		return command(t, dirs.client, time.Minute, "curl", append(args, s.url+path)...)
	}
	r := curl("/api/v1/export/auth")
	head, body, _ := strings.Cut(r.stdout, "\r\n\r\n")
	if r.code != 0 || !strings.Contains(head, " 200") || !strings.Contains(strings.ToLower(head), "content-type: application/x-ndjson") {
		t.Fatalf("online export of auth:\n%s", r)
	}
	if kinds := exportKinds(t, []byte(body)); countPrefix(kinds, "user:") != 2 || countPrefix(kinds, "role:") != 2 {
		t.Errorf("online export of auth holds %v, want 2 roles (admin, auditor) and 2 users (root, alice)", kinds)
	}
	if strings.Contains(body, "password_hash") || strings.Contains(body, "argon2id") || strings.Contains(body, "token") {
		t.Errorf("online export of auth carries secrets:\n%s", body)
	}
	r = curl("/api/v1/export/auth?include_secrets=true")
	if !strings.Contains(r.stdout, " 400") || strings.Contains(r.stdout, "argon2id") {
		t.Errorf("online export asked for secrets:\n%s", r)
	}
	// The scopes of a backup of that database: a token for logs only.
	logsOnly := s.createToken(t, root, "", "read_streams")
	if got := s.send(t, http.MethodGet, "/api/v1/export/auth", logsOnly.authz(), nil, ""); got.status != http.StatusForbidden {
		t.Errorf("export of auth with a read_streams token:\n%s", got)
	}
	if got := s.send(t, http.MethodPost, "/api/v1/import/logs", logsOnly.authz(), strings.NewReader(""), mimeNDJSON); got.status != http.StatusForbidden {
		t.Errorf("import into logs with a read_streams token:\n%s", got)
	}
	if got := s.send(t, http.MethodGet, "/api/v1/export/logs", logsOnly.authz(), nil, ""); got.status != http.StatusOK || !strings.Contains(string(got.body), `"kind":"log"`) {
		t.Errorf("export of logs with a read_streams token:\n%s", got)
	}
	r = curl("/api/v1/export/logs?stream=aud*")
	if kinds := exportKinds(t, []byte(after(r.stdout, "\r\n\r\n"))); countPrefix(kinds, "log:audit") != 2 || countPrefix(kinds, "log:app") != 0 {
		t.Errorf("online export of logs?stream=aud* holds %v, want the 2 records of audit only", kinds)
	}
	s.stop(t)

	// Offline, with secrets: to a 0600 file.
	first := filepath.Join(dirs.client, "first.jsonl")
	mustFlowg(t, dirs.root, with([]string{"admin", "export", "--include-secrets", "--output", first}, dirArgs(dirs)...)...)
	if st, err := os.Stat(first); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("--output file: %v, %v; want mode 0600", st, err)
	}
	firstLines := readFile(t, first)
	kinds := exportKinds(t, firstLines)
	for prefix, want := range map[string]int{"role:": 2, "user:": 2, "pipeline:": 1, "transformer:": 1, "alert:": 1, "log:app": 5, "log:audit": 2, "stream:": 1} {
		if got := countPrefix(kinds, prefix); got != want {
			t.Errorf("export holds %d %s lines, want %d: %v", got, prefix, want, kinds)
		}
	}
	if !bytes.Contains(firstLines, []byte(`"password_hash":"$argon2id$`)) || !bytes.Contains(firstLines, []byte(`"expires_at":"`)) {
		t.Errorf("export with secrets lacks hashes or expiries:\n%s", firstLines)
	}

	// Into empty directories, and out again: identical line for line.
	empty := newServerDirs(t)
	r = mustFlowg(t, empty.root, with([]string{"admin", "import", first}, dirArgs(empty)...)...)
	requireContains(t, "first import", r.stdout, "log          7 added, 0 overwritten, 0 unchanged", "user         2 added")
	second := filepath.Join(dirs.client, "second.jsonl")
	mustFlowg(t, empty.root, with([]string{"admin", "export", "--include-secrets", "--output", second}, dirArgs(empty)...)...)
	if got := readFile(t, second); !bytes.Equal(got, firstLines) {
		t.Fatalf("second export differs from the first:\nfirst:\n%s\nsecond:\n%s", firstLines, got)
	}

	// Twice: nothing changes, not even a TTL.
	before := fingerprint(t, filepath.Join(empty.root, "data"))
	r = mustFlowg(t, empty.root, with([]string{"admin", "import", first, "--dry-run"}, dirArgs(empty)...)...)
	requireContains(t, "dry run of a second import", r.stdout, "log          0 to add, 0 to overwrite, 7 unchanged")
	if got := fingerprint(t, filepath.Join(empty.root, "data")); got != before {
		t.Errorf("a dry run changed the database files")
	}
	r = mustFlowg(t, empty.root, with([]string{"admin", "import", first}, dirArgs(empty)...)...)
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.Contains(line, " 0 added, 0 overwritten,") {
			t.Errorf("second import changed something: %q\n%s", line, r)
		}
	}
	requireContains(t, "second import", r.stderr, "nothing to import")
	if strings.Contains(r.stderr, "safety snapshot") {
		t.Errorf("an import that changes nothing wrote a safety snapshot:\n%s", r)
	}
	third := filepath.Join(dirs.client, "third.jsonl")
	mustFlowg(t, empty.root, with([]string{"admin", "export", "--include-secrets", "--output", third}, dirArgs(empty)...)...)
	if !bytes.Equal(readFile(t, third), firstLines) {
		t.Fatalf("export after a second import differs")
	}

	// A bad line is refused with its number, nothing written.
	before = fingerprint(t, filepath.Join(empty.root, "data"))
	bad := filepath.Join(dirs.client, "bad.jsonl")
	lines := strings.SplitAfter(string(firstLines), "\n")
	lines[3] = `{"v":1,"kind":"pipeline","name":"x","json":{},"extra":1}` + "\n"
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = flowg(t, empty.root, with([]string{"admin", "import", bad}, dirArgs(empty)...)...)
	if r.code != 1 {
		t.Fatalf("import of a bad file: want exit code 1:\n%s", r)
	}
	requireContains(t, "refused import", r.stderr, "line 4", "extra", "nothing was written")
	if got := fingerprint(t, filepath.Join(empty.root, "data")); got != before {
		t.Errorf("a refused import changed the database files")
	}

	// An import that changes a database writes a safety snapshot first,
	// and its undo line puts the database back.
	changed := filepath.Join(dirs.client, "changed.jsonl")
	edited := strings.Replace(string(firstLines), `"nodes":["parse","route"]`, `"nodes":["parse"]`, 1)
	if edited == string(firstLines) {
		t.Fatalf("the export has no pipeline ingest to change:\n%s", firstLines)
	}
	if err := os.WriteFile(changed, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustFlowg(t, empty.root, with([]string{"admin", "import", changed, "--catalog-dir", "./backups"}, dirArgs(empty)...)...)
	requireContains(t, "import of a changed pipeline", r.stdout, "pipeline     0 added, 1 overwritten (ingest), 0 unchanged")
	undo := lineAfter(r.stderr, "to undo this import: flowg ")
	if !strings.Contains(undo, "--only config --wipe") {
		t.Fatalf("no undo line for the config database:\n%s", r)
	}
	mustFlowg(t, empty.root, append(strings.Fields(undo), "--no-safety-snapshot", "--skip-backup-check")...)
	mustFlowg(t, empty.root, with([]string{"admin", "export", "--include-secrets", "--output", third}, dirArgs(empty)...)...)
	if !bytes.Equal(readFile(t, third), firstLines) {
		t.Fatalf("after the undo line the export differs from the first:\n%s", readFile(t, third))
	}

	// Filters.
	r = mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", "logs", "--stream", "app"}, dirArgs(dirs)...)...)
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:app") != 5 || countPrefix(k, "log:audit") != 0 || countPrefix(k, "stream:") != 1 {
		t.Errorf("--stream app: %v", k)
	}
	r = mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", "logs", "--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, dirArgs(dirs)...)...)
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:") != 0 || countPrefix(k, "stream:") != 1 {
		t.Errorf("--since in an hour: %v", k)
	}
	r = mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", "config,logs", "--until", time.Now().Add(time.Hour).Format(time.RFC3339)}, dirArgs(dirs)...)...)
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:") != 7 || countPrefix(k, "pipeline:") != 1 || countPrefix(k, "user:") != 0 {
		t.Errorf("--only config,logs --until in an hour: %v", k)
	}

	// From backup files: the same lines as from the databases.
	mustFlowg(t, empty.root, with([]string{"admin", "backup", "--backup-dir", "./backup"}, dirArgs(empty)...)...)
	r = mustFlowg(t, empty.root, "admin", "export", "--include-secrets",
		"--file", "./backup/auth.db", "--file", "./backup/config.db", "--file", "./backup/log.db")
	if r.stdout != string(firstLines) {
		t.Errorf("export of the backup files differs from the export of the databases:\n%s", r.stdout)
	}
	mustFlowg(t, empty.root, with([]string{"admin", "backup", "--format", "badger", "--backup-dir", "./raw"}, dirArgs(empty)...)...)
	r = mustFlowg(t, empty.root, "admin", "export", "--include-secrets",
		"--file", "./raw/auth.db", "--file", "./raw/config.db", "--file", "./raw/log.db")
	if r.stdout != string(firstLines) {
		t.Errorf("export of raw Badger backup files differs from the export of the databases:\n%s", r.stdout)
	}

	// From catalog sets: a full one, and an incremental one rebuilt from its chain.
	setID := func(out string) string {
		id, _, _ := strings.Cut(lineAfter(out, "set "), " ")
		if id == "" {
			t.Fatalf("no set id in %q", out)
		}
		return id
	}
	full := setID(mustFlowg(t, empty.root, with([]string{"admin", "backups", "create", "--backup-dir", "./sets"}, dirArgs(empty)...)...).stdout)
	mustFlowg(t, empty.root, with([]string{"admin", "import", changed, "--no-safety-snapshot"}, dirArgs(empty)...)...)
	r = mustFlowg(t, empty.root, with([]string{"admin", "backups", "create", "--incremental", "--backup-dir", "./sets"}, dirArgs(empty)...)...)
	requireContains(t, "incremental set", r.stdout, "incremental on "+full)
	incremental := setID(r.stdout)
	r = mustFlowg(t, empty.root, "admin", "export", "--include-secrets", "--set", full, "--backup-dir", "./sets")
	if r.stdout != string(firstLines) {
		t.Errorf("export of full set %s differs from the first export:\n%s", full, r.stdout)
	}
	r = mustFlowg(t, empty.root, "admin", "export", "--only", "config", "--set", incremental, "--backup-dir", "./sets")
	if !strings.Contains(r.stdout, `"nodes":["parse"]`) || countPrefix(exportKinds(t, []byte(r.stdout)), "pipeline:") != 1 {
		t.Errorf("export of incremental set %s lacks the changed pipeline:\n%s", incremental, r)
	}
	mustFlowg(t, empty.root, with([]string{"admin", "import", first, "--no-safety-snapshot"}, dirArgs(empty)...)...)

	// The imported server serves the data: alice logs in with her password.
	s2 := startServer(t, empty)
	alice := s2.login(t, "alice", "alice-pw-123")
	if got := s2.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/app/logs?limit=100", alice, nil); !strings.Contains(got.String(), "request 5 served") {
		t.Errorf("imported records not served:\n%s", got)
	}

	// Online import, with curl: checked against the database named, a
	// dry run, a safety snapshot when it changes something, none when not.
	root2 := s2.rootJWT(t)
	configOnly := filepath.Join(dirs.client, "config.jsonl")
	r = mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", "config", "--output", configOnly}, dirArgs(dirs)...)...)
	if err := os.WriteFile(configOnly, []byte(strings.Replace(string(readFile(t, configOnly)), `"nodes":["parse","route"]`, `"nodes":["online"]`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	post := func(path, file string) (int, importAnswer, string) {
		t.Helper()
		r := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "-H", "Authorization: "+root2,
			"-H", "Content-Type: application/x-ndjson", "--data-binary", "@"+file, "--write-out", "\n%{http_code}", s2.url+path)
		body, code, _ := strings.Cut(strings.TrimSpace(r.stdout), "\n")
		var a importAnswer
		_ = json.Unmarshal([]byte(body), &a)
		status := 0
		_, _ = fmt.Sscan(code, &status)
		return status, a, body
	}
	if code, _, body := post("/api/v1/import/config", first); code != http.StatusBadRequest || !strings.Contains(body, "line 1") || !strings.Contains(body, "auth database") {
		t.Errorf("import of a whole export into config: %d %s, want 400 naming line 1 (a line of the auth database)", code, body)
	}
	if code, a, body := post("/api/v1/import/config?dry_run=true", configOnly); code != http.StatusOK || a.Changes["pipeline"].Overwritten != 1 ||
		fmt.Sprint(a.Changes["pipeline"].OverwrittenNames) != "[ingest]" || a.SafetySnapshot != "" {
		t.Errorf("dry run: %d %s", code, body)
	}
	code, a, body := post("/api/v1/import/config", configOnly)
	if code != http.StatusOK || a.Changes["pipeline"].Overwritten != 1 || a.SafetySnapshot == "" || !strings.Contains(a.Undo, a.SafetySnapshot) {
		t.Errorf("online import: %d %s, want the pipeline overwritten after a safety snapshot", code, body)
	}
	if got := s2.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/ingest", root2, nil); !strings.Contains(got.String(), `"online"`) {
		t.Errorf("pipeline after the online import:\n%s", got)
	}
	if code, a, body := post("/api/v1/import/config", configOnly); code != http.StatusOK || a.Changes["pipeline"].Overwritten != 0 || a.SafetySnapshot != "" {
		t.Errorf("second online import: %d %s, want nothing changed and no snapshot", code, body)
	}
}

// importAnswer is the answer to POST /api/v1/import/:db.
type importAnswer struct {
	Changes map[string]struct {
		Added, Overwritten, Unchanged uint64
		OverwrittenNames              []string `json:"overwritten_names"`
	} `json:"changes"`
	SafetySnapshot string `json:"safety_snapshot"`
	Undo           string `json:"undo"`
}

// after returns what follows the first sep in s ("" without one).
func after(s, sep string) string {
	_, rest, _ := strings.Cut(s, sep)
	return rest
}
