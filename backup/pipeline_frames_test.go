package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestFramePool_HoldsWorkersAheadOfTheWriterBack: with the limit out, a
// worker of a later range waits until frames come back below it, the
// worker of the range being written never waits, and a cancelled dump
// releases the one waiting.
func TestFramePool_HoldsWorkersAheadOfTheWriterBack(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pool := newFramePool(ctx, 2)
	defer pool.close()
	pool.drain(0)

	ahead := []*frame{}
	for range 2 {
		f, err := pool.get(3, smallFrameSize)
		if err != nil {
			t.Fatal(err)
		}
		ahead = append(ahead, f)
	}
	current, err := pool.get(0, smallFrameSize)
	if err != nil {
		t.Fatalf("the range being written was held back: %v", err)
	}

	got := make(chan error, 1)
	go func() {
		_, err := pool.get(4, smallFrameSize)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a third frame ahead of the writer was handed out (err %v), want the worker held back", err)
	case <-time.After(50 * time.Millisecond):
	}
	pool.put(current) // three out: still one too many
	select {
	case err := <-got:
		t.Fatalf("a frame was handed out over the limit (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	pool.put(ahead[0])
	if err := <-got; err != nil {
		t.Fatalf("after a frame came back: %v", err)
	}

	go func() {
		_, err := pool.get(5, smallFrameSize)
		got <- err
	}()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("held-back worker after cancel: err = %v, want context.Canceled", err)
	}
}

// brokenSink accepts limit bytes, then fails as a client that went away.
type brokenSink struct{ limit, n int }

func (s *brokenSink) Write(b []byte) (int, error) {
	if s.n+len(b) > s.limit {
		return 0, errors.New("client went away")
	}
	s.n += len(b)
	return len(b), nil
}

// TestPipeline_AFailedDumpLeavesNoGoroutine: a dump whose writer fails
// part way, with ranges no worker has taken yet, returns the writer's error
// and leaves nothing running behind it (a server does that once per client
// that goes away).
func TestPipeline_AFailedDumpLeavesNoGoroutine(t *testing.T) {
	db := openDiskDB(t, t.TempDir())
	defer closeDB(t, db)
	rng := rand.New(rand.NewPCG(1, 2))
	wb := db.NewWriteBatch()
	for i := range 5000 {
		value := make([]byte, 2000) // incompressible, so the writer fails early
		for j := range value {
			value[j] = byte(rng.Uint32())
		}
		if err := wb.Set(fmt.Appendf(nil, "k%05d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	var ranges []keyRange
	for i := 0; i < 5000; i += 100 {
		r := keyRange{start: fmt.Appendf(nil, "k%05d", i)}
		if i+100 < 5000 {
			r.end = fmt.Appendf(nil, "k%05d", i+100)
		}
		ranges = append(ranges, r)
	}
	ranges[0].start = nil

	for range 3 {
		w, err := NewWriter(&brokenSink{limit: 600 << 10}, Header{FormatVersion: FormatVersion, Database: "logs"})
		if err != nil {
			t.Fatal(err)
		}
		err = db.View(func(txn *badger.Txn) error {
			p := pipeline{txn: txn, out: w, ranges: ranges, workers: 2}
			return p.run(t.Context())
		})
		if err == nil || !strings.Contains(err.Error(), "client went away") {
			t.Fatalf("dump into a failing writer: err = %v, want the writer's error", err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		stacks := make([]byte, 1<<20)
		stacks = stacks[:runtime.Stack(stacks, true)]
		left := strings.Count(string(stacks), "backup.(*pipeline).run")
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of failed dumps still running:\n%s", left, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPipeline_RangeChannelsFollowTheWriter: a range's channel exists only
// between the workers and the writer, so a dump of many ranges (a billion
// records make 250,000) holds a few, not one per range.
func TestPipeline_RangeChannelsFollowTheWriter(t *testing.T) {
	db := openDiskDB(t, t.TempDir())
	defer closeDB(t, db)
	wb := db.NewWriteBatch()
	const keys, perRange = 3000, 5
	for i := range keys {
		if err := wb.Set(fmt.Appendf(nil, "k%05d", i), []byte("value")); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	var ranges []keyRange
	for i := 0; i < keys; i += perRange {
		r := keyRange{start: fmt.Appendf(nil, "k%05d", i)}
		if i+perRange < keys {
			r.end = fmt.Appendf(nil, "k%05d", i+perRange)
		}
		ranges = append(ranges, r)
	}
	ranges[0].start = nil
	w, err := NewWriter(io.Discard, Header{FormatVersion: FormatVersion, Database: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	const underWay, workers = 4, 2
	p := pipeline{out: w, ranges: ranges, workers: workers, underWay: underWay}
	err = db.View(func(txn *badger.Txn) error {
		p.txn = txn
		return p.run(t.Context())
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.summary.Keys != keys {
		t.Fatalf("dumped %d keys, want %d", w.summary.Keys, keys)
	}
	// Each range ahead of the writer holds a frame of the pool; the writer's
	// own range and each worker's may hold one more.
	if limit := underWay + workers + 2; p.peakChans > limit {
		t.Fatalf("%d range channels held at once over %d ranges, want at most %d", p.peakChans, len(ranges), limit)
	}
	// Every frame taken goes back: one kept per range made the pool hold
	// back every worker but the writer's once underWay ranges were dumped.
	if p.framesOut != 0 {
		t.Fatalf("%d frames never given back to the pool over %d ranges", p.framesOut, len(ranges))
	}
}
