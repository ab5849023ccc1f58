package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file with fields this flowg does not know (as a later flowg may
// write): refused in strict mode (the default) naming the line and the
// field, imported with --lenient / lenient=true, which says how many
// fields it skipped; a lenient import still refuses any other defect.
func TestImport_LenientSkipsUnknownFieldsThroughBothDoors(t *testing.T) {
	requirePrograms(t, "curl")
	later := `{"v":1,"kind":"pipeline","name":"later","json":{"nodes":[]},"owner":"team-a","labels":["x"]}` + "\n" +
		`{"v":1,"kind":"transformer","name":"t","text":". = .","owner":"team-b"}` + "\n" +
		`{"v":1,"kind":"end","count":2,"checksum":"later-flowg"}` + "\n"
	dirs := newServerDirs(t)
	file := filepath.Join(dirs.client, "later.jsonl")
	if err := os.WriteFile(file, []byte(later), 0o600); err != nil {
		t.Fatal(err)
	}
	badType := filepath.Join(dirs.client, "bad-type.jsonl")
	if err := os.WriteFile(badType, []byte(`{"v":1,"kind":"pipeline","name":"p","json":{},"owner":"a"}`+"\n"+
		`{"v":1,"kind":"pipeline","name":["q"],"json":{},"owner":"a"}`+"\n"+`{"v":1,"kind":"end","count":2}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, dirs)
	root := s.rootJWT(t)
	post := func(query, f string) reply {
		t.Helper()
		return s.send(t, http.MethodPost, "/api/v1/import/config"+query, root, bytes.NewReader(readFile(t, f)), mimeNDJSON)
	}
	if r := post("", file); r.status != http.StatusBadRequest || !strings.Contains(r.String(), "line 1") ||
		!strings.Contains(r.String(), `unknown field \"owner\"`) || !strings.Contains(r.String(), "lenient=true") {
		t.Errorf("online, strict: want 400 naming line 1, the field and lenient=true:\n%s", r)
	}
	if r := post("?lenient=maybe", file); r.status != http.StatusBadRequest || !strings.Contains(r.String(), "lenient") {
		t.Errorf("online, lenient=maybe: want 400 naming lenient:\n%s", r)
	}
	if r := post("?lenient=true", badType); r.status != http.StatusBadRequest || !strings.Contains(r.String(), "line 2") {
		t.Errorf("online, lenient, a wrong type: want 400 naming line 2:\n%s", r)
	}
	if got := s.send(t, http.MethodGet, "/api/v1/pipelines/p", root, nil, ""); got.status != http.StatusNotFound {
		t.Errorf("online, lenient, a wrong type: line 1 was written:\n%s", got)
	}
	r := post("?lenient=true", file)
	var a struct {
		IgnoredFields     int      `json:"ignored_fields"`
		IgnoredFieldNames []string `json:"ignored_field_names"`
		Warnings          []string `json:"warnings"`
		Changes           map[string]struct{ Added int }
	}
	if r.status != http.StatusOK {
		t.Fatalf("online, lenient: want 200:\n%s", r)
	}
	r.decode(t, &a)
	if a.IgnoredFields != 4 || strings.Join(a.IgnoredFieldNames, ",") != "pipeline.labels,pipeline.owner,transformer.owner,end.checksum" ||
		a.Changes["pipeline"].Added != 1 || !strings.Contains(strings.Join(a.Warnings, "\n"), "4 unknown fields skipped") {
		t.Errorf("online, lenient: want 4 fields skipped, named, and the pipeline added:\n%s", r)
	}
	if got := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/later", root, nil); !strings.Contains(got.String(), `"nodes"`) {
		t.Errorf("online, lenient: pipeline later:\n%s", got)
	}
	s.stop(t)

	empty := newServerDirs(t)
	res := flowg(t, empty.root, with([]string{"admin", "import", file}, dirArgs(empty)...)...)
	if res.code != 1 {
		t.Fatalf("offline, strict: want exit code 1:\n%s", res)
	}
	requireContains(t, "offline, strict", res.stderr, "import refused", "line 1", `unknown field "owner"`, "--lenient", "nothing was written")
	res = flowg(t, empty.root, with([]string{"admin", "import", badType, "--lenient"}, dirArgs(empty)...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "line 2") {
		t.Errorf("offline, lenient, a wrong type: want exit code 1 naming line 2:\n%s", res)
	}
	res = mustFlowg(t, empty.root, with([]string{"admin", "import", file, "--lenient", "--json"}, dirArgs(empty)...)...)
	var rep struct {
		Result struct {
			IgnoredFields int `json:"ignored_fields"`
			Passes        int `json:"passes"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("offline, lenient --json: %v\n%s", err, res)
	}
	if rep.Result.IgnoredFields != 4 || rep.Result.Passes != 2 {
		t.Errorf("offline, lenient --json: ignored %d fields in %d passes, want 4 in 2:\n%s", rep.Result.IgnoredFields, rep.Result.Passes, res)
	}
	res = mustFlowg(t, empty.root, with([]string{"admin", "export", "--only", "config"}, dirArgs(empty)...)...)
	if !strings.Contains(res.stdout, `"name":"later","json":{"nodes":[]}`) || strings.Contains(res.stdout, "owner") {
		t.Errorf("offline, lenient: the export of what was imported:\n%s", res.stdout)
	}
}

// Each database alone through JSON lines and back, with the real binary:
// exported, imported into an empty flowg, exported again, line for line
// the same.
func TestExportImport_RoundTripOfEachDatabase(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	writeBaseData(t, s, s.rootJWT(t))
	s.stop(t)
	for _, db := range []string{"auth", "config", "logs"} {
		first := mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", db, "--include-secrets"}, dirArgs(dirs)...)...).stdout
		if n := strings.Count(first, "\n"); n < 3 {
			t.Fatalf("%s: an export of %d lines:\n%s", db, n, first)
		}
		file := filepath.Join(dirs.client, db+".jsonl")
		if err := os.WriteFile(file, []byte(first), 0o600); err != nil {
			t.Fatal(err)
		}
		empty := newServerDirs(t)
		mustFlowg(t, empty.root, with([]string{"admin", "import", file, "--only", db}, dirArgs(empty)...)...)
		for _, other := range []string{"auth", "config", "logs"} {
			if _, err := os.Stat(filepath.Join(empty.root, "data", other)); other != db && !os.IsNotExist(err) {
				t.Errorf("%s: the import created the %s database", db, other)
			}
		}
		second := mustFlowg(t, empty.root, with([]string{"admin", "export", "--only", db, "--include-secrets"}, dirArgs(empty)...)...).stdout
		if second != first {
			t.Errorf("%s: the second export differs from the first:\nfirst:\n%s\nsecond:\n%s", db, first, second)
		}
	}
}
