package backup

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4/pb"
)

func TestPacer_DrainsEarlyByTheWriteTime(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		interval time.Duration
		took     []time.Duration // successive segments
		want     time.Duration   // the period after the last
	}{
		{time.Second, []time.Duration{0}, time.Second},                                            // idle: the interval
		{time.Second, []time.Duration{100 * ms}, 800 * ms},                                        // next drain 0.9 s after this one, shipped ~1 s after it
		{time.Second, []time.Duration{400 * ms}, 200 * ms},                                        // slow writes: drained sooner
		{time.Second, []time.Duration{800 * ms}, 100 * ms},                                        // never below a tenth
		{time.Second, []time.Duration{200 * ms, 0}, 700 * ms},                                     // a long write is remembered: 150 ms
		{time.Second, []time.Duration{200 * ms, 0, 0, 0}, time.Second - 2*84375*time.Microsecond}, // and forgotten by a quarter a segment
		{time.Second, []time.Duration{100 * ms, 300 * ms}, 400 * ms},                              // a longer one is followed at once
		{10 * ms, []time.Duration{time.Second}, ms},                                               // the smallest interval
		{time.Minute, []time.Duration{250 * ms}, time.Minute - time.Second/2},                     // a long interval barely moves
	} {
		p := &pacer{}
		var got time.Duration
		for _, took := range c.took {
			got = p.next(c.interval, took)
		}
		if got != c.want {
			t.Errorf("interval %s, segments taking %v: period %s, want %s", c.interval, c.took, got, c.want)
		}
	}
}

// TestSortOps_SameOrderAsOneStableSort checks the per-commit sort against
// the one stable sort it replaces, on commits in version order with their
// keys in any order (as Badger hands them over), a key twice in one commit,
// and versions out of order (the fallback).
func TestSortOps_SameOrderAsOneStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	reference := func(ops []op) []op {
		out := slices.Clone(ops)
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].version != out[j].version {
				return out[i].version < out[j].version
			}
			return string(out[i].key) < string(out[j].key)
		})
		return out
	}
	for trial := range 200 {
		var ops []op
		for v := uint64(1); v <= uint64(1+rng.IntN(30)); v++ {
			for range rng.IntN(40) {
				key := fmt.Appendf(nil, "k%03d", rng.IntN(50))
				ops = append(ops, op{key: key, value: fmt.Appendf(nil, "%d", len(ops)), version: v})
			}
		}
		if trial%4 == 3 && len(ops) > 1 {
			i, j := rng.IntN(len(ops)), rng.IntN(len(ops))
			ops[i], ops[j] = ops[j], ops[i] // versions out of order
		}
		want := reference(ops)
		sortOps(ops)
		for i := range ops {
			if ops[i].version != want[i].version || string(ops[i].key) != string(want[i].key) || string(ops[i].value) != string(want[i].value) {
				t.Fatalf("trial %d, record %d: got version %d key %s value %s, want %d %s %s", trial, i,
					ops[i].version, ops[i].key, ops[i].value, want[i].version, want[i].key, want[i].value)
			}
		}
	}
}

func TestInFlight_DrainedChangesCountInTheLagUntilWritten(t *testing.T) {
	j := &dbJournal{name: "logs", cap: newCapture(1<<20, time.Now)}
	if st := j.status(); !st.OldestUnshipped.IsZero() {
		t.Fatalf("an empty journal has an unshipped change: %+v", st)
	}
	oldest := time.Unix(1000, 0)
	j.inFlight([]mark{{version: 3, time: oldest}, {version: 4, time: oldest.Add(time.Second)}})
	if st := j.status(); !st.OldestUnshipped.Equal(oldest) {
		t.Fatalf("while its segment is written, the oldest change is %v, want %v", st.OldestUnshipped, oldest)
	}
	j.inFlight([]mark{{version: 5, time: oldest.Add(time.Hour)}}) // an older one is still carried
	if st := j.status(); !st.OldestUnshipped.Equal(oldest) {
		t.Fatalf("a later batch replaced the oldest carried change: %v", st.OldestUnshipped)
	}
}

func TestCapture_ABigIntervalIsWrittenAtOnce(t *testing.T) {
	c := newCapture(64<<20, time.Now) // half the bound: 32 MiB
	value := make([]byte, 64<<10)
	list := func(n int, from uint64) *pb.KVList {
		l := &pb.KVList{}
		for i := range n {
			l.Kv = append(l.Kv, &pb.KV{Key: fmt.Appendf(nil, "k%d", from+uint64(i)), Value: value, Version: from + uint64(i)})
		}
		return l
	}
	if err := c.take(list(60, 1)); err != nil { // 3.8 MiB: not yet
		t.Fatal(err)
	}
	select {
	case <-c.half:
		t.Fatal("a segment was asked for below segmentTargetBytes")
	default:
	}
	if err := c.take(list(8, 100)); err != nil { // past 4 MiB
		t.Fatal(err)
	}
	select {
	case <-c.half:
	default:
		t.Fatalf("%d bytes captured and no segment asked for: they wait for the interval", c.bytes)
	}
}

func TestAside_OnePassAtATimeAndNeverWaitedFor(t *testing.T) {
	var a aside
	release, started := make(chan struct{}), make(chan struct{}, 2)
	runs := 0
	pass := func() {
		runs++
		started <- struct{}{}
		<-release
	}
	done := make(chan struct{})
	go func() {
		a.start(pass) // returns at once, the pass running
		<-started
		a.start(pass) // skipped: one is running
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("start waited for the pass")
	}
	close(release)
	a.wait()
	if runs != 1 {
		t.Fatalf("%d passes ran, want 1", runs)
	}
	a.start(func() { runs++ })
	a.wait()
	if runs != 2 {
		t.Fatalf("a pass after the first one ended did not run (%d)", runs)
	}
}
