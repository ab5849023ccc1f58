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
	// One commit of 20 KiB: past the bound before the shipper can drain it.
	err = db.Update(func(txn *badger.Txn) error {
		for i := 0; i < 20; i++ {
			if err := txn.Set([]byte("k"+string(rune('a'+i))), []byte(big)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
