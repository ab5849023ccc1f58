package logstore

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// openDB opens a real on-disk Badger database in dir and closes it when the
// test ends.
func openDB(t *testing.T, dir string) *badger.DB {
	t.Helper()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// clock is a fake clock for a Store: it reads t, which the test sets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// base is a fixed, recent time for fake clocks.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// appendAt appends one record {"n": n} to stream at time at.
func appendAt(t *testing.T, s *Store, c *clock, stream string, at time.Time, n int) {
	t.Helper()
	c.Set(at)
	if _, err := s.Append(stream, []map[string]any{{"n": n}}); err != nil {
		t.Fatalf("Append %s at %s: %v", stream, at, err)
	}
}

// ns returns the "n" field of each record.
func ns(t *testing.T, recs []Record) []int {
	t.Helper()
	out := make([]int, len(recs))
	for i, r := range recs {
		num, ok := r.Fields["n"].(json.Number)
		if !ok {
			t.Fatalf("record %d: field n = %#v, want a json.Number", i, r.Fields["n"])
		}
		v, err := num.Int64()
		if err != nil {
			t.Fatalf("record %d: field n = %v: %v", i, num, err)
		}
		out[i] = int(v)
	}
	return out
}
