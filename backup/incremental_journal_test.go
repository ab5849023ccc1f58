package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// incrFixture runs continuous backup on a store, with the catalog object
// the sets are taken through (the one the journal is attached to).
type incrFixture struct {
	*journalFixture
	cat *Catalog
}

func newIncrFixture(t *testing.T) *incrFixture {
	t.Helper()
	return newIncrFixtureWith(t, Keys{})
}

// newIncrFixtureWith is newIncrFixture on a catalog encrypting with keys.
func newIncrFixtureWith(t *testing.T, keys Keys) *incrFixture {
	t.Helper()
	root := t.TempDir()
	f := &incrFixture{journalFixture: &journalFixture{
		dirs:    kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")},
		catalog: filepath.Join(root, "catalog"),
	}}
	f.keys = keys
	f.cat = OpenCatalog(f.catalog).WithKeys(keys)
	f.restart(t)
	t.Cleanup(func() { f.stop(t) })
	return f
}

// restart opens the store and starts continuous backup on f.cat.
func (f *incrFixture) restart(t *testing.T) {
	t.Helper()
	store, err := kv.OpenStore(f.dirs)
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	f.cont, err = StartContinuous(t.Context(), f.cat, store, ContinuousOptions{Interval: 40 * time.Millisecond, CompactAfter: -1})
	if err != nil {
		store.Close()
		f.store = nil
		t.Fatal(err)
	}
}

// takeSet takes a set of every database through the routine the server runs.
func (f *incrFixture) takeSet(t *testing.T, incremental bool) Manifest {
	t.Helper()
	res, err := Routine{Catalog: f.cat, Store: f.store, Options: SetOptions{Incremental: incremental}}.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return res.Set.Manifest
}

