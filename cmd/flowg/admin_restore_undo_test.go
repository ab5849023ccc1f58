package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// threeDatabases makes the three databases, each with one key, and backs
// them up; it returns their dirs and the backup directory.
func threeDatabases(t *testing.T) (kv.Dirs, string) {
	t.Helper()
	root := t.TempDir()
	dirs := newDatabases(t, root, func(n kv.Name, txn *badger.Txn) error {
		return txn.Set([]byte(string(n)+"/1"), []byte("v"))
	})
	bk := filepath.Join(root, "backup")
	if r := runFlowg(t, "", "admin", "backup", "--backup-dir", bk, "--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs); r.code != exitOK {
		t.Fatalf("backup: %s", r)
	}
	return dirs, bk
}

func TestAdminRestore_ThreeDatabasesPrintOneUndoCommand(t *testing.T) {
	dirs, bk := threeDatabases(t)
	args := []string{"admin", "restore", "--backup-dir", bk, "--catalog-dir", filepath.Join(filepath.Dir(bk), "catalog"),
		"--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs}
	for _, extra := range [][]string{nil, {"--wipe"}} {
		r := runFlowg(t, "", append(args, extra...)...)
		if r.code != exitOK {
			t.Fatalf("restore %v: %s", extra, r)
		}
		if n := strings.Count(r.stderr, "to undo"); n != 1 {
			t.Errorf("restore %v of 3 databases printed %d undo lines, want 1:\n%s", extra, n, r)
		}
		undo := undoLine(t, r.stderr)
		if extra == nil {
			continue
		}
		// The wipe's one command puts every previous database back.
		if out, err := exec.Command("sh", "-c", undo).CombinedOutput(); err != nil {
			t.Fatalf("the undo command %q: %v %s", undo, err, out)
		}
		for _, n := range kv.Names {
			if _, err := os.Stat(dirs.Of(n) + ".undone"); err != nil {
				t.Errorf("after the undo command, the wiped %s database was not moved aside: %v", n, err)
			}
		}
	}
}

func TestClientBackups_ThreeDatabaseRestorePrintsOneUndoAndLatestSkipsSafetySets(t *testing.T) {
	cs := newCatalogServer(t)
	cs.mustFlowg(t, "create", "--verify")
	verified := cs.sets(t)[0].ID
	r := cs.mustFlowg(t, "restore", "--latest")
	if n := strings.Count(r.stderr, "to undo"); n != 1 {
		t.Errorf("a 3-database restore printed %d undo lines, want 1:\n%s", n, r)
	}
	undo := undoLine(t, r.stderr)
	sets := cs.sets(t)
	for _, s := range sets {
		if s.Trigger == backup.TriggerPreRestore && !strings.Contains(undo, "--only "+setDBNames(s)[0]+" "+s.ID) {
			t.Errorf("the undo line names no restore of the safety set %s: %s", s.ID, undo)
		}
	}
	if len(undo) > 250 {
		t.Errorf("the undo line is %d characters: %s", len(undo), undo)
	}
	// The safety sets are newer and restore-verified on the server side
	// only when verified: verify them all, --latest still skips them.
	for _, s := range sets {
		if s.Trigger == backup.TriggerPreRestore {
			cs.mustFlowg(t, "verify", s.ID)
		}
	}
	for _, sub := range []string{"verify", "restore"} {
		args := []string{"--latest"}
		if sub == "restore" {
			args = append(args, "--only", "config")
		}
		if r := cs.flowg(t, sub, args...); !strings.Contains(r.stderr, "--latest: set "+verified) {
			t.Errorf("backups %s --latest did not take %s, the newest set that is no safety set:\n%s", sub, verified, r)
		}
	}
}

// undoLine returns the text after "to undo this restore: " in out.
func undoLine(t *testing.T, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "to undo this restore: ")
	if !ok {
		t.Fatalf("no undo line in:\n%s", out)
	}
	line, _, _ := strings.Cut(after, "\n")
	return line
}
