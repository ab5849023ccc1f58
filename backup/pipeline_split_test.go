package backup

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// Records of several log streams written in time order, as ingest writes
// them, land in level-0 tables that span every stream. Cut by interpolating
// such a table's ends, one range held the tail of several streams; cut at
// the streams' boundaries first, no range holds much more than keysPerRange.
func TestSplitKeys_TableSpanningStreams(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	db := openDiskDB(t, dir)
	names := []string{"api-gateway", "auth", "billing", "checkout", "inventory", "notifications", "search", "web"}
	const streams, perStream = 8, 6000
	wb := db.NewWriteBatch()
	for i := range perStream {
		for s := range streams {
			key := []byte("log/" + names[s] + "/")
			key = binary.BigEndian.AppendUint64(key, uint64(1_750_000_000_000_000_000+int64(i)*1_000_000+int64(s)))
			key = binary.BigEndian.AppendUint64(key, uint64(i*streams+s))
			if err := wb.Set(key, []byte(`{"message":"hello"}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	closeDB(t, db) // the memtable becomes one level-0 table over every stream
	db = openDiskDB(t, dir)
	defer closeDB(t, db)
	if n := len(db.Tables()); n != 1 {
		t.Fatalf("%d tables, want the one level-0 table this test is about", n)
	}

	txn := db.NewTransaction(false)
	defer txn.Discard()
	ranges := splitKeys(db, txn)
	counts := make([]int, len(ranges))
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
	defer it.Close()
	i, total := 0, 0
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		for ranges[i].end != nil && string(k) >= string(ranges[i].end) {
			i++
		}
		if string(k) < string(ranges[i].start) {
			t.Fatalf("key %q before its range's start %q", k, ranges[i].start)
		}
		counts[i]++
		total++
	}
	if total != streams*perStream {
		t.Fatalf("%d keys, want %d", total, streams*perStream)
	}
	for j, c := range counts {
		if c > 2*keysPerRange {
			t.Errorf("range %d [%q, %q) holds %d keys, more than twice keysPerRange (%d)", j, ranges[j].start, ranges[j].end, c, keysPerRange)
		}
	}
}
