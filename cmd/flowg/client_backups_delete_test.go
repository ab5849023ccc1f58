package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/backup"
)

// TestClientBackupsDelete_DeletesTheNamedSet: `flowg backups delete ID`
// deletes that set on a real server and says which it was; the newest
// restore-verified set goes with a warning; a set already gone, a bad id or
// no id are refused and delete nothing.
func TestClientBackupsDelete_DeletesTheNamedSet(t *testing.T) {
	cs := newCatalogServer(t)
	for range 3 {
		cs.mustFlowg(t, "create", "--verify")
	}
	sets := cs.sets(t)
	if len(sets) != 3 {
		t.Fatalf("want 3 sets, got %v", sets)
	}
	newer, middle, older := sets[0], sets[1], sets[2]
	writeOnly := "pat:" + cs.narrowToken(t, "write_acls", "write_pipelines", "write_transformers", "write_alerts", "write_streams")
	describe := func(s backup.SetInfo) string {
		return "deleted " + s.ID + ": manual set of auth,config,logs taken " + s.Created.Format(time.RFC3339) + ", labelled restore-verified\n"
	}
	for _, tt := range []struct {
		name      string
		token     string // cs.token when empty
		args      []string
		code      int
		stdout    string
		stderrHas string
		setsLeft  int
	}{
		{"no id", "", nil, exitUsage, "", "name the set to delete: an ID from `flowg backups list`", 3},
		{"a bad id", "", []string{"../x"}, exitUsage, "", `"../x" is not a set ID`, 3},
		{"an older set, --json after the id", "", []string{older.ID, "--json"}, exitOK, "{\n  \"deleted\": \"" + older.ID + "\"\n}\n", "", 2},
		{"a set already deleted", "", []string{older.ID}, exitFailed, "", "flowg: delete failed: ", 2},
		{"a token that may delete but not read", writeOnly, []string{middle.ID}, exitOK, "deleted " + middle.ID + "\n", "", 1},
		{"the newest restore-verified set", "", []string{newer.ID}, exitOK, describe(newer),
			"warning: " + newer.ID + " was the newest restore-verified set of auth,config,logs", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token
			if token == "" {
				token = cs.token
			}
			r := runFlowg(t, "", append([]string{"backups", "delete", "--server", cs.url, "--token", token}, tt.args...)...)
			if r.code != tt.code || r.stdout != tt.stdout || !strings.Contains(r.stderr, tt.stderrHas) || (tt.stderrHas == "" && r.stderr != "") {
				t.Errorf("want exit %d, stdout %q and %q in stderr, got\n%s", tt.code, tt.stdout, tt.stderrHas, r)
			}
			if got := len(cs.sets(t)); got != tt.setsLeft {
				t.Errorf("after it the server lists %d sets, want %d", got, tt.setsLeft)
			}
		})
	}
}

// token_ creates a personal access token of root narrowed to scopes and
// returns it (without its pat: prefix).
func (cs *catalogServer) narrowToken(t *testing.T, scopes ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"scopes": scopes})
	req, _ := http.NewRequest(http.MethodPost, cs.url+"/api/v1/tokens", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+cs.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/tokens: %d, %v", resp.StatusCode, err)
	}
	return created.Token
}
