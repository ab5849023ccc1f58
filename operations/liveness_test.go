package operations_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/operations"
)

// deadPID returns the pid of a process that ran and is gone.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestHistory_ARecordLeftRunningByAGoneProcessIsListedInterrupted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := backup.OpenCatalog(dir)
	host, _ := os.Hostname()
	put := func(id string, pid int, host string) {
		body, _ := json.Marshal(operations.Record{ID: id, Kind: operations.KindBackup, State: operations.StateRunning,
			StartedAt: time.Now().UTC(), PID: pid, Host: host})
		if err := cat.PutOperation(ctx, id+".json", body); err != nil {
			t.Fatal(err)
		}
	}
	const (
		gone      = "20261206T070000.000001Z-aaaaaa"
		alive     = "20261206T070000.000002Z-bbbbbb"
		elsewhere = "20261206T070000.000003Z-cccccc"
		mine      = "20261206T070000.000004Z-dddddd" // this pid, but no tracker of this process runs it
	)
	put(gone, deadPID(t), host)
	put(alive, os.Getppid(), host)
	put(elsewhere, deadPID(t), "another-host.example")
	put(mine, os.Getpid(), host)

	tr := operations.NewTracker(operations.NewHistory(cat, 0, nil), nil)
	running := tr.Start(operations.Start{Kind: operations.KindRestore}) // this process's, truly running
	got, err := tr.List(ctx, "", 10)
	if err != nil || len(got) != 5 {
		t.Fatalf("list = %+v, %v", got, err)
	}
	want := map[string]string{gone: operations.StateInterrupted, alive: operations.StateRunning,
		elsewhere: operations.StateRunning, mine: operations.StateInterrupted, running.ID(): operations.StateRunning}
	for _, r := range got {
		if r.State != want[r.ID] {
			t.Errorf("%s listed %q, want %q", r.ID, r.State, want[r.ID])
		}
		if r.State == operations.StateInterrupted && (r.Error == nil || r.EndedAt != nil) {
			t.Errorf("interrupted %s: error %v, ended %v; want an error saying why, no end", r.ID, r.Error, r.EndedAt)
		}
	}
	if r, err := tr.Get(ctx, gone); err != nil || r.State != operations.StateInterrupted {
		t.Fatalf("get %s = %+v, %v; want interrupted", gone, r, err)
	}
	// Readers do not rewrite the record.
	body, err := os.ReadFile(filepath.Join(dir, "operations", gone+".json"))
	var stored operations.Record
	if err != nil || json.Unmarshal(body, &stored) != nil || stored.State != operations.StateRunning {
		t.Fatalf("stored record = %s, %v; want it left as written", body, err)
	}
	running.Finish(ctx, "")
}

func TestTracker_WritesARunningRecordAtStartAndDropsItWhenDiscarded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tr := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(dir), 0, nil), nil)
	op := tr.Start(operations.Start{Kind: operations.KindBackup, Who: "ann"})
	file := filepath.Join(dir, "operations", op.ID()+".json")
	var r operations.Record
	body, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(body, &r) != nil || r.State != operations.StateRunning || r.PID != os.Getpid() || r.Host == "" {
		t.Fatalf("record at start = %s, %v; want running with this pid and host", body, err)
	}
	tr.Discard(op)
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("a refused operation's record is still there: %v", err)
	}
	quiet := tr.Start(operations.Start{Kind: operations.KindBackup, EndRecordOnly: true})
	if _, err := os.Stat(filepath.Join(dir, "operations", quiet.ID()+".json")); !os.IsNotExist(err) {
		t.Fatalf("EndRecordOnly wrote a record at start: %v", err)
	}
	quiet.Finish(ctx, "")
}
