package logstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// jsonOf encodes v for comparisons that ignore how numbers are typed.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

func TestAppend_RoundTrip(t *testing.T) {
	c := newClock(base)
	s := New(openDB(t, t.TempDir()), c.Now)
	tests := []struct {
		name   string
		fields map[string]any
		want   string // JSON of the fields read back
	}{
		{name: "text", fields: map[string]any{"message": "hello", "level": "info"}, want: `{"level":"info","message":"hello"}`},
		{name: "nested", fields: map[string]any{"http": map[string]any{"status": 200, "path": "/"}}, want: `{"http":{"path":"/","status":200}}`},
		{name: "large integer keeps its digits", fields: map[string]any{"id": int64(9007199254740993)}, want: `{"id":9007199254740993}`},
		{name: "bool and null", fields: map[string]any{"ok": true, "err": nil}, want: `{"err":null,"ok":true}`},
		{name: "empty record", fields: map[string]any{}, want: `{}`},
		{name: "nil record", fields: nil, want: `{}`},
		{name: "client timestamp replaced", fields: map[string]any{"timestamp": "yesterday", "m": 1}, want: `{"m":1}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := fmt.Sprintf("s%d", i)
			at := base.Add(time.Duration(i) * time.Second)
			c.Set(at)
			got, err := s.Append(stream, []map[string]any{tt.fields})
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if len(got) != 1 || !got[0].Timestamp.Equal(at) || jsonOf(t, got[0].Fields) != tt.want || !got[0].ExpiresAt.IsZero() {
				t.Fatalf("Append returned %+v, want one record at %s with fields %s and no expiry", got, at, tt.want)
			}
			read, err := s.Query(stream, time.Time{}, time.Time{}, 0)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if len(read) != 1 || !read[0].Timestamp.Equal(at) || jsonOf(t, read[0].Fields) != tt.want {
				t.Fatalf("Query = %+v, want one record at %s with fields %s", read, at, tt.want)
			}
			if read[0].Timestamp.Location() != time.UTC {
				t.Errorf("Timestamp location = %s, want UTC", read[0].Timestamp.Location())
			}
		})
	}
}

func TestAppend_StoresJSONWithTimestamp(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 600700800, time.FixedZone("CET", 3600))
	db := openDB(t, t.TempDir())
	s := New(db, newClock(at).Now)
	if _, err := s.Append("app", []map[string]any{{"msg": "x"}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	var raw string
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		p := []byte("log/app/")
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			if len(it.Item().Key()) != len(p)+16 {
				return fmt.Errorf("key %q: want prefix + 16 bytes", it.Item().Key())
			}
			v, err := it.Item().ValueCopy(nil)
			raw = string(v)
			return err
		}
		return errors.New("no record key under log/app/")
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"msg":"x","timestamp":"2025-01-02T02:04:05.6007008Z"}`
	if raw != want {
		t.Errorf("stored value = %s, want %s", raw, want)
	}
}

func TestAppend_EmptyWritesNothing(t *testing.T) {
	db := openDB(t, t.TempDir())
	got, err := New(db, nil).Append("app", nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Append(nil) = %#v, %v; want [], nil", got, err)
	}
	if !kv.IsEmpty(db) {
		t.Errorf("database holds keys after an empty Append")
	}
}

func TestAppend_RejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		records []map[string]any
		now     time.Time
		wantErr error
	}{
		{name: "empty stream", stream: "", wantErr: ErrInvalidName},
		{name: "slash in stream", stream: "a/b", wantErr: ErrInvalidName},
		{name: "dot dot stream", stream: "..", wantErr: ErrInvalidName},
		{name: "stream too long", stream: strings.Repeat("s", MaxNameLen+1), wantErr: ErrInvalidName},
		{name: "channel field", stream: "ok", records: []map[string]any{{"a": 1}, {"c": make(chan int)}}, wantErr: ErrInvalidRecord},
		{name: "NaN field", stream: "ok", records: []map[string]any{{"a": 1}, {"f": math.NaN()}}, wantErr: ErrInvalidRecord},
		{name: "record too large", stream: "ok", records: []map[string]any{{"a": 1}, {"big": strings.Repeat("x", MaxRecordSize)}}, wantErr: ErrTooLarge},
		{name: "clock before 1970", stream: "ok", records: []map[string]any{{"a": 1}}, now: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), wantErr: ErrClock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, t.TempDir())
			now := tt.now
			if now.IsZero() {
				now = base
			}
			recs := tt.records
			if recs == nil {
				recs = []map[string]any{{"a": 1}}
			}
			got, err := New(db, newClock(now).Now).Append(tt.stream, recs)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Append: err = %v, want %v", err, tt.wantErr)
			}
			if len(got) != 0 {
				t.Errorf("Append returned %d records with the error, want 0", len(got))
			}
			if !kv.IsEmpty(db) {
				t.Errorf("database holds keys after a rejected Append")
			}
		})
	}
}

