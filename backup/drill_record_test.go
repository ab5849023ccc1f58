package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCatalog_LastDrillIsTheNewestRecord(t *testing.T) {
	dir := t.TempDir()
	cat := OpenCatalog(dir)
	if _, ok, err := cat.LastDrill(t.Context()); ok || err != nil {
		t.Fatalf("LastDrill of an empty catalog = ok %v, err %v; want no record, no error", ok, err)
	}
	base := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	// Written out of order: the newest by start time wins, not the last written.
	for _, r := range []DrillRecord{
		{Time: base.Add(2 * time.Hour), Result: DrillFailed, Error: "newest", RTOSeconds: 0},
		{Time: base, Result: DrillOK, RTOSeconds: 1.5},
		{Time: base.Add(time.Hour), Result: DrillOK, RTOSeconds: 2.5},
	} {
		if err := cat.RecordDrill(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	// Not records: ignored.
	if err := os.WriteFile(filepath.Join(dir, drillsDir, "zzz-notes.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, ok, err := cat.LastDrill(t.Context())
	if err != nil || !ok {
		t.Fatalf("LastDrill: ok %v, err %v", ok, err)
	}
	if !got.Time.Equal(base.Add(2*time.Hour)) || got.Result != DrillFailed || got.Error != "newest" || got.OK() {
		t.Errorf("LastDrill = %+v, want the failed drill started at %s", got, base.Add(2*time.Hour))
	}
}

func TestCatalog_DrillRecordsArePrivateAndNotSets(t *testing.T) {
	dir := t.TempDir()
	cat := OpenCatalog(dir)
	now := time.Date(2026, 12, 1, 4, 0, 0, 123, time.UTC)
	if err := cat.RecordDrill(t.Context(), DrillRecord{Time: now, Result: DrillOK}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Join(dir, drillsDir), 0o700}, {filepath.Join(dir, drillsDir, drillName(now)), 0o600}} {
		st, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != f.mode {
			t.Errorf("%s has mode %v, want %v", f.path, st.Mode().Perm(), f.mode)
		}
	}
	sets, err := cat.List(t.Context())
	if err != nil || len(sets) != 0 {
		t.Errorf("List with only a drill record = %v, %v; want no set", sets, err)
	}
}
