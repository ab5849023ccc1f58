package integration

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/internal/dbtest"
)

// TestAdminRestore_MergeIntoADamagedDatabaseChangesNothing: an offline
// merge into a database with a table block that cannot be read, which
// Badger's iterator passes over without an error, fails saying the
// database is damaged, and leaves its files as they were (a merge rebuilt
// beside it would have kept the records before the damage only, and
// deleted the directory that held the rest).
func TestAdminRestore_MergeIntoADamagedDatabaseChangesNothing(t *testing.T) {
	t.Parallel()
	root, _ := backedUp(t)
	dir := dataDir(root, "config")
	many := content{}
	for i := range 20000 {
		many[fmt.Sprintf("pipeline/many-%06d", i)] = record{Value: strings.Repeat(fmt.Sprint(i), 20)}
	}
	writeDB(t, dir, many)
	dbtest.DamageTable(t, dir)
	before := filesSums(t, dir)

	r := flowg(t, root, "admin", "restore", "--config-dir", "./data/config", "--only", "config", "--backup-dir", "./backup")
	if r.code == 0 {
		t.Fatalf("a merge into a damaged database: want a failure:\n%s", r)
	}
	requireContains(t, "stderr", r.stderr, "the database's files are damaged", "nothing was changed")
	if after := filesSums(t, dir); after != before {
		t.Errorf("the database's tables changed:\nbefore %s\nafter  %s", before, after)
	}
	siblings, err := filepath.Glob(dir + ".*")
	if err != nil || len(siblings) > 0 {
		t.Errorf("left beside the database: %v (%v)", siblings, err)
	}
}

// filesSums lists the SHA-256 of each table file in dir.
func filesSums(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"*.sst"} { // an open rotates the value log
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s:%x", filepath.Base(p), sha256.Sum256(b)))
		}
	}
	return strings.Join(out, " ")
}
