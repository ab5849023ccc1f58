package backup

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestScheduler_NextRunTimes(t *testing.T) {
	now := time.Date(2026, 11, 22, 1, 30, 0, 0, time.Local)
	tests := []struct {
		spec string
		want time.Time
	}{
		{"0 2 * * *", time.Date(2026, 11, 22, 2, 0, 0, 0, time.Local)},
		{"30 1 * * *", time.Date(2026, 11, 23, 1, 30, 0, 0, time.Local)},
		{"@every 6h", now.Add(6 * time.Hour)},
		{"@daily", time.Date(2026, 11, 23, 0, 0, 0, 0, time.Local)},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := NewScheduler(tt.spec, func(context.Context) error { return nil }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(now); !got.Equal(tt.want) {
				t.Fatalf("Next(%s) = %s, want %s", now, got, tt.want)
			}
		})
	}
}

func TestScheduler_RejectsBadSpecs(t *testing.T) {
	for _, spec := range []string{"", "every day", "61 * * * *", "* * * * * * *", "@every -1h"} {
		if _, err := NewScheduler(spec, func(context.Context) error { return nil }, nil); err == nil {
			t.Errorf("NewScheduler(%q) succeeded, want an error", spec)
		}
	}
}

func TestScheduler_SkipsOverlappingRuns(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var runs atomic.Int32
	s, err := NewScheduler("@every 1h", func(ctx context.Context) error {
		runs.Add(1)
		close(started)
		<-release
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Tick() }()
	<-started
	if err := s.Tick(); !errors.Is(err, ErrSkipped) {
		t.Fatalf("second tick during a run: err = %v, want ErrSkipped", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("job ran %d times, want 1", got)
	}
}

func TestScheduler_StopCancelsTheRunningJob(t *testing.T) {
	started := make(chan struct{})
	s, err := NewScheduler("@every 1h", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	done := make(chan error)
	go func() { done <- s.Tick() }()
	<-started
	s.Stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run after Stop: err = %v, want context.Canceled", err)
	}
}

// TestScheduler_StopCancelsAScheduledRunBeforeWaitingForIt runs the job
// through Start on a real schedule; the job holds until its ctx is
// cancelled (or, so a broken Stop fails instead of hanging, until the test
// gives up and releases it). Stop must cancel the ctx, not wait for a
// release.
func TestScheduler_StopCancelsAScheduledRunBeforeWaitingForIt(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	ended := make(chan error, 1)
	s, err := NewScheduler("@every 1s", func(ctx context.Context) error {
		started <- struct{}{}
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
		case <-release:
			ended <- errors.New("the job was released by the test, its ctx was never cancelled")
		}
		return ctx.Err()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the scheduled job did not start within 30s of a 1s schedule")
	}
	stopped := make(chan struct{})
	go func() {
		s.Stop()
		close(stopped)
	}()
	var why error
	select {
	case why = <-ended:
	case <-time.After(30 * time.Second):
		close(release) // Stop waits for the run without cancelling it
		why = <-ended
	}
	<-stopped
	if !errors.Is(why, context.Canceled) {
		t.Fatalf("the running job ended with %v, want its ctx cancelled by Stop", why)
	}
	select {
	case <-started:
		t.Fatal("a run started after Stop")
	default:
	}
}
