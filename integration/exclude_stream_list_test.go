package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The streams a set left out (--exclude-stream) are shown wherever sets are
// read: admin backups list (text and --json), the client's backups list
// (text and --json), GET /api/v1/backups and admin inspect (text and --json).
func TestExcludeStream_ShownByListAndInspect(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-exclude-stream", "debug-*", "--backup-exclude-stream", "trace")
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-1"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-1"})
	var set catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &set)
	const shown = "logs: streams left out (--exclude-stream): debug-*, trace"
	wantExcluded := func(what string, sets []excludedSet) {
		t.Helper()
		for _, l := range sets {
			if l.ID != set.ID {
				continue
			}
			if got := strings.Join(l.Databases["logs"].ExcludedStreams, ","); got != "debug-*,trace" {
				t.Errorf("%s: set %s logs excluded_streams = %q, want debug-*,trace", what, set.ID, got)
			}
			if ex := l.Databases["auth"].ExcludedStreams; len(ex) > 0 {
				t.Errorf("%s: auth lists excluded streams %v", what, ex)
			}
			return
		}
		t.Errorf("%s: set %s not listed: %+v", what, set.ID, sets)
	}

	var api struct {
		Backups []excludedSet `json:"backups"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", root, nil).decode(t, &api)
	wantExcluded("GET /api/v1/backups", api.Backups)

	token := s.createToken(t, root, "", "read_streams").Token
	r := mustFlowg(t, dirs.client, "backups", "list", "--server", s.url, "--token", token)
	requireContains(t, "flowg backups list", r.stdout, set.ID, shown)
	r = mustFlowg(t, dirs.client, "backups", "list", "--server", s.url, "--token", token, "--json")
	wantExcluded("flowg backups list --json", decodeSets(t, r.stdout))
	s.stop(t)

	r = mustFlowg(t, dirs.client, "admin", "backups", "list", "--backup-dir", dirs.backups)
	requireContains(t, "admin backups list", r.stdout, set.ID, shown)
	if line := lineAfter(r.stdout, set.ID); strings.Contains(line, "left out") {
		t.Errorf("admin backups list: the exclusions belong on their own line, not on the set's: %q", line)
	}
	r = mustFlowg(t, dirs.client, "admin", "backups", "list", "--backup-dir", dirs.backups, "--json")
	wantExcluded("admin backups list --json", decodeSets(t, r.stdout))

	r = mustFlowg(t, dirs.client, "admin", "inspect", "--backup-dir", dirs.backups, "--set", set.ID)
	requireContains(t, "admin inspect", r.stdout, "left out     streams debug-*, trace (--exclude-stream)")
	if strings.Count(r.stdout, "left out") != 1 {
		t.Errorf("admin inspect: only log.db left streams out:\n%s", r.stdout)
	}
	// A flat backup directory: its manifest says the same.
	mustFlowg(t, dirs.root, with([]string{"admin", "backup", "--backup-dir", "./flat", "--only", "logs", "--exclude-stream", "debug-*"}, dirArgs(dirs)...)...)
	r = mustFlowg(t, dirs.root, "admin", "inspect", "./flat")
	requireContains(t, "admin inspect of a flat directory", r.stdout, "left out     streams debug-* (--exclude-stream)")
	r = mustFlowg(t, dirs.client, "admin", "inspect", "--backup-dir", dirs.backups, "--set", set.ID, "--json")
	var files []struct {
		File            string   `json:"file"`
		ExcludedStreams []string `json:"excluded_streams"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &files); err != nil {
		t.Fatalf("admin inspect --json: %v\n%s", err, r.stdout)
	}
	for _, f := range files {
		want := ""
		if strings.HasSuffix(f.File, "log.db") {
			want = "debug-*,trace"
		}
		if got := strings.Join(f.ExcludedStreams, ","); got != want {
			t.Errorf("admin inspect --json: %s excluded_streams = %q, want %q", f.File, got, want)
		}
	}
}

// excludedSet is what the exclusion tests read of a listed set.
type excludedSet struct {
	ID        string `json:"id"`
	Databases map[string]struct {
		ExcludedStreams []string `json:"excluded_streams"`
	} `json:"databases"`
}

func decodeSets(t testing.TB, s string) []excludedSet {
	t.Helper()
	var out []excludedSet
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("decode sets: %v\n%s", err, s)
	}
	return out
}
