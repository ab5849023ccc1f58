package operations_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/operations"
)

// stepClock advances a millisecond at each call, so every operation has
// its own start time.
func stepClock() func() time.Time {
	t := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

func TestTracker_RecordsInTheCatalogNewestFirstWithPaging(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := backup.OpenCatalog(dir)
	tr := operations.NewTracker(operations.NewHistory(cat, 0, nil), stepClock())

	var ids []string
	for i := 0; i < 5; i++ {
		op := tr.Start(operations.Start{Kind: operations.KindBackup, Trigger: "manual", Who: "root", Databases: []string{"logs"}})
		op.SetPartDone("logs", 100)
		op.SetPartDone("logs", 250)
		errText := ""
		if i == 2 {
			errText = "disk full"
		}
		op.Finish(ctx, errText)
		ids = append(ids, op.ID())
	}
	running := tr.Start(operations.Start{Kind: operations.KindVerify, Trigger: "manual", Who: "ann", SetID: "20260102T030405Z-a1b2c3"})

	// A second tracker on the same catalog (another process, offline) sees
	// the finished ones and the other's running one, from its record.
	other := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(dir), 0, nil), nil)
	all, err := other.List(ctx, "", 100)
	if err != nil || len(all) != 6 || all[0].ID != running.ID() || all[0].State != operations.StateRunning {
		t.Fatalf("list from another process = %+v, %v; want the running one first, then the 5 finished", all, err)
	}
	got := all[1:]
	if got[0].ID != ids[4] || got[4].ID != ids[0] {
		t.Fatalf("order = %s ... %s, want newest first", got[0].ID, got[4].ID)
	}
	if got[2].State != operations.StateFailed || got[2].Error == nil || *got[2].Error != "disk full" {
		t.Fatalf("failed record = %+v", got[2])
	}
	if got[0].State != operations.StateSucceeded || got[0].EndedAt == nil || got[0].Progress == nil || got[0].Progress.DoneBytes != 250 {
		t.Fatalf("succeeded record = %+v, want ended, 250 bytes done", got[0])
	}

	// This process lists its running one first.
	mine, err := tr.List(ctx, "", 3)
	if err != nil || len(mine) != 3 || mine[0].ID != running.ID() || mine[0].State != operations.StateRunning || mine[0].EndedAt != nil {
		t.Fatalf("list with a running operation = %+v, %v", mine, err)
	}
	if mine[0].SetID == nil || *mine[0].SetID != "20260102T030405Z-a1b2c3" {
		t.Fatalf("running record's set = %v", mine[0].SetID)
	}
	page, err := tr.List(ctx, ids[2], 100)
	if err != nil || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[0] {
		t.Fatalf("page before %s = %+v, %v", ids[2], page, err)
	}

	entries, _ := os.ReadDir(filepath.Join(dir, "operations"))
	for _, e := range entries {
		st, _ := os.Stat(filepath.Join(dir, "operations", e.Name()))
		if st.Mode().Perm() != 0o600 || strings.HasPrefix(e.Name(), ".tmp") {
			t.Fatalf("record %s has mode %v, want 0600 and no temporary files", e.Name(), st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "operations")); st.Mode().Perm() != 0o700 {
		t.Fatalf("operations dir mode %v, want 0700", st.Mode().Perm())
	}
	if _, err := tr.Get(ctx, "20990101T000000.000000Z-abcdef"); err == nil {
		t.Fatal("Get of an unknown id succeeded")
	}
	if r, err := other.Get(ctx, ids[3]); err != nil || r.ID != ids[3] {
		t.Fatalf("Get from history = %+v, %v", r, err)
	}
}

func TestHistory_KeepsTheNewestRecordsOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tr := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(dir), 3, nil), stepClock())
	var last []string
	for i := 0; i < 7; i++ {
		op := tr.Start(operations.Start{Kind: operations.KindRestore, Trigger: "offline"})
		op.Finish(ctx, "")
		last = append(last, op.ID())
	}
	entries, err := os.ReadDir(filepath.Join(dir, "operations"))
	if err != nil || len(entries) != 3 {
		t.Fatalf("%d records kept (%v), want 3", len(entries), err)
	}
	got, _ := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(dir), 3, nil), nil).List(ctx, "", 10)
	if len(got) != 3 || got[0].ID != last[6] || got[2].ID != last[4] {
		t.Fatalf("kept %+v, want the 3 newest", got)
	}
}

func TestHistory_AnUnwritableCatalogNeverFailsTheOperation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(file), 0, nil), nil)
	op := tr.Start(operations.Start{Kind: operations.KindBackup})
	op.Finish(context.Background(), "") // logs, does not panic or block
	if tr.Running("") != 0 {
		t.Fatal("a finished operation is still running")
	}
	if _, err := tr.List(context.Background(), "", 10); err == nil {
		t.Fatal("listing an unreadable catalog gave no error")
	}
}

func TestTracker_DryRunsStayInMemory(t *testing.T) {
	dir := t.TempDir()
	tr := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(dir), 0, nil), nil)
	op := tr.Start(operations.Start{Kind: operations.KindRestore, DryRun: true})
	op.Finish(context.Background(), "")
	if _, err := os.Stat(filepath.Join(dir, "operations")); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote into the catalog: %v", err)
	}
	got, err := tr.List(context.Background(), "", 10)
	if err != nil || len(got) != 1 || !got[0].DryRun || got[0].State != operations.StateSucceeded {
		t.Fatalf("list after a dry run = %+v, %v; want it, from memory", got, err)
	}
}

func TestTracker_ConcurrentOperationsAndListings(t *testing.T) {
	ctx := context.Background()
	tr := operations.NewTracker(operations.NewHistory(backup.OpenCatalog(t.TempDir()), 10, nil), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			if _, err := tr.List(ctx, "", 5); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := tr.Start(operations.Start{Kind: operations.KindBackup})
			for b := uint64(1); b <= 5; b++ {
				op.SetPartDone("logs", b*100)
				op.AddDone(1)
				_ = op.Snapshot()
			}
			op.Finish(ctx, "")
		}()
	}
	wg.Wait()
	<-done
	got, err := tr.List(ctx, "", 100)
	if err != nil || len(got) != 16 || tr.Running("") != 0 {
		t.Fatalf("after 16 operations: %d listed (%v), %d running; want 16 (10 kept, the rest in memory), none running", len(got), err, tr.Running(""))
	}
	for _, r := range got {
		if r.Progress == nil || r.Progress.DoneBytes != 505 {
			t.Fatalf("record %+v: want 505 bytes done", r)
		}
	}
}
