package backup

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCatalog_SetLockKeepsPruneAndDeleteOffHeldSets holds the sets of a
// local catalog shared through one Catalog (as a server restoring from a
// set does) and prunes and deletes through another on the same directory
// (as `flowg admin backups prune` does, in its own process): they wait for
// the holder, give up with ErrCatalogBusy after the wait, and run once it
// lets go.
func TestCatalog_SetLockKeepsPruneAndDeleteOffHeldSets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	server, admin := OpenCatalog(dir), OpenCatalog(dir)
	db := testDB(t, 10)
	var ids []string
	for i := range 3 {
		m, err := server.Create(ctx, []Source{{Name: "config", DB: db}}, SetOptions{Now: time.Now().Add(time.Duration(i-3) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	release, err := server.HoldSets(ctx)
	if err != nil {
		t.Fatal(err)
	}

	saved := catalogLockWait
	catalogLockWait = 300 * time.Millisecond
	defer func() { catalogLockWait = saved }()
	if _, err := admin.Prune(ctx, Retention{Keep: 1}, time.Now()); !errors.Is(err, ErrCatalogBusy) {
		t.Fatalf("prune while another holder reads the sets: err %v, want ErrCatalogBusy", err)
	}
	if err := admin.Delete(ctx, ids[0]); !errors.Is(err, ErrCatalogBusy) {
		t.Fatalf("delete while another holder reads the sets: err %v, want ErrCatalogBusy", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := admin.Prune(cancelled, Retention{Keep: 1}, time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("prune with a cancelled context: err %v, want context.Canceled", err)
	}
	if sets, _ := admin.List(ctx); len(sets) != 3 {
		t.Fatalf("%d sets left while held, want 3", len(sets))
	}

	catalogLockWait = 5 * time.Second
	go func() {
		time.Sleep(200 * time.Millisecond)
		release()
	}()
	start := time.Now()
	deleted, err := admin.Prune(ctx, Retention{Keep: 1}, time.Now())
	if err != nil || len(deleted) != 2 {
		t.Fatalf("prune after the holder let go: deleted %v, err %v; want the 2 older sets", deleted, err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("prune did not wait for the holder (%v)", waited)
	}

	// Within one process the lock is shared by every user of the Catalog.
	release, err = server.HoldSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.Delete(ctx, ids[2]) }()
	select {
	case err := <-done:
		t.Fatalf("delete ran while the same catalog held its sets: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("delete after release: %v", err)
	}
}
