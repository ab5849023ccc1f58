package backup

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
)

// TestMerge_BackupsOfAServedDatabaseMissNothing takes a backup halfway
// through a merge of a served database, then an incremental on it: every
// restored record must be in one of the two, and a transaction opened
// halfway must keep its snapshot. (Loading at one reserved timestamp, as an
// exclusive merge does, fails both: the timestamp counts as committed
// before the records land.)
func TestMerge_BackupsOfAServedDatabaseMissNothing(t *testing.T) {
	db := openDiskDB(t, filepath.Join(t.TempDir(), "db"))
	defer closeDB(t, db)
	const n = 40000
	recs := make([]fileRecord, n)
	for i := range recs {
		recs[i] = fileRecord{key: fmt.Sprintf("key-%06d", i), value: string(bytes.Repeat([]byte{byte('a' + i%26)}, 1000)), version: 1}
	}
	path := filepath.Join(t.TempDir(), "config.db")
	writeFile(t, path, "config", recs)

	var parent bytes.Buffer
	var parentHeader Header
	var halfway *badger.Txn
	last := []byte(recs[n-1].key)
	opts := RestoreOptions{Database: "config", Progress: func(keys, _ uint64) {
		if keys < n/2 || halfway != nil {
			return
		}
		var err error
		if parentHeader, _, err = Dump(t.Context(), db, &parent, DumpOptions{Database: "config"}); err != nil {
			t.Error(err)
		}
		halfway = db.NewTransaction(false)
		if _, err := halfway.Get(last); !errors.Is(err, badger.ErrKeyNotFound) {
			t.Errorf("halfway through, the last key: err = %v, want not found yet", err)
		}
	}}
	if _, err := MergeFile(t.Context(), db, path, opts); err != nil {
		t.Fatal(err)
	}
	if halfway == nil {
		t.Fatal("the merge never reported progress halfway")
	}
	defer halfway.Discard()
	if _, err := halfway.Get(last); !errors.Is(err, badger.ErrKeyNotFound) {
		t.Errorf("a transaction opened halfway sees the last key after the merge (err = %v): its snapshot moved", err)
	}

	var child bytes.Buffer
	if _, _, err := Dump(t.Context(), db, &child, DumpOptions{Database: "config", SinceTs: parentHeader.ReadTs}); err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, file := range [][]byte{parent.Bytes(), child.Bytes()} {
		r, err := NewReader(bytes.NewReader(file), ReadOptions{Inventory: func([]*pb.KV) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		for {
			kvs, err := r.Next()
			if err != nil {
				break
			}
			for _, kv := range kvs {
				held[string(kv.Key)] = true
			}
		}
	}
	missing := 0
	for _, rec := range recs {
		if !held[rec.key] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d restored records are in neither the backup taken halfway nor the incremental after it", missing, n)
	}
}

// TestHeldKeys_AnswersAsAPointReadWould asks, in key order, about keys held,
// missing, deleted and expired, across short and long gaps, and compares
// every answer with a point read.
func TestHeldKeys_AnswersAsAPointReadWould(t *testing.T) {
	db := openDiskDB(t, filepath.Join(t.TempDir(), "db"))
	defer closeDB(t, db)
	content := dbContent{}
	for i := 0; i < 2000; i += 3 {
		content[fmt.Sprintf("k%05d", i)] = storedRecord{Value: "v"}
	}
	content["k00010-expired"] = storedRecord{Value: "v", ExpiresAt: 1}
	put(t, db, content)
	del(t, db, "k00021", "k01500")

	txn := db.NewTransaction(false)
	defer txn.Discard()
	held := newHeldKeys(txn)
	defer held.close()
	asked := []string{"a-before-all", "k00000", "k00001", "k00010-expired", "k00021", "k00024"}
	for i := 30; i < 2000; i += 7 { // steps of 2 to 3 held keys, then one long jump
		asked = append(asked, fmt.Sprintf("k%05d", i))
		if i == 331 {
			i = 1490
		}
	}
	asked = append(asked, "k01500", "z-after-all")
	slices.Sort(asked)
	for _, key := range slices.Compact(asked) {
		_, err := txn.Get([]byte(key))
		want := err == nil
		if got := held.holds([]byte(key)); got != want {
			t.Fatalf("holds(%q) = %v, a point read says %v", key, got, want)
		}
	}
}
