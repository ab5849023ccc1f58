package backup

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestWaitShipped waits for the segments of one chain up to a sequence
// number to leave the staging queue: at once when none waits, as soon as
// the uploader ships them, at once with a clear error while the store
// fails, and no longer than the bound.
func TestWaitShipped(t *testing.T) {
	seg := func(chain string, seq uint64) stagedSeg {
		return stagedSeg{chain: chain, name: segmentName{seq: seq, last: seq}}
	}
	ctx := context.Background()
	bound := func() <-chan time.Time { return time.After(5 * time.Second) }

	s := &stager{dir: "/staging/config", queue: []stagedSeg{seg("old", 7), seg("cur", 4)}}
	if err := s.waitShipped(ctx, "cur", 3, bound()); err != nil {
		t.Fatalf("segments 1-3 of the chain are shipped, yet: %v", err)
	}

	go func() {
		time.Sleep(50 * time.Millisecond)
		s.mu.Lock()
		s.queue = s.queue[:1] // the chain's segment 4 shipped
		s.mu.Unlock()
	}()
	start := time.Now()
	if err := s.waitShipped(ctx, "cur", 4, bound()); err != nil {
		t.Fatalf("segment 4 shipped after 50ms, yet: %v", err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("returned after %s, before segment 4 was shipped", waited)
	}

	s.queue = append(s.queue, seg("cur", 5))
	s.failing = time.Now().Add(-time.Minute)
	err := s.waitShipped(ctx, "cur", 5, bound())
	if err == nil || !strings.Contains(err.Error(), "the object store does not take the journal's segments") || !strings.Contains(err.Error(), "/staging/config") {
		t.Fatalf("with the store failing: want a clear error at once, got %v", err)
	}

	s.failing = time.Time{}
	late := make(chan time.Time, 1)
	late <- time.Now()
	if err := s.waitShipped(ctx, "cur", 5, late); err == nil || !strings.Contains(err.Error(), "still wait in the staging directory") {
		t.Fatalf("past the bound: want an error saying the segments still wait, got %v", err)
	}
}
