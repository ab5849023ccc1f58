package dbtest

import (
	"os"
	"path/filepath"
	"testing"
)

// DamageTable overwrites 2,000 bytes a third of the way into a table of
// the closed database in dir (the last, in file-name order; a block of
// records, not the index) and returns its path: Badger's iterator then
// stops silently at that block.
func DamageTable(t testing.TB, dir string) string {
	t.Helper()
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v, %v", dir, tables, err)
	}
	damaged := tables[len(tables)-1]
	f, err := os.OpenFile(damaged, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 2000)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	if _, err := f.WriteAt(junk, st.Size()/3); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return damaged
}
