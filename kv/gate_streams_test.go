package kv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestGate_EnterStreamAdmitsAtMostMax(t *testing.T) {
	var g Gate
	first, err := g.EnterStream(2, func() {})
	if err != nil {
		t.Fatal(err)
	}
	second, err := g.EnterStream(2, func() {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.EnterStream(2, func() {}); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("third stream: err = %v, want %v", err, ErrTooManyStreams)
	}
	if !g.Enter() {
		t.Fatal("a request that is not a stream was refused while the streams were at their limit")
	}
	g.Leave()
	first()
	third, err := g.EnterStream(2, func() {})
	if err != nil {
		t.Fatalf("a stream after one left: %v", err)
	}
	second()
	third()
	if n := g.Streams(); n != 0 {
		t.Fatalf("%d streams admitted after all left, want 0", n)
	}
	if err := g.Lock(t.Context()); err != nil {
		t.Fatalf("Lock after every stream left: %v", err)
	}
	if _, err := g.EnterStream(0, func() {}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("stream while locked: err = %v, want %v", err, ErrUnavailable)
	}
	g.Unlock()
}

// TestGate_LockCuttingCutsStreamsNotRequests: a wipe that has waited its
// grace cuts the streams still in (each once) and goes on waiting for the
// other shared users; Lock, without a grace, cuts nothing.
func TestGate_LockCuttingCutsStreamsNotRequests(t *testing.T) {
	var g Gate
	cuts := make(chan struct{}, 4)
	var leaves []func()
	for range 2 {
		leave, err := g.EnterStream(0, func() { cuts <- struct{}{} })
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leave)
	}
	if !g.Enter() {
		t.Fatal("Enter refused")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := g.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock: err = %v, want %v", err, context.DeadlineExceeded)
	}
	if len(cuts) != 0 {
		t.Fatalf("Lock cut %d streams, want none", len(cuts))
	}

	locked := make(chan error, 1)
	go func() { locked <- g.LockCutting(t.Context(), time.Millisecond) }()
	for range 2 {
		select {
		case <-cuts:
		case <-time.After(10 * time.Second):
			t.Fatal("LockCutting did not cut the streams after its grace")
		}
	}
	for _, leave := range leaves {
		leave()
	}
	select {
	case err := <-locked:
		t.Fatalf("LockCutting returned (%v) while a request was still in", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.Leave()
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	if len(cuts) != 0 {
		t.Fatalf("a stream was cut twice")
	}
	g.Unlock()
}

// TestStore_ExclusiveCutsAStreamAfterTheWipeGrace: a stream that never
// ends on its own holds a wipe only for WipeGrace.
func TestStore_ExclusiveCutsAStreamAfterTheWipeGrace(t *testing.T) {
	s, err := OpenStore(testDirs(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetStreamLimits(StreamLimits{Max: 1, WipeGrace: 10 * time.Millisecond})
	streamCtx, cut := context.WithCancelCause(t.Context())
	_, release, err := s.AcquireStream(Logs, func() { cut(ErrStreamCut) })
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AcquireStream(Logs, func() {}); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("second stream with Max 1: err = %v, want %v", err, ErrTooManyStreams)
	}
	if _, rel, err := s.AcquireStream(Config, func() {}); err != nil {
		t.Fatalf("a stream of another database: %v", err)
	} else {
		rel()
	}
	go func() {
		<-streamCtx.Done() // the stream runs until it is cut
		release()
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ran := false
	if _, err := s.Exclusive(ctx, Logs, func(*badger.DB) (string, error) { ran = true; return "", nil }); err != nil {
		t.Fatal(err)
	}
	if !ran || !errors.Is(context.Cause(streamCtx), ErrStreamCut) {
		t.Fatalf("Exclusive ran fn: %v; stream ended with %v, want %v", ran, context.Cause(streamCtx), ErrStreamCut)
	}
}
