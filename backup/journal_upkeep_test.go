package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Tests of the journal's upkeep: encryption, the newest base set, idle
// watermarks and status, compaction and leftovers.

func TestJournal_SegmentsOfAnEncryptedCatalogAreEncrypted(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	f := &journalFixture{
		dirs:    kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")},
		catalog: filepath.Join(root, "catalog"),
		keys:    Keys{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}},
	}
	f.start(t)
	f.update(t, set("secret", "in-clear-nowhere"))
	time.Sleep(100 * time.Millisecond)
	f.stop(t)
	segs := segments(t, f.catalog)
	if len(segs) == 0 {
		t.Fatal("no segment written")
	}
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "in-clear-nowhere") || !strings.HasPrefix(string(b), ageMagic) {
			t.Fatalf("segment %s is not encrypted", s)
		}
	}
	got, _, err := restoredWith(t, OpenCatalog(f.catalog).WithKeys(f.keys), time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest with the identity", got, []string{"secret=in-clear-nowhere"})
	if _, _, err := restoredAt(t, f.catalog, time.Time{}, true); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("restore without the identity: %v, want ErrEncrypted", err)
	}
	// Verify without the identity: not read, which is no verdict.
	windows, err := OpenCatalog(f.catalog).VerifyJournal(t.Context())
	if err != nil || len(windows) == 0 {
		t.Fatalf("verify the journal without the identity: %v, %v", windows, err)
	}
	locked := 0
	for _, w := range windows {
		if w.Verified {
			t.Fatalf("a window verified without the identity: %+v", w)
		}
		if w.NeedsKey {
			locked++
		}
	}
	if locked == 0 {
		t.Fatalf("verify without the identity: %+v, want a window that needs the key", windows)
	}
	windows, err = OpenCatalog(f.catalog).WithKeys(f.keys).VerifyJournal(t.Context())
	if err != nil || len(windows) == 0 || !windows[0].Verified || windows[0].NeedsKey {
		t.Fatalf("verify the journal with the identity: %+v, %v", windows, err)
	}
}

func TestJournal_RestoreStartsFromTheNewestSetItCan(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("a", "1"))
	time.Sleep(150 * time.Millisecond)
	db, release, err := f.store.Acquire(kv.Config)
	if err != nil {
		t.Fatal(err)
	}
	m, err := OpenCatalog(f.catalog).Create(t.Context(), []Source{{Name: string(kv.Config), DB: db}}, SetOptions{})
	release()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	f.update(t, set("b", "2"))
	f.update(t, delKey("a"))
	f.stop(t)
	// The segment that wrote a is before the set: damaged, it is not needed.
	var before string
	for _, s := range segments(t, f.catalog) {
		if segNameOf(t, s).upTo <= m.Databases[string(kv.Config)].ReadTs {
			before = s
		}
	}
	if before == "" {
		t.Fatal("no segment before the set")
	}
	if err := os.Truncate(before, 20); err != nil {
		t.Fatal(err)
	}
	got, p, err := restoredAt(t, f.catalog, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"b=2"})
	if p.BaseSet != m.ID {
		t.Fatalf("the restore started from set %s, want the newer set %s", p.BaseSet, m.ID)
	}
}

