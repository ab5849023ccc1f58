package backup

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

func TestShipPeriod_DrainsEarlyByTheWriteTime(t *testing.T) {
	for _, c := range []struct{ interval, took, want time.Duration }{
		{time.Second, 0, time.Second},                                      // idle: the interval
		{time.Second, 100 * time.Millisecond, 800 * time.Millisecond},      // next drain 0.9 s after this one, shipped ~1 s after it
		{time.Second, 400 * time.Millisecond, 200 * time.Millisecond},      // slow writes: drained sooner
		{time.Second, 800 * time.Millisecond, 100 * time.Millisecond},      // never below a tenth
		{10 * time.Millisecond, time.Second, time.Millisecond},             // the smallest interval
		{time.Minute, 250 * time.Millisecond, time.Minute - time.Second/2}, // a long interval barely moves
	} {
		if got := shipPeriod(c.interval, c.took); got != c.want {
			t.Errorf("shipPeriod(%s, %s) = %s, want %s", c.interval, c.took, got, c.want)
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
