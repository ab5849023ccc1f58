package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flowg import: the client of POST /api/v1/import/{db}, which prints the
// server's report as flowg admin import prints its own.
func TestImport_ClientCommand(t *testing.T) {
	requirePrograms(t, "curl", "bash")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	config := string(s.must(t, http.StatusOK, http.MethodGet, "/api/v1/export/config", root, nil).body)
	edited := strings.Replace(config, `"nodes":["parse","route"]`, `"nodes":["client"]`, 1)
	if edited == config {
		t.Fatalf("no pipeline ingest to edit in:\n%s", config)
	}
	file := filepath.Join(dirs.client, "config.jsonl")
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	writer := s.createToken(t, root, "", "write_pipelines", "write_transformers", "write_alerts").Token
	client := []string{"--only", "config", "--server", s.url, "--token", writer}

	r := mustFlowg(t, dirs.client, append([]string{"import", file, "--dry-run"}, client...)...)
	requireContains(t, "flowg import --dry-run", r.stdout, "pipeline     0 to add, 1 to overwrite (ingest), 0 unchanged")
	r = mustFlowg(t, dirs.client, append([]string{"import", file, "--json"}, client...)...)
	var rep struct {
		Result struct {
			SafetySnapshot string `json:"safety_snapshot"`
			Undo           string `json:"undo"`
			Passes         int    `json:"passes"`
			Changes        map[string]struct {
				Overwritten int `json:"overwritten"`
			} `json:"changes"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("flowg import --json: %v\n%s", err, r)
	}
	if rep.Result.SafetySnapshot == "" || !strings.Contains(rep.Result.Undo, rep.Result.SafetySnapshot) ||
		rep.Result.Changes["pipeline"].Overwritten != 1 || rep.Result.Passes != 2 {
		t.Errorf("flowg import --json: want the pipeline overwritten after a safety snapshot, in 2 passes:\n%s", r.stdout)
	}
	if got := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/ingest", root, nil); !strings.Contains(got.String(), "client") {
		t.Errorf("pipeline after flowg import:\n%s", got)
	}

	t.Setenv("FLOWG", flowgBin)
	r = runBash(t, dirs.client, `cat config.jsonl | "$FLOWG" import - `+strings.Join(client, " "))
	requireContains(t, "flowg import - (standard input)", r.stdout, "pipeline     0 added, 0 overwritten, 1 unchanged")

	bad := filepath.Join(dirs.client, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"v":1,"kind":"pipeline","name":"x","json":{}}`+"\n"+`{"v":1,"kind":"pipeline","name":"y","json":{},"colour":1}`+"\n"+`{"v":1,"kind":"end","count":2}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = flowg(t, dirs.client, append([]string{"import", bad}, client...)...)
	if r.code != 1 {
		t.Fatalf("flowg import of a bad file: want exit code 1:\n%s", r)
	}
	requireContains(t, "flowg import of a bad file", r.stderr, "line 2", `unknown field "colour"`, "the server changed nothing in config")
	r = mustFlowg(t, dirs.client, append([]string{"import", bad, "--lenient"}, client...)...)
	requireContains(t, "flowg import --lenient", r.stderr, "1 unknown fields skipped")

	reader := s.createToken(t, root, "", "read_pipelines").Token
	r = flowg(t, dirs.client, "import", file, "--only", "config", "--server", s.url, "--token", reader)
	if r.code != 1 || !strings.Contains(r.stderr, "write_pipelines") {
		t.Errorf("flowg import with a read-only token: want exit 1 naming the scopes it needs:\n%s", r)
	}
	if r := flowg(t, dirs.client, "import", file, "--server", s.url, "--token", writer); r.code != 2 || !strings.Contains(r.stderr, "--only") {
		t.Errorf("flowg import without --only: want a usage error naming --only:\n%s", r)
	}
}
