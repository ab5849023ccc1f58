package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// plantUnfinishedSet makes a set directory as a local catalog writes it
// (.tmp-<id>) holding part of a backup, last changed at when.
func plantUnfinishedSet(t testing.TB, catalog, id string, when time.Time) string {
	t.Helper()
	dir := filepath.Join(catalog, ".tmp-"+id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "auth.db")
	if err := os.WriteFile(file, []byte("FLOWG part of a backup cut short by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, dir} {
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestServer_RemovesStaleUnfinishedSetsAtStart plants, in the server's local
// catalog, a set a crash cut short two hours ago and one written a minute
// ago: at start the server removes the stale one and logs it, and keeps the
// fresh one (a writer may be at it); once that one is stale too,
// `flowg admin backups prune` removes it and says so.
func TestServer_RemovesStaleUnfinishedSetsAtStart(t *testing.T) {
	dirs := newServerDirs(t)
	stale := plantUnfinishedSet(t, dirs.backups, "20260101T000000Z-aaaaaa", time.Now().Add(-2*time.Hour))
	fresh := plantUnfinishedSet(t, dirs.backups, "20260101T000000Z-bbbbbb", time.Now().Add(-time.Minute))

	s := startServer(t, dirs)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale unfinished set %s survived the server's start (%v)", stale, err)
	}
	requireContains(t, "the server log", s.log.String(), "removed an unfinished backup set an interrupted run left behind")
	requireContains(t, "the server log", s.log.String(), stale)
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh unfinished set %s was removed at start: %v", fresh, err)
	}
	if strings.Contains(s.log.String(), fresh) {
		t.Errorf("the server log names the fresh unfinished set %s as removed", fresh)
	}
	s.stop(t)

	old := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{filepath.Join(fresh, "auth.db"), fresh} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	r := mustFlowg(t, dirs.root, "admin", "backups", "prune", "--backup-dir", dirs.backups, "--keep", "3")
	requireContains(t, "flowg admin backups prune", r.stdout, "removed "+fresh+": an unfinished set an interrupted run left behind")
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("flowg admin backups prune left the stale unfinished set %s (%v)", fresh, err)
	}
}
