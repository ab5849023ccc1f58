package backup

import (
	"context"
	"errors"
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

// journalFixture is a store of three real databases on disk and a catalog.
type journalFixture struct {
	dirs    kv.Dirs
	catalog string
	store   *kv.Store
	cont    *Continuous
	keys    Keys
}

func newJournalFixture(t *testing.T) *journalFixture {
	t.Helper()
	root := t.TempDir()
	f := &journalFixture{
		dirs:    kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")},
		catalog: filepath.Join(root, "catalog"),
	}
	f.start(t)
	t.Cleanup(func() { f.stop(t) })
	return f
}

func (f *journalFixture) start(t *testing.T) {
	t.Helper()
	store, err := kv.OpenStore(f.dirs)
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	cont, err := StartContinuous(t.Context(), OpenCatalog(f.catalog).WithKeys(f.keys), store, ContinuousOptions{Interval: 40 * time.Millisecond})
	if err != nil {
		store.Close()
		f.store = nil
		t.Fatal(err)
	}
	f.cont = cont
}

func (f *journalFixture) stop(t *testing.T) {
	t.Helper()
	if f.store == nil {
		return
	}
	f.cont.Stop()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	f.store = nil
}

func (f *journalFixture) update(t *testing.T, fn func(txn *badger.Txn) error) {
	t.Helper()
	db, release, err := f.store.Acquire(kv.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func set(key, value string) func(*badger.Txn) error {
	return func(txn *badger.Txn) error { return txn.Set([]byte(key), []byte(value)) }
}

func delKey(key string) func(*badger.Txn) error {
	return func(txn *badger.Txn) error { return txn.Delete([]byte(key)) }
}

// between returns an instant after what was written so far and before
// what is written next: the capture stamps a commit within milliseconds.
func between() time.Time {
	time.Sleep(150 * time.Millisecond)
	at := time.Now()
	time.Sleep(150 * time.Millisecond)
	return at
}

// restoredAt rebuilds the config database at an instant and returns its
// keys and values, "key=value" sorted.
func restoredAt(t *testing.T, catalog string, at time.Time, latest bool) ([]string, PointInTime, error) {
	t.Helper()
	return restoredWith(t, OpenCatalog(catalog), at, latest)
}

func restoredWith(t *testing.T, cat *Catalog, at time.Time, latest bool) ([]string, PointInTime, error) {
	t.Helper()
	open, cleanup, p, err := cat.RestorableAt(t.Context(), string(kv.Config), at, latest, t.TempDir())
	if err != nil {
		return nil, p, err
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
			out = append(out, string(kv.Key)+"="+string(kv.Value))
		}
	}
	sort.Strings(out)
	return out, p, nil
}

func requireState(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestJournal_DeletesAreExactAndEmptyValuesKept(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("kept", "a"))
	f.update(t, set("empty-kept", ""))
	f.update(t, set("empty-deleted", ""))
	f.update(t, set("deleted", "soon gone"))
	t1 := between()
	f.update(t, delKey("deleted"))
	f.update(t, delKey("empty-deleted"))
	f.update(t, set("kept", "b"))
	f.update(t, set("empty-later", ""))
	t2 := between()
	f.update(t, set("kept", "c"))
	f.stop(t)

	got, p, err := restoredAt(t, f.catalog, t1, false)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "at t1", got, []string{"kept=a", "empty-kept=", "empty-deleted=", "deleted=soon gone"})
	if !p.Instant.Equal(t1.UTC()) || p.Segments == 0 {
		t.Fatalf("restore at t1 says %+v", p)
	}
	got, _, err = restoredAt(t, f.catalog, t2, false)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "at t2", got, []string{"kept=b", "empty-kept=", "empty-later="})
	got, p, err = restoredAt(t, f.catalog, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"kept=c", "empty-kept=", "empty-later="})
	if !p.Instant.After(t2) {
		t.Fatalf("latest restores %s, before the last write", p.Instant)
	}
}

func TestJournal_ContinuesAcrossRestartsAndStartsANewChainAfterOfflineWrites(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("one", "1"))
	f.stop(t)
	f.start(t)
	f.update(t, set("two", "2"))
	f.stop(t)
	chains, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(chains) != 1 || chains[0].problem != "" {
		t.Fatalf("after a clean restart: %d chains, %v; want the first continued", len(chains), err)
	}

	// A write while the server is stopped: the subscription never sees it.
	db, err := kv.Open(f.dirs.Config, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(set("offline", "x")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f.start(t)
	f.update(t, set("three", "3"))
	f.stop(t)
	chains, err = readChains(f.catalog, string(kv.Config))
	if err != nil || len(chains) != 2 || !strings.Contains(chains[1].Reason, "changed while the server was stopped") {
		t.Fatalf("after an offline write: %+v, %v; want a second chain saying why", chains, err)
	}
	got, _, err := restoredAt(t, f.catalog, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"one=1", "two=2", "offline=x", "three=3"})
}

