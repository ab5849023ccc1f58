package kv

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLockDir_KeepsBadgerOut holds a directory as a restore does: Badger
// cannot open the database meanwhile, and can again once it is released.
func TestLockDir_KeepsBadgerOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("LockDir of an open database: err = %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	unlock, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if db, err := Open(dir, OpenOptions{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open of a locked directory: err = %v, want ErrLocked", err)
	}
	unlock()
	db, err = Open(dir, OpenOptions{})
	if err != nil {
		t.Fatalf("Open after unlock: %v", err)
	}
	db.Close()
}

// TestLockDir_MissingDirectory is created for the lock and removed again
// when nothing was put in it.
func TestLockDir_MissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent", "db")
	unlock, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("while locked, %s: %v", dir, err)
	}
	unlock()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after unlock, %s still exists (err = %v)", dir, err)
	}
}
