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

// TestLockDir_MissingDirectory is created for the lock, with its missing
// parents, and all are removed again when nothing was put in them.
func TestLockDir_MissingDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "absent", "db")
	unlock, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("while locked, %s: %v", dir, err)
	}
	unlock()
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Fatalf("after unlock, %s still holds %v", root, left)
	}
}

// TestLockDir_HolderOpensWithLocked: the process holding the lock opens the
// database itself with OpenOptions.Locked, and every other open is refused
// until the lock is released.
func TestLockDir_HolderOpensWithLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	unlock, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir, OpenOptions{Locked: true})
	if err != nil {
		t.Fatalf("Open with Locked by the holder: %v", err)
	}
	if other, err := Open(dir, OpenOptions{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			other.Close()
		}
		t.Fatalf("a second Open while held: err = %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if other, err := Open(dir, OpenOptions{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			other.Close()
		}
		t.Fatalf("an Open after the holder closed, still held: err = %v, want ErrLocked", err)
	}
	unlock()
	if !Exists(dir) {
		t.Fatal("unlock removed the database the holder created")
	}
	db, err = Open(dir, OpenOptions{})
	if err != nil {
		t.Fatalf("Open after unlock: %v", err)
	}
	db.Close()
}
