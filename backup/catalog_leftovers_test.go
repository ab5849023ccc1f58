package backup

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// plantSetDir makes dir/name with a file in it, both last changed at when.
func plantSetDir(t *testing.T, dir, name string, when time.Time) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(path, "auth.db")
	if err := os.WriteFile(file, []byte("part of a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, path} {
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestRemoveUnfinishedSets_RemovesOnlyStaleLeftoversOfItsOwnNames(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-2 * UnfinishedSetAge)
	staleTmp := plantSetDir(t, dir, ".tmp-20260101T000000Z-aaaaaa", old)
	staleDeleting := plantSetDir(t, dir, ".deleting-20260101T000000Z-bbbbbb", old)
	kept := []string{
		plantSetDir(t, dir, ".tmp-20260101T000000Z-cccccc", now.Add(-time.Minute)), // a writer may be at it
		plantSetDir(t, dir, ".tmp-not-a-set-id", old),                              // not a name of the catalog's
		plantSetDir(t, dir, "20260101T000000Z-dddddd", old),                        // a set
		plantSetDir(t, dir, "notes", old),
	}
	// A stale directory holding a file written a minute ago is being written.
	busy := plantSetDir(t, dir, ".tmp-20260101T000000Z-eeeeee", old)
	if err := os.WriteFile(filepath.Join(busy, "logs.db"), []byte("being written"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(busy, old, old); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, busy)

	removed, err := OpenCatalog(dir).RemoveUnfinishedSets(now)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if want := []string{staleDeleting, staleTmp}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, p := range []string{staleTmp, staleDeleting} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func TestRemoveUnfinishedSets_NoCatalogYet(t *testing.T) {
	removed, err := OpenCatalog(filepath.Join(t.TempDir(), "none")).RemoveUnfinishedSets(time.Now())
	if err != nil || len(removed) != 0 {
		t.Fatalf("a catalog not created yet: removed %v, %v; want nothing, no error", removed, err)
	}
}
