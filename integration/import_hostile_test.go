package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Hostile import files, through the real binary and the real server: each
// is refused before the first write, naming the line, and nothing changes
// (the databases' files, the catalog, the uploads directory).

// freshLine is a good first line: a pipeline the databases do not hold, so
// that an import that wrote anything before refusing would show.
const freshLine = `{"v":1,"kind":"pipeline","name":"fresh","json":{"new":true}}` + "\n"

type hostileFile struct {
	name    string
	content string
	args    []string // offline only
	wants   []string
}

func hostileFiles(authExport string) []hostileFile {
	end := func(n int) string { return fmt.Sprintf(`{"v":1,"kind":"end","count":%d}`+"\n", n) }
	return []hostileFile{
		{name: "bad JSON", content: freshLine + `{"v":1,"kind":"pipeline","name":"x","json":{}` + "\n" + end(2),
			wants: []string{"line 2", "not a JSON object"}},
		{name: "wrong schema version", content: freshLine + `{"v":2,"kind":"pipeline","name":"x","json":{}}` + "\n" + end(2),
			wants: []string{"line 2", `\"v\" is 2, this flowg reads version 1`}},
		{name: "wrong type", content: freshLine + `{"v":1,"kind":"pipeline","name":7,"json":{}}` + "\n" + end(2),
			wants: []string{"line 2", "cannot unmarshal number"}},
		{name: "wrong type of a body", content: freshLine + `{"v":1,"kind":"alert","name":"a","text":true}` + "\n" + end(2),
			wants: []string{"line 2", "cannot unmarshal bool"}},
		{name: "unknown field in strict mode", content: freshLine + `{"v":1,"kind":"pipeline","name":"x","json":{},"colour":"red"}` + "\n" + end(2),
			wants: []string{"line 2", `unknown field \"colour\"`, "lenient"}},
		{name: "export of another database", content: authExport, args: []string{"--only", "config"},
			wants: []string{"line 1", "auth database", "only config was asked for"}},
		{name: "no end line", content: freshLine,
			wants: []string{"incomplete", "after 1 lines it has no end line"}},
		{name: "a line after the end line", content: freshLine + end(1) + freshLine,
			wants: []string{"line 3", "after the end line"}},
	}
}

