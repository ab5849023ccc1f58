package integration

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestAdminRestore_HoldsTheDatabaseWhileItRebuildsIt starts the two offline
// restores that build a database beside the target and swap it in — a wipe,
// and a merge into an emptied database (the seed's rm -rf ./data, then
// restore) — and, while the staging directory exists, opens the target as a
// server starting then would: Badger must find it locked. A server that got
// in would be serving the database the swap then replaces (and, for the
// emptied one, deletes).
func TestAdminRestore_HoldsTheDatabaseWhileItRebuildsIt(t *testing.T) {
	root := t.TempDir()
	source := filepath.Join(root, "source-logs")
	bulkDB(t, source, "src", 12000, 4096, 3)
	bk := filepath.Join(root, "backup")
	mustFlowg(t, root, "admin", "backup", "--only", "logs", "--log-dir", source, "--backup-dir", bk)

	for _, tc := range []struct {
		name   string
		args   []string
		before func(target string)
	}{
		{"wipe", []string{"--wipe"}, func(target string) { copyFile(t, source, target) }},
		{"merge into an emptied database", nil, func(target string) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "data", "logs")
			tc.before(target)
			args := append([]string{"admin", "restore", "--only", "logs", "--log-dir", target, "--backup-dir", bk,
				"--catalog-dir", filepath.Join(t.TempDir(), "catalog")}, tc.args...)
			cmd := exec.Command(flowgBin, args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()

			tried := false
			for !tried {
				select {
				case err := <-exited:
					t.Fatalf("the restore ended (%v) before its staging directory was seen\n%s", err, out.String())
				default:
				}
				if !exists(target + ".restore-staging-*") {
					time.Sleep(50 * time.Microsecond)
					continue
				}
				tried = true
				db, err := badger.Open(badger.DefaultOptions(target).WithLogger(nil))
				if err == nil {
					db.Close()
					t.Errorf("opened %s while the restore was rebuilding it", target)
				} else if !strings.Contains(err.Error(), "Cannot acquire directory lock") {
					t.Errorf("open during the restore: %v, want Badger's directory lock error", err)
				}
			}
			if err := <-exited; err != nil {
				t.Fatalf("restore: %v\n%s", err, out.String())
			}
			if got, want := digest(t, target), digest(t, source); got != want {
				t.Fatalf("restored %s, want %s", got, want)
			}
		})
	}
}
