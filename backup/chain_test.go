package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// liveContent reads every live key and value of db.
func liveContent(t *testing.T, db *badger.DB) map[string]string {
	t.Helper()
	return dbtest.Of(t, db).Values()
}

func update(t *testing.T, db *badger.DB, fn func(txn *badger.Txn) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// restoreSet rebuilds database db of set id into a fresh directory and
// returns its content.
func restoreSet(t *testing.T, cat *Catalog, id, db string) map[string]string {
	t.Helper()
	ctx := context.Background()
	open, cleanup, err := cat.Restorable(ctx, id, db, t.TempDir())
	if err != nil {
		t.Fatalf("Restorable(%s): %v", id, err)
	}
	defer cleanup()
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := WipeFrom(ctx, dir, open, WipeOptions{RestoreOptions: RestoreOptions{Database: db}}); err != nil {
		t.Fatalf("restore set %s: %v", id, err)
	}
	rdb, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	return liveContent(t, rdb)
}

func equalContent(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	dbtest.Require(t, what, want, got)
}

func TestIncremental_ChainRestoresExactlyTheLastState(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	db := testDB(t, 2000)
	src := []Source{{Name: "logs", DB: db}}

	full, err := cat.Create(ctx, src, SetOptions{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if full.Parent != "" || full.FullReason != "there is no complete set to build on" {
		t.Fatalf("first set has parent %q, full_reason %q; with nothing to build on it must be full and say so", full.Parent, full.FullReason)
	}
	want := []map[string]string{liveContent(t, db)}
	ids := []string{full.ID}
	for round := range 3 {
		update(t, db, func(txn *badger.Txn) error {
			for i := round * 10; i < round*10+10; i++ {
				if err := txn.Set(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "changed in round %d", round)); err != nil {
					return err
				}
				if err := txn.Delete(fmt.Appendf(nil, "k%04d", 1000+round*100+i)); err != nil {
					return err
				}
			}
			return txn.Set(fmt.Appendf(nil, "new-%d", round), []byte("added"))
		})
		// Compaction may drop the tombstones: the key list must not need them.
		if err := db.Flatten(1); err != nil {
			t.Fatal(err)
		}
		m, err := cat.Create(ctx, src, SetOptions{Incremental: true, Now: time.Now().Add(time.Duration(round+1) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		entry := m.Databases["logs"]
		if m.Parent != ids[len(ids)-1] || entry.SinceTs == 0 {
			t.Fatalf("round %d: parent %q since %d; want parent %s and a since timestamp", round, m.Parent, entry.SinceTs, ids[len(ids)-1])
		}
		if entry.Keys > 21 || entry.InventoryKeys != uint64(len(liveContent(t, db))) {
			t.Fatalf("round %d: %d changed records, %d listed keys; want at most 21 and %d", round, entry.Keys, entry.InventoryKeys, len(liveContent(t, db)))
		}
		ids = append(ids, m.ID)
		want = append(want, liveContent(t, db))
	}
	for i, id := range ids {
		equalContent(t, "set "+id, restoreSet(t, cat, id, "logs"), want[i])
	}
	if info, err := cat.Verify(ctx, ids[len(ids)-1], time.Now()); err != nil || info.Label != LabelRestoreVerified {
		t.Fatalf("verify of the last link: label %q, err %v", info.Label, err)
	}
}

func TestIncremental_RefusesToBreakChains(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	db := testDB(t, 50)
	src := []Source{{Name: "config", DB: db}}
	base, link := baseAndLink(t, cat, src, -3*time.Hour)
	if err := cat.Delete(context.Background(), base.ID); !errors.Is(err, ErrInChain) {
		t.Fatalf("deleting the base: err %v, want ErrInChain", err)
	}
	sets, _ := cat.List(context.Background())
	if drop := (Retention{Keep: 1, MaxAge: time.Hour}).Select(sets, time.Now()); len(drop) != 0 {
		t.Fatalf("retention drops %v, which the kept link needs", drop)
	}
	// Given a file alone, a link is refused: it is not a whole backup.
	path, _ := cat.FilePath(context.Background(), link.ID, "config")
	if _, err := MergeFile(ctx, db, path, RestoreOptions{Database: "config"}); !errors.Is(err, ErrIncremental) {
		t.Fatalf("merging a link file alone: err %v, want ErrIncremental", err)
	}
}

func TestIncremental_AfterAWipeRestoreIsFull(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := OpenCatalog(filepath.Join(dir, "catalog"))
	dbDir := filepath.Join(dir, "db")
	db, err := kv.Open(dbDir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	update(t, db, func(txn *badger.Txn) error { return txn.Set([]byte("a"), []byte("1")) })
	base, err := cat.Create(ctx, []Source{{Name: "auth", DB: db}}, SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	path, _ := cat.FilePath(context.Background(), base.ID, "auth")
	if _, err := WipeDir(ctx, dbDir, path, WipeOptions{RestoreOptions: RestoreOptions{Database: "auth"}, DiscardPrevious: true}); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dbDir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := cat.Create(ctx, []Source{{Name: "auth", DB: db}}, SetOptions{Incremental: true, Now: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Parent != "" || !strings.HasPrefix(m.FullReason, "a database was rebuilt since set "+base.ID) {
		t.Fatalf("set after a wipe restore built on %q (full_reason %q); versions of the rebuilt database are not comparable, it must be full and say so", m.Parent, m.FullReason)
	}
	got, err := cat.Get(context.Background(), m.ID)
	if err != nil || got.FullReason != m.FullReason {
		t.Fatalf("the catalog lists full_reason %q (err %v), the run gave %q", got.FullReason, err, m.FullReason)
	}
}

// TestIncremental_FullChainStartsANewOne: with MaxChain 2, the third set
// asked to be incremental is full, and its manifest says why.
func TestIncremental_FullChainStartsANewOne(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(filepath.Join(t.TempDir(), "catalog"))
	db := testDB(t, 10)
	src := []Source{{Name: "logs", DB: db}}
	var sets []Manifest
	for i := range 3 {
		m, err := cat.Create(ctx, src, SetOptions{Incremental: true, MaxChain: 2, Now: time.Now().Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, m)
	}
	if sets[1].Parent != sets[0].ID || sets[1].FullReason != "" {
		t.Fatalf("second set: parent %q, full_reason %q; want it on %s", sets[1].Parent, sets[1].FullReason, sets[0].ID)
	}
	want := fmt.Sprintf("the chain of set %s already holds 2 sets, the most a chain may hold (2): a new chain starts", sets[1].ID)
	if sets[2].Parent != "" || sets[2].FullReason != want {
		t.Fatalf("third set: parent %q, full_reason %q; want a full set saying %q", sets[2].Parent, sets[2].FullReason, want)
	}
}

// TestIncremental_ABrokenBaseBreaksItsChainsLabels truncates the full set an
// incremental one builds on, after both were verified: the incremental set
// can no longer be restored, so neither List nor Get may call it
// restore-verified (a restore drill picks sets by that label).
func TestIncremental_ABrokenBaseBreaksItsChainsLabels(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	db := testDB(t, 200)
	src := []Source{{Name: "config", DB: db}}
	base, link := baseAndLink(t, cat, src, -2*time.Second)
	for _, id := range []string{base.ID, link.ID} {
		if _, err := cat.Verify(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := cat.Get(context.Background(), link.ID); got.Label != LabelRestoreVerified {
		t.Fatalf("link before the damage: %q, want restore-verified", got.Label)
	}
	path, _ := cat.FilePath(context.Background(), base.ID, "config")
	if err := os.Truncate(path, 200); err != nil {
		t.Fatal(err)
	}
	sets, err := cat.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.ID == link.ID && (s.Label != LabelIncomplete || !strings.Contains(s.Problem, "chain is broken: set "+base.ID)) {
			t.Errorf("List: link is %q (%s), want incomplete naming the broken base", s.Label, s.Problem)
		}
	}
	if got, _ := cat.Get(context.Background(), link.ID); got.Label != LabelIncomplete {
		t.Errorf("Get: link is %q (%s), want incomplete", got.Label, got.Problem)
	}
}

// TestIncremental_BuildsPastASetOfFewerDatabases: a newer set holding only
// one database (the safety snapshot a restore writes) does not stop an
// incremental set of two from building on the older set holding both.
func TestIncremental_BuildsPastASetOfFewerDatabases(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	config, logs := testDB(t, 20), testDB(t, 30)
	both := []Source{{Name: "config", DB: config}, {Name: "logs", DB: logs}}
	full, err := cat.Create(ctx, both, SetOptions{Now: time.Now().Add(-2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Create(ctx, both[:1], SetOptions{Trigger: TriggerPreRestore, Now: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	m, err := cat.Create(ctx, both, SetOptions{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Parent != full.ID || m.FullReason != "" {
		t.Fatalf("incremental set: parent %q, full_reason %q; want it on %s, the newest set holding both", m.Parent, m.FullReason, full.ID)
	}

	// A database no set holds makes it full, and says which.
	other := testDB(t, 5)
	m, err = cat.Create(ctx, []Source{{Name: "auth", DB: other}}, SetOptions{Incremental: true, Now: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Parent != "" || !strings.Contains(m.FullReason, "no complete set holds a flowg backup of auth") {
		t.Fatalf("set of auth: parent %q, full_reason %q; want full, saying no set holds auth", m.Parent, m.FullReason)
	}
}

// TestIncremental_AfterTheDirectoryWasRecreatedIsFull: a database deleted
// and created anew (rm -rf, a new disk) starts its versions over; a set on
// it must not continue the old chain, or it would miss everything written
// below the parent's read timestamp.
func TestIncremental_AfterTheDirectoryWasRecreatedIsFull(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := OpenCatalog(filepath.Join(dir, "catalog"))
	dbDir := filepath.Join(dir, "db")
	db, err := kv.Open(dbDir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		update(t, db, func(txn *badger.Txn) error { return txn.Set(fmt.Appendf(nil, "old-%03d", i), []byte("v")) })
	}
	if _, err := cat.Create(ctx, []Source{{Name: "logs", DB: db}}, SetOptions{Now: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.RemoveAll(dbDir); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dbDir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 10 {
		update(t, db, func(txn *badger.Txn) error { return txn.Set(fmt.Appendf(nil, "new-%03d", i), []byte("v")) })
	}
	m, err := cat.Create(ctx, []Source{{Name: "logs", DB: db}}, SetOptions{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Parent != "" || m.Databases["logs"].Keys != 10 || !strings.Contains(m.FullReason, "rebuilt") {
		t.Fatalf("set on the recreated database: parent %q, %d keys, full_reason %q; want a full set of the 10 keys, saying it was rebuilt",
			m.Parent, m.Databases["logs"].Keys, m.FullReason)
	}
}

// TestIncremental_VerifyingALinkVerifiesItsChain: verifying an incremental
// set verifies the sets it builds on that no one verified, since a restore
// of it needs them; a link whose base lost its verification (a manifest from
// an older flowg) is only "created".
func TestIncremental_VerifyingALinkVerifiesItsChain(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	db := testDB(t, 50)
	src := []Source{{Name: "config", DB: db}}
	base, link := baseAndLink(t, cat, src, -2*time.Second)
	got, err := cat.Verify(ctx, link.ID, time.Now())
	if err != nil || got.Label != LabelRestoreVerified {
		t.Fatalf("Verify of the link: %q, %v; want restore-verified", got.Label, err)
	}
	if b, _ := cat.Get(context.Background(), base.ID); b.Label != LabelRestoreVerified {
		t.Fatalf("the base after verifying the link: %q, want restore-verified", b.Label)
	}

	// The base's manifest without its verification: the link is only created.
	m := base
	m.Verification = nil
	if err := cat.store.putManifest(ctx, base.ID, m); err != nil {
		t.Fatal(err)
	}
	if got, _ := cat.Get(context.Background(), link.ID); got.Label != LabelCreated {
		t.Fatalf("link on an unverified base: %q, want %q", got.Label, LabelCreated)
	}
}

// baseAndLink writes a full set of src, age old, then an incremental set on
// it, failing t unless the second builds on the first.
func baseAndLink(t *testing.T, cat *Catalog, src []Source, age time.Duration) (base, link Manifest) {
	t.Helper()
	ctx := context.Background()
	base, err := cat.Create(ctx, src, SetOptions{Now: time.Now().Add(age)})
	if err != nil {
		t.Fatal(err)
	}
	link, err = cat.Create(ctx, src, SetOptions{Incremental: true})
	if err != nil || link.Parent != base.ID {
		t.Fatalf("link parent %q err %v; want %s", link.Parent, err, base.ID)
	}
	return base, link
}