func TestAppend_SplitsCallsTooBigForOneTransaction(t *testing.T) {
	// A 1 MiB memtable caps a transaction near 150 KiB; 3000 records of
	// ~300 bytes need several.
	db, err := badger.Open(kv.Options(t.TempDir()).WithMemTableSize(1 << 20).WithValueThreshold(1 << 10))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := New(db, newClock(base).Now)
	const n = 3000
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"n": i, "pad": strings.Repeat("p", 280)}
	}
	got, err := s.Append("big", recs)
	if err != nil || len(got) != n {
		t.Fatalf("Append = %d records, %v; want %d, nil", len(got), err, n)
	}
	read, err := s.Query("big", time.Time{}, time.Time{}, MaxLimit)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(read) != n {
		t.Fatalf("Query = %d records, want %d", len(read), n)
	}
	for i, v := range ns(t, read) {
		if v != i {
			t.Fatalf("record %d has n = %d, want %d (append order lost)", i, v, i)
		}
	}
}

func TestAppend_ConcurrentLosesNothing(t *testing.T) {
	// Every goroutine appends at the same instant, so only the sequence
	// number keeps the keys apart.
	s := New(openDB(t, t.TempDir()), newClock(base).Now)
	const goroutines, calls, perCall = 8, 50, 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range calls {
				recs := make([]map[string]any, perCall)
				for r := range recs {
					recs[r] = map[string]any{"id": fmt.Sprintf("%d/%d/%d", g, c, r)}
				}
				if _, err := s.Append("busy", recs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	read, err := s.Query("busy", time.Time{}, time.Time{}, MaxLimit)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	const want = goroutines * calls * perCall
	seen := map[string]bool{}
	for _, r := range read {
		id, _ := r.Fields["id"].(string)
		if seen[id] {
			t.Fatalf("record %q read twice", id)
		}
		seen[id] = true
	}
	if len(read) != want || len(seen) != want {
		t.Fatalf("Query = %d records (%d distinct), want %d", len(read), len(seen), want)
	}
}

func TestStore_SurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	s := New(db, newClock(base).Now)
	if err := s.SetTTL("kept", 24*time.Hour*365*100); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	if _, err := s.Append("kept", []map[string]any{{"n": 7}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s = New(openDB(t, dir), nil)
	read, err := s.Query("kept", time.Time{}, time.Time{}, 0)
	if err != nil || len(read) != 1 || !read[0].Timestamp.Equal(base) || read[0].ExpiresAt.IsZero() {
		t.Fatalf("Query after reopen = %+v, %v; want one record at %s with an expiry", read, err, base)
	}
	cfg, err := s.StreamConfig("kept")
	if err != nil || cfg.TTL != 24*time.Hour*365*100 {
		t.Fatalf("StreamConfig after reopen = %+v, %v; want TTL 876000h", cfg, err)
	}
}
