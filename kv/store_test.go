package kv

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func testDirs(t *testing.T) Dirs {
	root := t.TempDir()
	return Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
}

// TestStore_ExclusiveSwapsOneDatabaseWhileOthersServe swaps a new logs
// database in: during the swap logs is unavailable and auth serves; after it,
// logs serves the new content and the old one is kept aside.
func TestStore_ExclusiveSwapsOneDatabaseWhileOthersServe(t *testing.T) {
	dirs := testDirs(t)
	s, err := OpenStore(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, release, err := s.Acquire(Logs)
	if err != nil {
		t.Fatal(err)
	}
	putKeys(t, db, 10)
	release()

	staged := dirs.Logs + ".restore-staging-test"
	aside, err := s.Exclusive(t.Context(), Logs, func(old *badger.DB) (string, error) {
		if _, _, err := s.Acquire(Logs); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Acquire(logs) during the swap: err = %v, want %v", err, ErrUnavailable)
		}
		adb, arelease, err := s.Acquire(Auth)
		if err != nil {
			t.Errorf("Acquire(auth) during the logs swap: %v", err)
		} else {
			putKeys(t, adb, 1)
			arelease()
		}
		n, err := Open(staged, OpenOptions{})
		if err != nil {
			return "", err
		}
		putKeys(t, n, 3)
		return staged, n.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aside, dirs.Logs+".before-restore-") {
		t.Fatalf("old database set aside at %q", aside)
	}
	db, release, err = s.Acquire(Logs)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, db); n != 3 {
		t.Errorf("logs holds %d keys after the swap, want the new database's 3", n)
	}
	release()
	old, err := Open(aside, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if n := countKeys(t, old); n != 10 {
		t.Errorf("set-aside database holds %d keys, want 10", n)
	}
}

func TestStore_BeginRestoreRefusesASecondRestore(t *testing.T) {
	s, err := OpenStore(testDirs(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	end, err := s.BeginRestore(Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRestore(Config); !errors.Is(err, ErrBusy) {
		t.Fatalf("second BeginRestore(config): err = %v, want %v", err, ErrBusy)
	}
	other, err := s.BeginRestore(Auth)
	if err != nil {
		t.Fatalf("BeginRestore(auth) while config restores: %v", err)
	}
	other()
	end()
	end2, err := s.BeginRestore(Config)
	if err != nil {
		t.Fatalf("BeginRestore(config) after the first ended: %v", err)
	}
	end2()
}
