package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// TestAdminVerify_ComparesADirectoryWithItsManifest: a plain backup
// directory's files are compared with manifest.json as a catalog set's
// are: SHA-256, key count and content hash. Each row edits one field of a
// good directory's manifest; the file itself stays sound, so only the
// comparison can catch it (an edited "keys" used to pass).
func TestAdminVerify_ComparesADirectoryWithItsManifest(t *testing.T) {
	good := backupDirWithKeys(t, 3)
	for _, tt := range []struct {
		name   string
		field  string
		value  any
		code   int
		stdout string
	}{
		{"untouched", "", nil, exitOK, "log.db     ok      logs, 3 keys"},
		{"keys edited", "keys", 4, exitFailed, "log.db     FAILED  backup file checksum mismatch: holds 3 keys, the manifest says 4 (manifest.json was edited"},
		{"content hash edited", "content_sum", strings.Repeat("0", 32), exitFailed,
			"log.db     FAILED  backup file checksum mismatch: content hash "},
		{"sha256 edited", "sha256", strings.Repeat("0", 64), exitFailed, "log.db     FAILED  backup file checksum mismatch: SHA-256 "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, good)
			if tt.field != "" {
				editManifest(t, dir, "logs", tt.field, tt.value)
			}
			r := runFlowg(t, "", "admin", "verify", "--backup-dir", dir)
			wantErr := "all 3 files verified\n"
			if tt.code != exitOK {
				wantErr = "flowg: verify failed: 1 of 3 files are bad (see above)\n"
			}
			if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.HasPrefix(r.stderr, wantErr) {
				t.Errorf("want exit %d, %q in stdout and stderr starting %q, got\n%s", tt.code, tt.stdout, wantErr, r)
			}
		})
	}
}

// backupDirWithKeys writes keys records into each of three new databases
// and backs them up with `flowg admin backup`; it returns the directory.
func backupDirWithKeys(t *testing.T, keys int) string {
	t.Helper()
	args := dbsWithKeys(t, keys)
	bk := filepath.Join(t.TempDir(), "backup")
	if r := runFlowg(t, "", append([]string{"admin", "backup", "--backup-dir", bk}, args...)...); r.code != exitOK {
		t.Fatalf("backup: %s", r)
	}
	return bk
}

// dbsWithKeys writes keys records into each of three new databases and
// returns the flags that name them (--auth-dir DIR ...).
func dbsWithKeys(t *testing.T, keys int) []string {
	t.Helper()
	root := t.TempDir()
	dirs := newDatabases(t, root, func(_ kv.Name, txn *badger.Txn) error {
		for i := range keys {
			if err := txn.Set(fmt.Appendf(nil, "key-%d", i), []byte("value")); err != nil {
				return err
			}
		}
		return nil
	})
	return []string{"--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs}
}

// copyDir copies the files of dir into a new directory and returns it.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(out, e.Name()), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// editManifest sets field of database db's entry in dir/manifest.json.
func editManifest(t *testing.T, dir, db, field string, value any) {
	t.Helper()
	path := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["databases"].(map[string]any)[db].(map[string]any)[field] = value
	if b, err = json.Marshal(m); err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}
