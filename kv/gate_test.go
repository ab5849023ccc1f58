package kv

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestGate_LockWaitsForSharedUsersAndTurnsNewOnesAway(t *testing.T) {
	var g Gate
	if !g.Enter() || !g.Enter() {
		t.Fatal("an open gate refused a shared user")
	}
	locked := make(chan error, 1)
	go func() { locked <- g.Lock(t.Context()) }()

	// While Lock waits, new users are turned away and a second Lock is busy.
	deadline := time.Now().Add(5 * time.Second)
	for !g.Held() {
		if time.Now().After(deadline) {
			t.Fatal("Lock never marked the gate held")
		}
		time.Sleep(time.Millisecond)
	}
	if g.Enter() {
		t.Fatal("Enter admitted a user while Lock was waiting")
	}
	if err := g.Lock(t.Context()); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Lock: err = %v, want %v", err, ErrBusy)
	}
	g.Leave()
	select {
	case err := <-locked:
		t.Fatalf("Lock returned (%v) while a user was still inside", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.Leave()
	select {
	case err := <-locked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not return after the last user left")
	}
	if g.Enter() {
		t.Fatal("Enter admitted a user while the gate was locked")
	}
	g.Unlock()
	if !g.Enter() {
		t.Fatal("Enter refused after Unlock")
	}
	g.Leave()
}

func TestGate_LockGivesUpWhenContextEnds(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("Enter refused")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := g.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock: err = %v, want %v", err, context.DeadlineExceeded)
	}
	if g.Held() {
		t.Fatal("a Lock that gave up left the gate held")
	}
	if !g.Enter() {
		t.Fatal("Enter refused after a Lock gave up")
	}
	g.Leave()
	g.Leave()
	if err := g.Lock(t.Context()); err != nil {
		t.Fatalf("Lock of an idle gate: %v", err)
	}
	g.Unlock()
}