func TestJournal_IdleDatabaseWritesWatermarksAndStatusShowsTheLag(t *testing.T) {
	root := t.TempDir()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	store, err := kv.OpenStore(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	catalog := filepath.Join(root, "catalog")
	cont, err := StartContinuous(t.Context(), OpenCatalog(catalog), store, ContinuousOptions{Interval: 30 * time.Millisecond, Watermark: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	for _, st := range cont.Status() {
		if since := time.Since(st.LastShipped); since > 250*time.Millisecond || !st.OldestUnshipped.IsZero() {
			t.Fatalf("an idle %s journal last shipped %s ago (oldest unshipped %v); want a watermark every 100ms", st.Database, since, st.OldestUnshipped)
		}
	}
	cont.Stop()
	if segs := segments(t, catalog); len(segs) < 3 {
		t.Fatalf("an idle database wrote %d watermarks in 450ms, want at least 3", len(segs))
	}

	// A change not shipped yet shows as lag.
	cont, err = StartContinuous(t.Context(), OpenCatalog(catalog), store, ContinuousOptions{Interval: time.Hour, Watermark: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer cont.Stop()
	db, release, _ := store.Acquire(kv.Config)
	if err := db.Update(set("k", "v")); err != nil {
		t.Fatal(err)
	}
	release()
	time.Sleep(50 * time.Millisecond)
	for _, st := range cont.Status() {
		if lagging := !st.OldestUnshipped.IsZero(); lagging != (st.Database == string(kv.Config)) {
			t.Fatalf("status of %s: oldest unshipped change %v", st.Database, st.OldestUnshipped)
		}
	}
}

func TestJournal_CompactionMergesOldSegmentsAndRestoresStayExact(t *testing.T) {
	root := t.TempDir()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	store, err := kv.OpenStore(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	catalog := filepath.Join(root, "catalog")
	cont, err := StartContinuous(t.Context(), OpenCatalog(catalog), store, ContinuousOptions{Interval: 20 * time.Millisecond, CompactAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db, release, _ := store.Acquire(kv.Config)
	update := func(fn func(*badger.Txn) error) {
		t.Helper()
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
		time.Sleep(40 * time.Millisecond) // a segment each
	}
	update(set("a", "1"))
	update(set("gone", ""))
	t1 := between()
	update(delKey("gone"))
	update(set("a", "2"))
	t2 := between()
	update(set("b", ""))
	release()
	time.Sleep(time.Second) // old enough, and compacted
	cont.Stop()

	chains, err := readChains(catalog, string(kv.Config))
	if err != nil || len(chains) != 1 || chains[0].problem != "" {
		t.Fatalf("chains after compaction: %+v, %v", chains, err)
	}
	ch := chains[0]
	compacted := 0
	for _, s := range ch.segs {
		if s.last > s.seq {
			compacted++
		}
	}
	files, _ := filepath.Glob(filepath.Join(ch.dir, "*"+segmentExt))
	if compacted == 0 || len(files) != len(ch.segs) || ch.lastSeq() < 5 {
		t.Fatalf("after compaction: %d files for %d segments (%d compacted), up to sequence %d", len(files), len(ch.segs), compacted, ch.lastSeq())
	}
	for _, c := range []struct {
		at   time.Time
		want []string
	}{{t1, []string{"a=1", "gone="}}, {t2, []string{"a=2"}}} {
		got, _, err := restoredAt(t, catalog, c.at, false)
		if err != nil {
			t.Fatal(err)
		}
		requireState(t, "at "+c.at.String(), got, c.want)
	}

	// A compaction cut short before it removed the segments it merged:
	// the compacted segment is taken, the leftovers skipped.
	var merged segmentName
	for _, s := range ch.segs {
		if s.last > s.seq {
			merged = s
			break
		}
	}
	leftover := merged
	leftover.last = leftover.seq
	if err := os.WriteFile(filepath.Join(ch.dir, leftover.String()), []byte("left over"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _, err := restoredAt(t, catalog, t2, false); err != nil || strings.Join(got, " ") != "a=2" {
		t.Fatalf("with a leftover segment: %q, %v", got, err)
	}
}

func TestJournal_LeftoversOfInterruptedWritesAreRemovedAtStart(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("a", "1"))
	time.Sleep(100 * time.Millisecond)
	f.update(t, set("b", "2"))
	f.stop(t)
	chains, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(chains) != 1 || len(chains[0].segs) < 2 {
		t.Fatalf("chains: %+v, %v", chains, err)
	}
	ch := chains[0]
	if _, err := compactChain(t.Context(), ch, time.Now(), Keys{}, "test"); err != nil {
		t.Fatal(err)
	}
	// As if the compaction had stopped before it removed what it merged,
	// and a segment write before its rename.
	seg := filepath.Join(ch.dir, ch.segs[0].String())
	if err := os.WriteFile(seg, []byte("merged already"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(ch.dir, ".tmp-123.seg")
	if err := os.WriteFile(tmp, []byte("cut short"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	f.stop(t)
	for _, path := range []string{seg, tmp} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s is still there after a start (%v)", path, err)
		}
	}
	got, _, err := restoredAt(t, f.catalog, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"a=1", "b=2"})
}

func TestJournal_SegmentsThatCannotBeWrittenPileUpToTheBoundThenANewChainStarts(t *testing.T) {
	root := t.TempDir()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	store, err := kv.OpenStore(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	catalog := filepath.Join(root, "catalog")
	cont, err := StartContinuous(t.Context(), OpenCatalog(catalog), store, ContinuousOptions{Interval: 30 * time.Millisecond, MaxBuffer: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer cont.Stop()
	chains, err := readChains(catalog, string(kv.Config))
	if err != nil || len(chains) != 1 {
		t.Fatalf("chains: %+v, %v", chains, err)
	}
	// The chain's directory takes no new file, as on a full disk: it is
	// moved aside and a plain file takes its place.
	dir := chains[0].dir
	if err := os.Rename(dir, dir+".aside"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, release, _ := store.Acquire(kv.Config)
	big := strings.Repeat("x", 1024)
	for i := 0; i < 20; i++ {
		if err := db.Update(set(fmt.Sprintf("k%02d", i), big)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	release()
	time.Sleep(200 * time.Millisecond)
	cont.Stop()
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir+".aside", dir); err != nil {
		t.Fatal(err)
	}
	chains, err = readChains(catalog, string(kv.Config))
	if err != nil || len(chains) != 2 || !strings.Contains(chains[1].Reason, "could not be written") {
		t.Fatalf("after segments piled up: %+v, %v; want a second chain saying why", chains, err)
	}
	got, _, err := restoredAt(t, catalog, time.Time{}, true)
	if err != nil || len(got) != 20 {
		t.Fatalf("latest holds %d keys, %v; want all 20", len(got), err)
	}
}

func TestJournal_ABufferHalfFullIsShippedBeforeTheInterval(t *testing.T) {
	root := t.TempDir()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	store, err := kv.OpenStore(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	catalog := filepath.Join(root, "catalog")
	cont, err := StartContinuous(t.Context(), OpenCatalog(catalog), store, ContinuousOptions{Interval: time.Hour, MaxBuffer: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	db, release, _ := store.Acquire(kv.Config)
	big := strings.Repeat("x", 1024)
	// 200 KiB in all, three times the bound, in rounds of 40 KiB (over half
	// the bound): each round must reach the catalog long before the hour's
	// interval, and the next starts once it has, so a slow machine cannot
	// overflow the buffer and start a second chain.
	segments := func() int {
		chains, _ := readChains(catalog, string(kv.Config))
		n := 0
		for _, ch := range chains {
			n += len(ch.segs)
		}
		return n
	}
	for round := 0; round < 5; round++ {
		before := segments()
		for i := 0; i < 40; i++ {
			if err := db.Update(set(fmt.Sprintf("k%03d", round*40+i), big)); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for segments() == before {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: 40 KiB captured with a 64 KiB bound, nothing shipped in 30s (the interval is an hour)", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	release()
	cont.Stop()
	chains, err := readChains(catalog, string(kv.Config))
	if err != nil || len(chains) != 1 || len(chains[0].segs) < 3 {
		t.Fatalf("after 200 KiB with a 64 KiB bound and an hour's interval: %d chains, %v; want one chain of several segments", len(chains), err)
	}
	got, _, err := restoredAt(t, catalog, time.Time{}, true)
	if err != nil || len(got) != 200 {
		t.Fatalf("latest holds %d keys, %v; want 200", len(got), err)
	}
}

func TestJournal_ChainsNoSetCanStartAreDeletedNeverTheNewest(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("a", "1"))
	f.stop(t)
	// Offline: a write, then a full set of the database as it now is, which
	// the next chain starts from.
	db, err := kv.Open(f.dirs.Config, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(set("b", "2")); err != nil {
		t.Fatal(err)
	}
	cat := OpenCatalog(f.catalog)
	if _, err := cat.Create(t.Context(), []Source{{Name: string(kv.Config), DB: db}}, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f.start(t)
	f.stop(t)
	chains, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(chains) != 2 {
		t.Fatalf("chains: %d, %v", len(chains), err)
	}
	if ids, err := pruneChains(t.Context(), cat, localJournal{root: f.catalog}, string(kv.Config)); err != nil || len(ids) != 0 {
		t.Fatalf("pruned %v, %v while every chain has its set", ids, err)
	}
	if err := cat.Delete(t.Context(), chains[0].BaseSet); err != nil {
		t.Fatal(err)
	}
	ids, err := pruneChains(t.Context(), cat, localJournal{root: f.catalog}, string(kv.Config))
	if err != nil || len(ids) != 1 || ids[0] != chains[0].ID {
		t.Fatalf("pruned %v, %v; want the first chain, whose set is gone", ids, err)
	}
	if _, err := os.Stat(chains[0].dir); !os.IsNotExist(err) {
		t.Fatalf("the pruned chain is still there (%v)", err)
	}
	got, _, err := restoredAt(t, f.catalog, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"a=1", "b=2"})
}