func TestImport_HostileFilesRefusedBeforeTheFirstWrite(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	authExport := string(s.must(t, http.StatusOK, http.MethodGet, "/api/v1/export/auth", root, nil).body)
	var before struct {
		Backups []json.RawMessage `json:"backups"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", root, nil).decode(t, &before)

	// Online, with curl: 400 naming the line, nothing changed.
	for _, h := range hostileFiles(authExport) {
		file := filepath.Join(dirs.client, "hostile.jsonl")
		if err := os.WriteFile(file, []byte(h.content), 0o600); err != nil {
			t.Fatal(err)
		}
		r := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "-H", "Authorization: "+root,
			"-H", "Content-Type: application/x-ndjson", "--data-binary", "@"+file, "--write-out", "\n%{http_code}", s.url+"/api/v1/import/config")
		if !strings.HasSuffix(r.stdout, "\n400") {
			t.Errorf("online, %s: want 400:\n%s", h.name, r)
		}
		requireContains(t, "online, "+h.name, r.stdout, append([]string{"import refused", "nothing was changed"}, h.wants...)...)
		if got := s.send(t, http.MethodGet, "/api/v1/pipelines/fresh", root, nil, ""); got.status != http.StatusNotFound {
			t.Errorf("online, %s: the line before the refused one was written:\n%s", h.name, got)
		}
	}
	var after struct {
		Backups []json.RawMessage `json:"backups"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", root, nil).decode(t, &after)
	if len(after.Backups) != len(before.Backups) {
		t.Errorf("refused online imports wrote %d sets (safety snapshots?)", len(after.Backups)-len(before.Backups))
	}
	if left := entries(t, dirs.uploads); len(left) != 0 {
		t.Errorf("refused online imports left files in the uploads directory: %v", left)
	}
	s.stop(t)

	// Offline: exit 1 naming the line, the database files untouched, no
	// catalog created.
	data := filepath.Join(dirs.root, "data")
	fp := fingerprint(t, data)
	for _, h := range hostileFiles(authExport) {
		file := filepath.Join(dirs.client, "hostile.jsonl")
		if err := os.WriteFile(file, []byte(h.content), 0o600); err != nil {
			t.Fatal(err)
		}
		r := flowg(t, dirs.root, with(append([]string{"admin", "import", file, "--catalog-dir", "./import-catalog"}, h.args...), dirArgs(dirs)...)...)
		if r.code != 1 {
			t.Errorf("offline, %s: want exit code 1:\n%s", h.name, r)
		}
		wants := []string{"flowg: import refused", "safe:  nothing was written; every database is unchanged"}
		for _, w := range h.wants {
			wants = append(wants, strings.ReplaceAll(w, `\"`, `"`))
		}
		requireContains(t, "offline, "+h.name, r.stderr, wants...)
		if got := fingerprint(t, data); got != fp {
			t.Errorf("offline, %s: the database files changed", h.name)
		}
	}
	if _, err := os.Stat(filepath.Join(dirs.root, "import-catalog")); !os.IsNotExist(err) {
		t.Errorf("refused offline imports created the catalog: %v", err)
	}
}

// A line of 1 GiB, streamed from a pipe: refused after the limit (8 MiB)
// is read, without reading, staging or holding the rest; nothing changed.
// Online through curl's chunked upload, offline through standard input.
func TestImport_OneGiBLineStreamedAndRefused(t *testing.T) {
	requirePrograms(t, "curl", "bash", "head", "tr")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	t.Setenv("AUTHZ", root)
	t.Setenv("URL", s.url)
	// PIPESTATUS: head and tr end by SIGPIPE (141) when the reader stops
	// reading long before the 1 GiB: the line was not read whole.
	const gibLine = `head -c 1073741824 /dev/zero | tr '\0' a`
	r := command(t, dirs.client, 2*time.Minute, "bash", "-c", gibLine+
		` | curl --silent --show-error -X POST -T - -H 'Content-Type: application/x-ndjson' -H "Authorization: $AUTHZ" "$URL/api/v1/import/config"`+
		`; echo "status ${PIPESTATUS[*]}"`)
	if !strings.Contains(r.stdout, "status 141 141 ") {
		t.Errorf("online: the server read the whole 1 GiB line (head and tr were not cut):\n%s", r)
	}
	// The server answers 400 and closes the connection, which resets
	// curl's upload before it reads the answer: the server log has it.
	requireContains(t, "the server log", s.log.String(), "path=/api/v1/import/config", "status=400",
		"import refused: line 1: line too long: more than 8388608 bytes")
	if left := entries(t, dirs.uploads); len(left) != 0 {
		t.Errorf("online: the refused upload left files in the uploads directory: %v", left)
	}
	var sets struct {
		Backups []json.RawMessage `json:"backups"`
	}
	if s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", root, nil).decode(t, &sets); len(sets.Backups) != 0 {
		t.Errorf("online: a refused import wrote %d sets", len(sets.Backups))
	}
	s.stop(t)

	data := filepath.Join(dirs.root, "data")
	fp := fingerprint(t, data)
	spool := filepath.Join(dirs.root, "tmp")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", spool)
	t.Setenv("FLOWG", flowgBin)
	t.Setenv("DIRS", strings.Join(dirArgs(dirs), " "))
	r = command(t, dirs.root, 2*time.Minute, "bash", "-c", gibLine+` | "$FLOWG" admin import - $DIRS; echo "status ${PIPESTATUS[*]}"`)
	if !strings.Contains(r.stdout, "status 141 141 1") {
		t.Errorf("offline: want flowg to exit 1 after cutting head and tr short:\n%s", r)
	}
	requireContains(t, "offline 1 GiB line", r.stderr, "flowg: import refused: -: line 1: line too long: more than 8388608 bytes",
		"nothing was written")
	if got := fingerprint(t, data); got != fp {
		t.Errorf("offline: the database files changed")
	}
	if left := entries(t, spool); len(left) != 0 {
		t.Errorf("offline: the spool of standard input was left in $TMPDIR: %v", left)
	}
}

