package dbtest

import (
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// TestOfDir_ReadsEveryLiveRecord: a real database on disk is read back
// with each key's value, user meta and expiry; a deleted key is not there.
func TestOfDir_ReadsEveryLiveRecord(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, e := range []*badger.Entry{
			badger.NewEntry([]byte("a"), []byte("1")).WithMeta(7),
			badger.NewEntry([]byte("b"), []byte("2")),
			badger.NewEntry([]byte("gone"), []byte("3")),
		} {
			if err := txn.SetEntry(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte("gone")) })
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	got := OfDir(t, dir).WithoutVersions()
	want := Content{"a": {Value: "1", UserMeta: 7}, "b": {Value: "2"}}
	if d := Diff(want, got); d != "" {
		t.Fatalf("content differs: %s", d)
	}
	if v := OfDir(t, dir).Values(); v["a"] != "1" || len(v) != 2 {
		t.Errorf("values %v, want a=1 and b=2", v)
	}
}

// TestDiff_NamesEachDifference: a missing, an extra and a changed key are
// each named; equal contents give "".
func TestDiff_NamesEachDifference(t *testing.T) {
	want := map[string]string{"same": "x", "missing": "m", "changed": "old"}
	got := map[string]string{"same": "x", "extra": "e", "changed": "new"}
	d := Diff(want, got)
	for _, line := range []string{`missing "missing": want m`, `extra   "extra": got e`, `changed "changed":`, "want old", "got  new", "3 keys wanted, 3 found"} {
		if !strings.Contains(d, line) {
			t.Errorf("diff lacks %q:\n%s", line, d)
		}
	}
	if d := Diff(want, want); d != "" {
		t.Errorf("equal contents differ: %s", d)
	}
}
