package backup

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// A database rebuilt at an instant that cannot be renamed into place (its
// staging directory on another file system) is read through its Opener
// instead: dumped once, it loads into exactly the same records.
func TestRebuilt_AcrossFileSystemsFallsBackToItsDump(t *testing.T) {
	root := t.TempDir()
	r := &Rebuilt{Dir: filepath.Join(root, "config.at-staging"), Database: "config", work: filepath.Join(root, "work")}
	if err := os.Mkdir(r.work, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(r.Dir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, kv := range [][2]string{{"pipeline:a", "{}"}, {"pipeline:b", `{"x":1}`}, {"index:empty", ""}} {
			if err := txn.SetEntry(badger.NewEntry([]byte(kv[0]), []byte(kv[1])).WithMeta(3)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := dbtest.Of(t, db).Briefs()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	renameDir = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EXDEV} }
	t.Cleanup(func() { renameDir = os.Rename })
	staged := filepath.Join(root, "config.restore-staging")
	if moved, err := r.MoveTo(staged); moved || err != nil {
		t.Fatalf("MoveTo across file systems: want not moved and no error, got %v, %v", moved, err)
	}
	if _, err := BuildWipeFrom(context.Background(), staged, r.Opener(), RestoreOptions{Database: "config"}); err != nil {
		t.Fatalf("load the dump of the rebuilt database: %v", err)
	}
	dbtest.Require(t, "the rebuilt database loaded from its dump", want, dbtest.OfDir(t, staged).Briefs())

	renameDir = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EACCES} }
	if moved, err := r.MoveTo(filepath.Join(root, "other")); moved || err == nil {
		t.Fatalf("MoveTo refused for another reason: want an error, got %v, %v", moved, err)
	}
	renameDir = os.Rename
	if moved, err := r.MoveTo(filepath.Join(root, "moved")); !moved || err != nil {
		t.Fatalf("MoveTo on one file system: want moved, got %v, %v", moved, err)
	}
	dbtest.Require(t, "the rebuilt database moved into place", want, dbtest.OfDir(t, filepath.Join(root, "moved")).Briefs())
}