// The online import keeps the server's upload bounds: --max-upload (413)
// and an upload directory it cannot spool to (500 naming --upload-dir);
// nothing is written either way.
func TestImport_OnlineUploadBounds(t *testing.T) {
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--max-upload", "100")
	root := s.rootJWT(t)
	big := freshLine + `{"v":1,"kind":"pipeline","name":"second","text":"` + strings.Repeat("x", 100) + `"}` + "\n" + `{"v":1,"kind":"end","count":2}` + "\n"
	r := s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(big), mimeNDJSON)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.String(), "limit of 100 bytes") {
		t.Errorf("an import past --max-upload 100: want 413:\n%s", r)
	}
	if got := s.send(t, http.MethodGet, "/api/v1/pipelines/fresh", root, nil, ""); got.status != http.StatusNotFound {
		t.Errorf("an import past --max-upload wrote its first line:\n%s", got)
	}
	if err := os.RemoveAll(dirs.uploads); err != nil {
		t.Fatal(err)
	}
	small := freshLine + `{"v":1,"kind":"end","count":1}` + "\n"
	r = s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(small), mimeNDJSON)
	if r.status != http.StatusInternalServerError || !strings.Contains(r.String(), "could not be staged") || !strings.Contains(r.String(), "--upload-dir") {
		t.Errorf("an import with no upload directory: want 500 naming --upload-dir:\n%s", r)
	}
	if got := s.send(t, http.MethodGet, "/api/v1/pipelines/fresh", root, nil, ""); got.status != http.StatusNotFound {
		t.Errorf("an import that could not spool wrote its line:\n%s", got)
	}
}

// Each online import that changes a database keeps a safety copy of it; as
// for a restore, --max-safety-copies bounds them: past the limit the import
// is refused (507) naming the copies to remove, and writes nothing. A dry
// run, or an import that changes nothing, keeps no copy and goes through.
func TestImport_OnlineSafetyCopiesBounded(t *testing.T) {
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--max-safety-copies", "1")
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"n":0}`)
	version := func(n int) string {
		return fmt.Sprintf(`{"v":1,"kind":"pipeline","name":"p","json":{"n":%d}}`+"\n"+`{"v":1,"kind":"end","count":1}`+"\n", n)
	}
	r := s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(version(1)), mimeNDJSON)
	var a struct {
		SafetySnapshot string `json:"safety_snapshot"`
	}
	if r.status != http.StatusOK {
		t.Fatalf("first import: want 200:\n%s", r)
	}
	if r.decode(t, &a); a.SafetySnapshot == "" {
		t.Fatalf("first import changed p without a safety snapshot:\n%s", r)
	}
	r = s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(version(2)), mimeNDJSON)
	if r.status != http.StatusInsufficientStorage || !strings.Contains(r.String(), a.SafetySnapshot) || !strings.Contains(r.String(), "import refused") {
		t.Fatalf("second import past --max-safety-copies 1: want 507 naming %s:\n%s", a.SafetySnapshot, r)
	}
	if got := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/p", root, nil); !strings.Contains(got.String(), `\"n\":1`) && !strings.Contains(got.String(), `"n":1`) {
		t.Errorf("the refused import changed p:\n%s", got)
	}
	if r := s.send(t, http.MethodPost, "/api/v1/import/config?dry_run=true", root, strings.NewReader(version(2)), mimeNDJSON); r.status != http.StatusOK {
		t.Errorf("a dry run keeps no copy and is not bounded:\n%s", r)
	}
	if r := s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(version(1)), mimeNDJSON); r.status != http.StatusOK {
		t.Errorf("an import that changes nothing keeps no copy and is not bounded:\n%s", r)
	}
}
