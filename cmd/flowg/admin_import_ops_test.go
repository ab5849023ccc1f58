package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/operations"
)

// pipelineExport is a small portable export of the config database.
const pipelineExport = `{"v":1,"kind":"pipeline","name":"p","json":{"nodes":[]}}` + "\n" + `{"v":1,"kind":"end","count":1}` + "\n"

func TestAdminImport_RecordedInTheCatalogsHistoryDryRunsNot(t *testing.T) {
	root := t.TempDir()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	file := filepath.Join(root, "p.jsonl")
	if err := os.WriteFile(file, []byte(pipelineExport), 0o600); err != nil {
		t.Fatal(err)
	}
	cat := filepath.Join(root, "backups")
	if err := os.Mkdir(cat, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"admin", "import", file, "--catalog-dir", cat, "--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs}
	if r := runFlowg(t, "", append(args, "--dry-run")...); r.code != exitOK {
		t.Fatalf("dry run: %s", r)
	}
	if r := runFlowg(t, "", args...); r.code != exitOK {
		t.Fatalf("import: %s", r)
	}
	ops, err := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(cat), 0, nil), nil).List(context.Background(), "", 10)
	if err != nil || len(ops) != 1 || ops[0].Kind != operations.KindImport || ops[0].State != operations.StateSucceeded ||
		ops[0].Trigger != operations.TriggerOffline || ops[0].DryRun {
		t.Fatalf("history = %+v (%v), want the import only, succeeded, not its dry run", ops, err)
	}
}

func TestAdminImport_RefusedWhenTheDatabaseDiskHasNoRoom(t *testing.T) {
	root := t.TempDir()
	small := filepath.Join(root, "small")
	if err := os.Mkdir(small, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "flowg-test", small).CombinedOutput(); err != nil {
		t.Fatalf("mount a 1 MiB tmpfs (this test needs mount(8) to be permitted): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", small).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", small, err, out)
		}
	})
	file := filepath.Join(root, "p.jsonl")
	if err := os.WriteFile(file, []byte(pipelineExport), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(small, "config")
	r := runFlowg(t, "", "admin", "import", file, "--no-safety-snapshot", "--auth-dir", filepath.Join(root, "auth"),
		"--config-dir", config, "--log-dir", filepath.Join(root, "logs"))
	if r.code != exitFailed || !strings.Contains(r.stderr, "free") || !strings.Contains(r.stderr, "config") ||
		!strings.Contains(r.stderr, "nothing was written") {
		t.Fatalf("import onto a full disk: %s; want refused, saying the disk of config has too little free space and nothing was written", r)
	}
	if _, err := os.Stat(config); !os.IsNotExist(err) {
		t.Fatalf("the refused import created the database: %v", err)
	}
}
