package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/operations"
)

func TestOfflineCommands_AreRecordedInTheCatalogsHistory(t *testing.T) {
	root := t.TempDir()
	dirs := emptyDatabases(t, root)
	cat := filepath.Join(root, "backups")
	dirArgs := []string{"--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs}
	r := runFlowg(t, "", append([]string{"admin", "backups", "create", "--backup-dir", cat, "--only", "config,logs"}, dirArgs...)...)
	if r.code != exitOK {
		t.Fatalf("backups create: %s", r)
	}
	id := strings.Fields(r.stdout)[1]
	if r := runFlowg(t, "", "admin", "backups", "verify", "--backup-dir", cat, id); r.code != exitOK {
		t.Fatalf("backups verify: %s", r)
	}
	if r := runFlowg(t, "", "admin", "backups", "verify", "--backup-dir", cat); r.code != exitUsage {
		t.Fatalf("verify without ids: %s", r)
	}
	tr := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(cat), 0, nil), nil)
	ops, err := tr.List(context.Background(), "", 10)
	if err != nil || len(ops) != 2 {
		t.Fatalf("history = %+v (%v), want the create and the verify, not the usage error", ops, err)
	}
	v, b := ops[0], ops[1]
	if v.Kind != "verify" || v.Trigger != "offline" || v.State != "succeeded" || v.SetID == nil || *v.SetID != id ||
		strings.Join(v.Databases, ",") != "config,logs" || !strings.Contains(v.Who, "flowg admin") {
		t.Fatalf("verify record = %+v", v)
	}
	if b.Kind != "backup" || b.Trigger != "offline" || b.State != "succeeded" || b.SetID == nil || *b.SetID != id {
		t.Fatalf("create record = %+v", b)
	}
	// A restore is recorded in its --catalog-dir; its dry run is not.
	restore := append([]string{"admin", "restore", "--backup-dir", cat, "--set", id, "--catalog-dir", cat, "--only", "config"}, dirArgs...)
	if r := runFlowg(t, "", append(restore, "--dry-run")...); r.code != exitOK {
		t.Fatalf("restore --dry-run: %s", r)
	}
	if r := runFlowg(t, "", restore...); r.code != exitOK {
		t.Fatalf("restore: %s", r)
	}
	ops, _ = tr.List(context.Background(), "", 10)
	if len(ops) != 3 || ops[0].Kind != "restore" || ops[0].Trigger != "offline" || ops[0].State != "succeeded" ||
		ops[0].SetID == nil || *ops[0].SetID != id || strings.Join(ops[0].Databases, ",") != "config" || ops[0].DryRun {
		t.Fatalf("history after a restore and its dry run = %+v", ops)
	}
	// A failed run is recorded with its error.
	if r := runFlowg(t, "", "admin", "backups", "verify", "--backup-dir", cat, "20200101T000000Z-abcdef"); r.code == exitOK {
		t.Fatalf("verify of a missing set: %s", r)
	}
	ops, _ = tr.List(context.Background(), "", 10)
	if len(ops) != 4 || ops[0].State != "failed" || ops[0].Error == nil || *ops[0].Error == "" {
		t.Fatalf("history after a failed verify = %+v", ops[0])
	}
}
