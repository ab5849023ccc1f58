package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/internal/dbtest"
)

// TestBuildMerged_ADamagedTableFailsTheMerge: Badger's iterator ends,
// without an error, at a table block it cannot read, so the rebuild
// would copy the records before the damage only, and the swap would then
// delete the directory that still held the rest. The merge fails instead,
// saying so, and leaves nothing behind.
func TestBuildMerged_ADamagedTableFailsTheMerge(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "db")
	held := dbContent{}
	for i := range 20000 {
		held[fmt.Sprintf("k%06d", i)] = storedRecord{Value: strings.Repeat(fmt.Sprint(i), 20)}
	}
	createDB(t, dir, held)
	dbtest.DamageTable(t, dir)

	file := filepath.Join(root, "config.db")
	writeFile(t, file, "config", []fileRecord{{key: "b", value: "file"}})
	staged := filepath.Join(root, "staged")
	built, err := prepareFile(t, file, RestoreOptions{}).BuildMerged(t.Context(), MergeInto{From: dir, Staged: staged})
	if !errors.Is(err, ErrDamagedDatabase) {
		t.Fatalf("err = %v after %d of the database's %d keys kept, want ErrDamagedDatabase", err, built.Kept, len(held))
	}
	if _, err := os.Lstat(staged); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the staging directory is left behind (%v)", err)
	}
}