// segments returns the paths of the config journal's segments, in order.
func segments(t *testing.T, catalog string) []string {
	t.Helper()
	chains, err := readChains(catalog, string(kv.Config))
	if err != nil || len(chains) == 0 {
		t.Fatalf("no chain: %v", err)
	}
	ch := chains[len(chains)-1]
	var out []string
	for _, s := range ch.segs {
		out = append(out, filepath.Join(ch.dir, s.String()))
	}
	return out
}

func TestJournal_DamagedOrMissingSegmentIsRefusedNamingTheNewestInstant(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("a", "1"))
	t1 := between()
	f.update(t, set("b", "2"))
	between()
	f.update(t, set("c", "3"))
	f.stop(t)
	segs := segments(t, f.catalog)
	if len(segs) < 3 {
		t.Fatalf("want at least 3 segments, got %d", len(segs))
	}
	var withB string
	for _, s := range segs {
		if st, _ := os.Stat(s); st.Size() > 200 {
			b, _ := os.ReadFile(s)
			if t1.Before(segNameOf(t, s).to) && withB == "" && len(b) > 0 {
				withB = s
			}
		}
	}
	if withB == "" {
		t.Fatal("no segment after t1 holds a change")
	}
	// Truncated: the restore past it is refused, a restore before it works.
	st, _ := os.Stat(withB)
	if err := os.Truncate(withB, st.Size()-10); err != nil {
		t.Fatal(err)
	}
	_, _, err := restoredAt(t, f.catalog, time.Time{}, true)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "newest instant the config database can be restored to is "+segNameOf(t, withB).from.Format(time.RFC3339Nano)) {
		t.Fatalf("restore past a truncated segment: %v", err)
	}
	if got, _, err := restoredAt(t, f.catalog, segNameOf(t, withB).from, false); err != nil || strings.Join(got, " ") != "a=1" {
		t.Fatalf("restore before the truncated segment: %q, %v", got, err)
	}
	windows, err := OpenCatalog(f.catalog).JournalWindows(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range windows {
		if w.Database == string(kv.Config) && (!strings.Contains(w.Problem, "truncated") || !w.To.Equal(segNameOf(t, withB).from) || w.Verified) {
			t.Fatalf("the verified window of config after a truncated segment: %+v", w)
		}
	}
	// Missing: the chain stops before the gap, and names it.
	if err := os.Remove(withB); err != nil {
		t.Fatal(err)
	}
	_, _, err = restoredAt(t, f.catalog, time.Now(), false)
	if !errors.Is(err, ErrNotCovered) || !strings.Contains(err.Error(), "a gap after segment") {
		t.Fatalf("restore past a missing segment: %v", err)
	}
}

func segNameOf(t *testing.T, path string) segmentName {
	t.Helper()
	s, ok := parseSegmentName(filepath.Base(path))
	if !ok {
		t.Fatalf("%s is no segment name", path)
	}
	return s
}

func TestJournal_InstantOutsideTheWindowIsRefusedNamingIt(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("a", "1"))
	f.stop(t)
	for _, at := range []time.Time{time.Now().Add(-time.Hour), time.Now().Add(time.Hour)} {
		_, _, err := restoredAt(t, f.catalog, at, false)
		if !errors.Is(err, ErrNotCovered) || !strings.Contains(err.Error(), "outside what the journal of the config database can restore") {
			t.Fatalf("restore at %s: %v", at, err)
		}
	}
}

func TestJournal_CaptureOverflowStartsANewChainWithoutBlockingWrites(t *testing.T) {
	root := t.TempDir()
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}
	store, err := kv.OpenStore(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	catalog := filepath.Join(root, "catalog")
	cont, err := StartContinuous(context.Background(), OpenCatalog(catalog), store, ContinuousOptions{Interval: 300 * time.Millisecond, MaxBuffer: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	db, release, _ := store.Acquire(kv.Config)
	big := strings.Repeat("x", 1024)
	for i := 0; i < 20; i++ {
		if err := db.Update(set("k"+string(rune('a'+i)), big)); err != nil {
			t.Fatal(err)
		}
	}
	release()
	time.Sleep(700 * time.Millisecond)
	cont.Stop()
	chains, err := readChains(catalog, string(kv.Config))
	if err != nil || len(chains) != 2 || !strings.Contains(chains[1].Reason, "capture buffer passed its 4096-byte bound") {
		t.Fatalf("after an overflow: %+v, %v; want a second chain saying why", chains, err)
	}
	got, _, err := restoredAt(t, catalog, time.Time{}, true)
	if err != nil || len(got) != 20 {
		t.Fatalf("latest after the overflow holds %d keys, %v; want all 20", len(got), err)
	}
}

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
