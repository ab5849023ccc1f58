package backup

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// TestRoutine_PrunesWithItsRetentionPerDatabase runs the routine the server
// and its schedule run, with --backup-keep 1: a full set, then two
// logs-only sets. The second logs-only run prunes the first, never the full
// set, and says why.
func TestRoutine_PrunesWithItsRetentionPerDatabase(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	store, err := kv.OpenStore(kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cat := OpenCatalog(filepath.Join(root, "backups"))
	start := time.Now().Add(-time.Hour)
	run := func(minutes int, names ...kv.Name) RunResult {
		t.Helper()
		r := Routine{Catalog: cat, Store: store, Names: names, Retention: Retention{Keep: 1},
			Now: func() time.Time { return start.Add(time.Duration(minutes) * time.Minute) }}
		res, err := r.Run(ctx)
		if err != nil || res.PruneErr != nil {
			t.Fatalf("run: %v, prune: %v", err, res.PruneErr)
		}
		return res
	}
	full := run(0)
	first := run(1, kv.Logs)
	if len(first.Pruned) != 0 {
		t.Fatalf("the first logs-only set pruned %+v; the full set is the only one of auth and config", first.Pruned)
	}
	second := run(2, kv.Logs)
	if want := []Decision{{ID: first.Set.ID, Delete: true, Reason: "each of its databases keeps 1 newer sets (logs 1)"}}; !slices.Equal(second.Pruned, want) {
		t.Fatalf("the second logs-only set pruned %+v, want %+v", second.Pruned, want)
	}
	sets, err := cat.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range sets {
		ids = append(ids, s.ID)
	}
	if want := []string{second.Set.ID, full.Set.ID}; !slices.Equal(ids, want) {
		t.Fatalf("the catalog holds %v, want %v", ids, want)
	}
}
