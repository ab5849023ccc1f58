package main

import (
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
	cs.mustFlowg(t, "create", "--verify")
	cs.mustFlowg(t, "create", "--verify")
	sets := cs.sets(t)
	if len(sets) != 2 {
		t.Fatalf("want 2 sets, got %v", sets)
	}
	newer, older := sets[0], sets[1]
	describe := func(s backup.SetInfo) string {
		return "deleted " + s.ID + ": manual set of auth,config,logs taken " + s.Created.Format(time.RFC3339) + ", labelled restore-verified\n"
	}
	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas string
		setsLeft  int
	}{
		{"no id", nil, exitUsage, "", "name the set: an ID from `flowg backups list`", 2},
		{"a bad id", []string{"../x"}, exitUsage, "", `"../x" is not a set ID`, 2},
		{"an older set, --json after the id", []string{older.ID, "--json"}, exitOK, "{\n  \"deleted\": \"" + older.ID + "\"\n}\n", "", 1},
		{"a set already deleted", []string{older.ID}, exitFailed, "", "flowg: delete failed: ", 1},
		{"the newest restore-verified set", []string{newer.ID}, exitOK, describe(newer),
			"warning: " + newer.ID + " was the newest restore-verified set of auth,config,logs", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cs.flowg(t, "delete", tt.args...)
			if r.code != tt.code || r.stdout != tt.stdout || !strings.Contains(r.stderr, tt.stderrHas) || (tt.stderrHas == "" && r.stderr != "") {
				t.Errorf("want exit %d, stdout %q and %q in stderr, got\n%s", tt.code, tt.stdout, tt.stderrHas, r)
			}
			if got := len(cs.sets(t)); got != tt.setsLeft {
				t.Errorf("after it the server lists %d sets, want %d", got, tt.setsLeft)
			}
		})
	}
}
