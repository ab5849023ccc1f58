package backup

import (
	"context"
	"errors"
	"testing"
	"time"
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
