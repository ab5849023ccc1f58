package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

func TestSplitLogKey(t *testing.T) {
	g := newGenerator(1, 10)
	key, _, _ := g.next()
	name, ts, ok := splitLogKey(key)
	if !ok || ts != g.ts || !strings.HasPrefix(string(key), "log/"+name+"/") {
		t.Fatalf("splitLogKey(%q) = %q, %d, %v; want the generator's stream and ts %d", key, name, ts, ok, g.ts)
	}
	if _, _, ok := splitLogKey([]byte("stream/web")); ok {
		t.Fatal("a config key was taken for a record key")
	}
}

func TestIngestBodiesAreJSONWithoutTimestamp(t *testing.T) {
	load := newIngestLoad(1, 1000, 3)
	for _, b := range load.batches[:8] {
		var req struct {
			Records []map[string]any `json:"records"`
		}
		if err := json.Unmarshal(b.body, &req); err != nil {
			t.Fatalf("body for %s: %v", b.stream, err)
		}
		if len(req.Records) != 3 || b.n != 3 {
			t.Fatalf("%d records, want 3", len(req.Records))
		}
		for _, r := range req.Records {
			if _, ok := r["timestamp"]; ok || r["service"] != b.stream {
				t.Fatalf("record %v: want no timestamp and service %s", r, b.stream)
			}
		}
	}
}

func TestIngestRecordsProRata(t *testing.T) {
	in := &ingester{acks: [][]ack{{{sent: 0, at: 100, n: 10}, {sent: 100, at: 200, n: 10}}, {{sent: 150, at: 150, n: 4}}}}
	cases := []struct {
		from, to int64
		want     float64
	}{
		{0, 200, 24},
		{50, 150, 10},   // half of each of the first two
		{150, 151, 4.1}, // the instant one, and a hundredth of the second
		{300, 400, 0},
	}
	for _, c := range cases {
		if got := in.records(c.from, c.to); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("records(%d, %d) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if acked, sent := in.bounds(150); acked != 10 || sent != 20 {
		t.Errorf("bounds(150) = %d, %d; want 10, 20", acked, sent)
	}
}

func TestSameDatabases(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, fn func(wb *badger.WriteBatch)) string {
		p := filepath.Join(dir, name)
		db, err := kv.Open(p, kv.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wb := db.NewWriteBatch()
		fn(wb)
		if err := wb.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := func(wb *badger.WriteBatch) {
		wb.Set([]byte("a"), []byte("1"))
		wb.SetEntry(badger.NewEntry([]byte("b"), []byte("2")).WithMeta(3))
		wb.Set([]byte(kv.ReservedPrefix+"x"), []byte("ignored"))
	}
	want := write("want", base)
	same := write("same", func(wb *badger.WriteBatch) {
		wb.Set([]byte("a"), []byte("1"))
		wb.SetEntry(badger.NewEntry([]byte("b"), []byte("2")).WithMeta(3))
	})
	if n, err := sameDatabases(want, same); err != nil || n != 2 {
		t.Fatalf("identical databases: %d keys, %v", n, err)
	}
	for name, fn := range map[string]func(wb *badger.WriteBatch){
		"value": func(wb *badger.WriteBatch) {
			wb.Set([]byte("a"), []byte("9"))
			wb.SetEntry(badger.NewEntry([]byte("b"), []byte("2")).WithMeta(3))
		},
		"meta":    func(wb *badger.WriteBatch) { wb.Set([]byte("a"), []byte("1")); wb.Set([]byte("b"), []byte("2")) },
		"missing": func(wb *badger.WriteBatch) { wb.Set([]byte("a"), []byte("1")) },
		"extra":   func(wb *badger.WriteBatch) { base(wb); wb.Set([]byte("c"), []byte("3")) },
		"expiring": func(wb *badger.WriteBatch) {
			base(wb)
			wb.SetEntry(badger.NewEntry([]byte("a"), []byte("1")).WithTTL(1e15))
		},
	} {
		if _, err := sameDatabases(want, write(name, fn)); err == nil {
			t.Errorf("%s: a different database compared equal", name)
		}
	}
}
