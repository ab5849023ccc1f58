package backup

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// TestBuildMerged_AnIncrementalAfterItMissesNothing: a merge rebuilt
// beside a database whose newest versions were deletes, of a file that
// writes nothing (here its one record has expired), must not take the
// database's versions back below what its last set read in the same
// epoch: the writes made after the swap would get versions the next
// incremental set, taken since that read timestamp, leaves out, and its
// chain would restore without them (a merge in place always commits above
// every version held). It starts a new epoch: the next set is full.
func TestBuildMerged_AnIncrementalAfterItMissesNothing(t *testing.T) {
	expired := uint64(time.Now().Add(-time.Hour).Unix())
	t.Run("a file that writes nothing", func(t *testing.T) {
		incrementalAfterMerge(t, []fileRecord{{key: "k9", value: "expired", expiresAt: expired}}, false)
	})
	// The usual case: the chain goes on, and its next link holds the
	// file's records.
	t.Run("a file that writes records", func(t *testing.T) {
		incrementalAfterMerge(t, []fileRecord{{key: "k1", value: "from the file"}, {key: "k7", value: "from the file"}}, true)
	})
}

// incrementalAfterMerge takes a full set of a database whose newest
// versions are deletes, merges recs into it beside it, writes to it, takes
// an incremental set and restores its chain; chained says whether that
// set must build on the full one.
func incrementalAfterMerge(t *testing.T, recs []fileRecord, chained bool) {
	ctx := context.Background()
	root := t.TempDir()
	cat := OpenCatalog(filepath.Join(root, "catalog"))
	dir := filepath.Join(root, "db")
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	update(t, db, func(txn *badger.Txn) error {
		for i := range 5 {
			if err := txn.Set(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range 5 { // the newest versions are deletes
		update(t, db, func(txn *badger.Txn) error { return txn.Delete(fmt.Appendf(nil, "gone-%d", i)) })
	}
	full, err := cat.Create(ctx, []Source{{Name: "config", DB: db}}, SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	file := filepath.Join(root, "config.db")
	writeFile(t, file, "config", recs)
	staged := filepath.Join(root, "staged")
	if _, err := prepareFile(t, file, RestoreOptions{}).BuildMerged(ctx, MergeInto{From: dir, Staged: staged}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.SwapDir(dir, staged, filepath.Join(root, "aside")); err != nil {
		t.Fatal(err)
	}

	db, err = kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 8 { // past the full set's read timestamp
		update(t, db, func(txn *badger.Txn) error { return txn.Set(fmt.Appendf(nil, "after-%d", i), []byte("new")) })
	}
	link, err := cat.Create(ctx, []Source{{Name: "config", DB: db}}, SetOptions{Incremental: true, Now: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case chained && link.Parent != full.ID:
		t.Fatalf("the set after the merge built on %q (%s), want %s", link.Parent, link.FullReason, full.ID)
	case !chained && link.Parent != "":
		t.Fatalf("the set after the merge built on %q, want a full set", link.Parent)
	case chained && link.Databases["config"].Keys != uint64(len(recs))+8:
		t.Errorf("the link holds %d records, want the file's %d and the 8 written after", link.Databases["config"].Keys, len(recs))
	}
	equalContent(t, "the chain after the merge", restoreSet(t, cat, link.ID, "config"), liveContent(t, db))
}
