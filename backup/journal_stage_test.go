package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStager_LoadQueuesStagedSegmentsInOrder stages segments of two chains
// out of order, with the temporary file of a write cut short: load queues
// them chain by chain and by sequence number, counts their bytes, and
// removes the temporary file.
func TestStager_LoadQueuesStagedSegmentsInOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	s, err := newStager(dir, "logs", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	older, newer := NewSetID(t0), NewSetID(t0.Add(time.Hour))
	seg := func(seq uint64) segmentName {
		from := t0.Add(time.Duration(seq) * time.Second)
		return segmentName{seq: seq, last: seq, since: seq, upTo: seq + 1, from: from, to: from.Add(time.Second)}
	}
	write := func(chain, name string, size int) {
		if err := os.MkdirAll(filepath.Join(dir, chain), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, chain, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(newer, seg(1).String(), 10)
	write(older, seg(3).String(), 30)
	write(older, seg(2).String(), 20)
	write(older, ".tmp-123"+segmentExt, 99)
	if err := s.load(); err != nil {
		t.Fatal(err)
	}
	bytes, n, oldest := s.pending()
	if bytes != 60 || n != 3 || !oldest.Equal(seg(2).from) {
		t.Fatalf("pending: %d bytes, %d segments, oldest %s; want 60, 3, %s", bytes, n, oldest, seg(2).from)
	}
	want := []struct {
		chain string
		seq   uint64
	}{{older, 2}, {older, 3}, {newer, 1}}
	for i, w := range want {
		if got := s.queue[i]; got.chain != w.chain || got.name.seq != w.seq {
			t.Fatalf("queue[%d] is segment %d of %s, want %d of %s", i, got.name.seq, got.chain, w.seq, w.chain)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, older, ".tmp-123"+segmentExt)); !os.IsNotExist(err) {
		t.Fatalf("the temporary file of a cut write is still staged: %v", err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("staging directory: %v, want mode 0700", err)
	}
}
