package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/auth"
)

// loginVia returns the login func LoginGuard.Attempt runs for user and
// password against f, and a counter of the password checks it made.
func (f *fixture) loginVia(user, password string, checks *atomic.Int64) func() error {
	return func() error {
		checks.Add(1)
		_, err := f.svc.Login(user, password)
		return err
	}
}

// wantLimited fails unless err is a *LoginLimitError wrapping want, for who,
// with a Retry-After of retry seconds.
func wantLimited(t testing.TB, err, want error, who string, retry int) {
	t.Helper()
	var le *auth.LoginLimitError
	if !errors.As(err, &le) || !errors.Is(err, want) || le.Who != who || le.RetrySeconds() != retry {
		t.Fatalf("error = %v, want a *LoginLimitError wrapping %v for %q, retry in %d s", err, want, who, retry)
	}
}

func TestLoginGuard_LimitsFailuresPerUserAndAddressNotPerUser(t *testing.T) {
	f := newFixture(t)
	g := auth.NewLoginGuard(auth.LoginLimits{
		PerUserAddress: auth.Rate{Events: 3, Per: 3 * time.Second},
		PerAddress:     auth.Rate{Events: 10, Per: 10 * time.Second},
		Now:            f.clock.Now,
	})
	ctx := t.Context()
	var checks atomic.Int64
	for i := range 3 {
		wantErr(t, g.Attempt(ctx, "root", "203.0.113.5", f.loginVia("root", fmt.Sprint("guess", i), &checks)), auth.ErrBadCredentials)
	}
	before := checks.Load()
	err := g.Attempt(ctx, "root", "203.0.113.5", f.loginVia("root", "root-pass", &checks))
	wantLimited(t, err, auth.ErrTooManyLogins, "this user from this address", 1)
	if checks.Load() != before {
		t.Fatalf("a refused attempt checked the password")
	}
	// Not locked per user: root from elsewhere, and others from there, go on.
	must(t, g.Attempt(ctx, "root", "198.51.100.7", f.loginVia("root", "root-pass", &checks)))
	must(t, g.Attempt(ctx, "alice", "203.0.113.5", f.loginVia("alice", alicePassword, &checks)))
	// An IPv4 address written as IPv4-in-IPv6 is the same client.
	wantLimited(t, g.Attempt(ctx, "root", "::ffff:203.0.113.5", f.loginVia("root", "root-pass", &checks)),
		auth.ErrTooManyLogins, "this user from this address", 1)

	f.clock.Advance(time.Second)
	must(t, g.Attempt(ctx, "root", "203.0.113.5", f.loginVia("root", "root-pass", &checks)))
	// Successes are not counted: one token was refilled, and is still there.
	wantErr(t, g.Attempt(ctx, "root", "203.0.113.5", f.loginVia("root", "wrong", &checks)), auth.ErrBadCredentials)
	wantLimited(t, g.Attempt(ctx, "root", "203.0.113.5", f.loginVia("root", "root-pass", &checks)),
		auth.ErrTooManyLogins, "this user from this address", 1)
}

func TestLoginGuard_LimitsFailuresPerAddressWhateverTheUser(t *testing.T) {
	clock := newClock()
	g := auth.NewLoginGuard(auth.LoginLimits{
		PerUserAddress: auth.Rate{Events: 3, Per: time.Minute},
		PerAddress:     auth.Rate{Events: 5, Per: 10 * time.Second},
		Now:            clock.Now,
	})
	fail := func() error { return auth.ErrBadCredentials }
	for i := range 5 {
		wantErr(t, g.Attempt(t.Context(), fmt.Sprint("user", i), "2001:db8:1:2::7", fail), auth.ErrBadCredentials)
	}
	// Another address of the same IPv6 /64 shares its budget; another /64 does not.
	wantLimited(t, g.Attempt(t.Context(), "someone", "2001:db8:1:2::99", fail), auth.ErrTooManyLogins, "this address", 2)
	wantErr(t, g.Attempt(t.Context(), "someone", "2001:db8:1:3::7", fail), auth.ErrBadCredentials)
}

func TestLoginGuard_BoundsConcurrentPasswordChecks(t *testing.T) {
	g := auth.NewLoginGuard(auth.LoginLimits{MaxConcurrent: 4, Wait: time.Minute})
	var running, most atomic.Int64
	check := func() error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() { errs <- g.Attempt(t.Context(), "root", fmt.Sprintf("192.0.2.%d", i), check) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	if m := most.Load(); m != 4 {
		t.Fatalf("%d password checks ran at once, want at most 4 (and 4 reached with 64 waiting)", m)
	}
}

func TestLoginGuard_BusyAfterTheWait(t *testing.T) {
	g := auth.NewLoginGuard(auth.LoginLimits{MaxConcurrent: 1, Wait: 50 * time.Millisecond})
	held, done := make(chan struct{}), make(chan struct{})
	go func() {
		_ = g.Attempt(context.Background(), "root", "192.0.2.1", func() error { close(held); <-done; return nil })
	}()
	<-held
	defer close(done)
	called := false
	err := g.Attempt(t.Context(), "alice", "192.0.2.2", func() error { called = true; return nil })
	wantLimited(t, err, auth.ErrLoginsBusy, "the server", 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantErr(t, g.Attempt(ctx, "alice", "192.0.2.2", func() error { called = true; return nil }), context.Canceled)
	if called {
		t.Fatal("a login that found no free slot checked the password")
	}
}

func TestLoginGuard_RemembersBoundedKeys(t *testing.T) {
	clock := newClock()
	g := auth.NewLoginGuard(auth.LoginLimits{MaxTracked: 100, Now: clock.Now,
		PerUserAddress: auth.Rate{Events: 2, Per: time.Minute}, PerAddress: auth.Rate{Events: 2, Per: time.Minute}})
	fail := func() error { return auth.ErrBadCredentials }
	for i := range 1000 {
		_ = g.Attempt(t.Context(), "root", fmt.Sprintf("10.0.%d.%d", i/256, i%256), fail)
	}
	if pairs, addrs := g.Tracked(); pairs != 100 || addrs != 100 {
		t.Fatalf("tracked %d pairs and %d addresses after 1000 addresses, want the cap, 100 each", pairs, addrs)
	}
	// Once their buckets are full again, entries go as soon as one more is counted.
	clock.Advance(time.Minute)
	_ = g.Attempt(t.Context(), "root", "10.9.9.9", fail)
	if pairs, addrs := g.Tracked(); pairs != 1 || addrs != 1 {
		t.Fatalf("tracked %d pairs and %d addresses a minute later, want only the new one", pairs, addrs)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want auth.Rate
		bad  bool
	}{
		{in: "5/1m", want: auth.Rate{Events: 5, Per: time.Minute}},
		{in: "5/m", want: auth.Rate{Events: 5, Per: time.Minute}},
		{in: " 3 / 3s ", want: auth.Rate{Events: 3, Per: 3 * time.Second}},
		{in: "30/1h", want: auth.Rate{Events: 30, Per: time.Hour}},
		{in: "", bad: true},
		{in: "5", bad: true},
		{in: "0/1m", bad: true},
		{in: "-1/1m", bad: true},
		{in: "5/0s", bad: true},
		{in: "5/-1m", bad: true},
		{in: "five/1m", bad: true},
		{in: "5/fortnight", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := auth.ParseRate(tt.in)
			if tt.bad {
				wantErr(t, err, auth.ErrInvalidRate)
				wantErr(t, err, auth.ErrInvalid)
				return
			}
			must(t, err)
			if got != tt.want {
				t.Fatalf("ParseRate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
