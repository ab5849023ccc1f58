package restore

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// TestOffline_MergeIsRebuiltBesideAndSwappedIn: an offline merge into a
// database that holds keys builds the merged database beside it and
// swaps it in, leaving no staging or previous directory behind, and says
// so in its notes.
func TestOffline_MergeIsRebuiltBesideAndSwappedIn(t *testing.T) {
	f := newOfflineFixture(t)
	out, err := f.run(t, Request{Databases: []kv.Name{kv.Config}})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Results[0]
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, NoteRebuiltBeside) }) {
		t.Errorf("notes %q: want %q", res.Notes, NoteRebuiltBeside)
	}
	if res.Written != 1 || res.Added == nil || *res.Added != 0 || res.SafetySnapshot == "" {
		t.Errorf("result %+v: want 1 key written, none added, a safety snapshot", res)
	}
	dbtest.Require(t, "config after the merge", map[string]string{"config/1": "backed up", "config/2": "added after"}, dbtest.OfDir(t, f.dirs.Config).Values())
	siblings, err := os.ReadDir(filepath.Dir(f.dirs.Config))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range siblings {
		if strings.HasPrefix(e.Name(), "config.") {
			t.Errorf("%s is left beside the database", e.Name())
		}
	}
}

// TestOffline_MergeInPlaceWhenTheDirectoryHoldsOtherFiles: a database
// directory holding a file of the user's is merged in place, not swapped
// (which would set the file aside with the old database), and the note
// says why.
func TestOffline_MergeInPlaceWhenTheDirectoryHoldsOtherFiles(t *testing.T) {
	f := newOfflineFixture(t)
	mine := filepath.Join(f.dirs.Config, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := f.run(t, Request{Databases: []kv.Name{kv.Config}})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Results[0]
	if !slices.ContainsFunc(res.Notes, func(n string) bool {
		return strings.HasPrefix(n, "merged in place: ") && strings.Contains(n, "files that are not the database's")
	}) {
		t.Errorf("notes %q: want why the merge was made in place", res.Notes)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "mine" {
		t.Errorf("the user's file: %q, %v", b, err)
	}
	dbtest.Require(t, "config after the merge", map[string]string{"config/1": "backed up", "config/2": "added after"}, dbtest.OfDir(t, f.dirs.Config).Values())
}
