package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// TestAdminRestore_WipeOntoAMountPointChangesNoDatabase: a wipe of all
// three databases, the logs one a mount point (/proc stands for a mounted
// volume), is refused before auth and config are swapped, not when the logs'
// turn comes.
func TestAdminRestore_WipeOntoAMountPointChangesNoDatabase(t *testing.T) {
	root := t.TempDir()
	dirs := emptyDatabases(t, root)
	bk := filepath.Join(root, "backup")
	if r := runFlowg(t, "", "admin", "backup", "--backup-dir", bk, "--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs); r.code != exitOK {
		t.Fatalf("backup: %s", r)
	}

	r := runFlowg(t, "", "admin", "restore", "--backup-dir", bk, "--wipe", "--catalog-dir", filepath.Join(root, "catalog"),
		"--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", "/proc")
	if r.code != exitFailed || !strings.Contains(r.stderr, "the logs database cannot be wiped in place: /proc is a mount point") ||
		!strings.Contains(r.stderr, "every database is unchanged") {
		t.Fatalf("wipe with --log-dir /proc: want exit %d refusing the mount point, got\n%s", exitFailed, r)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "auth backup config logs" {
		t.Fatalf("after the refused wipe, %s holds %s: a database was set aside or staged", root, got)
	}
}

// emptyDatabases creates the three databases, empty, under root (auth,
// config, logs) and returns their directories.
func emptyDatabases(t *testing.T, root string) kv.Dirs {
	t.Helper()
	return newDatabases(t, root, nil)
}

// newDatabases creates the three databases under root (auth, config,
// logs), each filled by fill in one transaction unless fill is nil, and
// returns their directories.
func newDatabases(t *testing.T, root string, fill func(n kv.Name, txn *badger.Txn) error) kv.Dirs {
	t.Helper()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	for _, n := range kv.Names {
		db, err := kv.Open(dirs.Of(n), kv.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if fill != nil {
			err = db.Update(func(txn *badger.Txn) error { return fill(n, txn) })
		}
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}