// liveState lists the config database's keys as "key=value/meta/expiry".
func liveState(t *testing.T, store *kv.Store) []string {
	t.Helper()
	db, release, err := store.Acquire(kv.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var out []string
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if reserved(item.Key()) {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s=%s/%d/%d", item.Key(), v, item.UserMeta(), item.ExpiresAt()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// setState restores set id's chain of the config database (as every
// restore of a set does) and lists it as liveState does.
func setState(t *testing.T, cat *Catalog, id string) []string {
	t.Helper()
	open, cleanup, err := cat.Restorable(t.Context(), id, string(kv.Config), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	r, size, err := open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	br, err := NewReader(r, ReadOptions{Size: size, Database: string(kv.Config)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		kvs, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range kvs {
			out = append(out, fmt.Sprintf("%s=%s/%d/%d", kv.Key, kv.Value, userMetaOf(kv.UserMeta), kv.ExpiresAt))
		}
	}
	sort.Strings(out)
	return out
}

func withMeta(key, value string, meta byte, ttl time.Duration) func(*badger.Txn) error {
	return func(txn *badger.Txn) error {
		e := badger.NewEntry([]byte(key), []byte(value)).WithMeta(meta)
		if ttl != 0 {
			e = e.WithTTL(ttl)
		}
		return txn.SetEntry(e)
	}
}

func TestIncrementalFromJournal_RestoresExactlyAsTheDatabaseIs(t *testing.T) {
	f := newIncrFixture(t)
	for i := range 50 {
		f.update(t, set(fmt.Sprintf("key-%02d", i), fmt.Sprintf("v%d", i)))
	}
	f.update(t, set("empty", ""))
	f.update(t, withMeta("ttl-long", "stays", 7, time.Hour))
	f.update(t, withMeta("ttl-short", "expires", 0, 2*time.Second))
	f.update(t, withMeta("ttl-mid", "expires later", 0, 4*time.Second))
	full := f.takeSet(t, false)

	f.update(t, set("key-01", "updated"))
	f.update(t, delKey("key-02"))
	f.update(t, delKey("empty"))
	f.update(t, set("key-03", ""))     // an update to an empty value: not a delete
	f.update(t, set("created", "new")) // a creation
	f.update(t, delKey("key-04"))
	f.update(t, set("key-04", "back")) // deleted, then created again
	f.update(t, set("gone-again", "x"))
	f.update(t, delKey("gone-again")) // created, then deleted
	f.update(t, withMeta("key-05", "meta", 3, time.Hour))
	time.Sleep(2100 * time.Millisecond) // ttl-short expires: it is no longer live
	incr := f.takeSet(t, true)

	if incr.Parent != full.ID {
		t.Fatalf("the incremental set builds on %q, not the full set %s", incr.Parent, full.ID)
	}
	for name, e := range incr.Databases {
		if e.Journal == nil || e.NotFromJournal != "" {
			t.Fatalf("%s was not built from the journal: %+v", name, e)
		}
	}
	e := incr.Databases[string(kv.Config)]
	want := liveState(t, f.store)
	if e.Journal.Changes < 10 || e.Keys != 5 || e.InventoryKeys != uint64(len(want)) {
		t.Fatalf("config's file: %d changes read, %d records, %d keys listed; want >= 10, 5, %d", e.Journal.Changes, e.Keys, e.InventoryKeys, len(want))
	}
	requireState(t, "the incremental set restored", setState(t, f.cat, incr.ID), want)
	for _, s := range want {
		if strings.HasPrefix(s, "ttl-short=") {
			t.Fatal("the expired key is still live in the database")
		}
	}

	// It verifies as every incremental set does, and a set on top of it,
	// built from the journal too, builds on its key list.
	info, err := f.cat.Verify(t.Context(), incr.ID, time.Now())
	if err != nil || info.Label != LabelRestoreVerified {
		t.Fatalf("verify: %s %s %v", info.Label, info.Problem, err)
	}
	// ttl-mid, listed by the set before, expires meanwhile: the key list
	// of the set before carries its expiry, so it is left out.
	f.update(t, delKey("key-10"))
	f.update(t, set("key-11", "again"))
	time.Sleep(time.Until(time.Unix(int64(full.Created.Unix())+5, 0)))
	next := f.takeSet(t, true)
	ne := next.Databases[string(kv.Config)]
	want = liveState(t, f.store)
	if next.Parent != incr.ID || ne.Journal == nil || ne.InventoryKeys != uint64(len(want)) {
		t.Fatalf("the next set: parent %q, %+v; want %d keys listed", next.Parent, ne, len(want))
	}
	requireState(t, "the next incremental set restored", setState(t, f.cat, next.ID), want)
}

func TestIncrementalFromJournal_FallsBackAndSaysWhyWhenTheJournalHasAGap(t *testing.T) {
	f := newIncrFixture(t)
	f.update(t, set("a", "1"))
	f.takeSet(t, false)
	f.update(t, set("b", "2"))
	time.Sleep(200 * time.Millisecond)
	f.update(t, set("c", "3"))
	time.Sleep(200 * time.Millisecond)
	// A segment of config holding a change goes missing.
	if err := os.Remove(segmentWithAChange(t, f.catalog, string(kv.Config))); err != nil {
		t.Fatal(err)
	}
	f.update(t, delKey("a"))
	incr := f.takeSet(t, true)
	e := incr.Databases[string(kv.Config)]
	if e.Journal != nil || !strings.Contains(e.NotFromJournal, "a gap after segment") {
		t.Fatalf("config's file with a gap in the journal: %+v", e)
	}
	if incr.Databases[string(kv.Auth)].Journal == nil {
		t.Fatalf("auth's journal has no gap, yet its file was read from the database: %+v", incr.Databases[string(kv.Auth)])
	}
	requireState(t, "the set read from the database", setState(t, f.cat, incr.ID), liveState(t, f.store))

	// Offline (no continuous backup in the process), the set says so.
	f.stop(t)
	store, err := kv.OpenStore(f.dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	offline, err := Routine{Catalog: OpenCatalog(f.catalog), Store: store, Options: SetOptions{Incremental: true}}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e := offline.Set.Databases[string(kv.Config)]; e.Journal != nil || e.NotFromJournal != "continuous backup is not running on this catalog" {
		t.Fatalf("an offline incremental set: %+v", e)
	}
}

func TestIncrementalFromJournal_ANewChainSinceTheParentFallsBack(t *testing.T) {
	f := newIncrFixture(t)
	f.update(t, set("a", "1"))
	full := f.takeSet(t, false)
	// Written while the server is stopped: config's journal starts a new
	// chain, from a set of config alone, after the full set.
	f.stop(t)
	db, err := kv.Open(f.dirs.Config, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(set("offline", "1")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	f.restart(t)
	f.update(t, set("b", "2"))
	incr := f.takeSet(t, true)
	if incr.Parent != full.ID {
		t.Fatalf("the incremental set builds on %q, not the full set %s", incr.Parent, full.ID)
	}
	e := incr.Databases[string(kv.Config)]
	if e.Journal != nil || !strings.Contains(e.NotFromJournal, "after the parent set "+full.ID) ||
		!strings.Contains(e.NotFromJournal, "changed while the server was stopped") {
		t.Fatalf("config's file, its journal on a chain newer than the parent: %+v", e)
	}
	if incr.Databases[string(kv.Logs)].Journal == nil {
		t.Fatalf("logs' chain continues, yet its file was read from the database: %+v", incr.Databases[string(kv.Logs)])
	}
	requireState(t, "the set read from the database", setState(t, f.cat, incr.ID), liveState(t, f.store))
}

func TestIncrementalFromJournal_EncryptedCatalogNeedsTheIdentity(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	// With the identity, the journal and the parent set are read back.
	f := newIncrFixtureWith(t, Keys{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}})
	f.update(t, set("a", "1"))
	f.takeSet(t, false)
	f.update(t, set("b", "secret"))
	f.update(t, delKey("a"))
	incr := f.takeSet(t, true)
	e := incr.Databases[string(kv.Config)]
	if e.Journal == nil || !e.Encrypted {
		t.Fatalf("config's file in an encrypted catalog with the identity: %+v", e)
	}
	b, err := os.ReadFile(filepath.Join(f.catalog, incr.ID, e.File))
	if err != nil || strings.Contains(string(b), "secret") || !strings.HasPrefix(string(b), ageMagic) {
		t.Fatalf("the file built from the journal is not encrypted (%v)", err)
	}
	requireState(t, "the encrypted set restored", setState(t, f.cat, incr.ID), liveState(t, f.store))

	// Without it (the server holds only the recipient), the set is read
	// from the database, saying why.
	g := newIncrFixtureWith(t, Keys{Recipients: []age.Recipient{id.Recipient()}})
	g.update(t, set("a", "1"))
	g.takeSet(t, false)
	g.update(t, set("b", "2"))
	incr = g.takeSet(t, true)
	if e := incr.Databases[string(kv.Config)]; e.Journal != nil || !strings.Contains(e.NotFromJournal, "encrypted and no identity") {
		t.Fatalf("config's file in an encrypted catalog without the identity: %+v", e)
	}
}

// segmentWithAChange returns the path of the newest segment of db's newest
// chain that holds a change (not only time marks).
func segmentWithAChange(t *testing.T, catalog, db string) string {
	t.Helper()
	chains, err := readChains(catalog, db)
	if err != nil || len(chains) == 0 {
		t.Fatalf("chains of %s: %d, %v", db, len(chains), err)
	}
	ch := chains[len(chains)-1]
	found := ""
	for _, seg := range ch.segs {
		path := filepath.Join(ch.dir, seg.String())
		changes := 0
		if err := eachInSegment(t.Context(), path, db, seg, nil, func(o *op, _ *mark) error {
			if o != nil {
				changes++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if changes > 0 {
			found = path
		}
	}
	if found == "" {
		t.Fatalf("no segment of %s holds a change", db)
	}
	return found
}
