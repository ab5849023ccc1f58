package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// LoginLimits bound what password checks cost and how fast they can be
// guessed. Zero fields take the value of DefaultLoginLimits.
type LoginLimits struct {
	// PerUserAddress is the budget of failed logins of one user from one
	// client address (flowg serve --login-rate).
	PerUserAddress Rate
	// PerAddress is the budget of failed logins from one client address,
	// whatever the user (--login-rate-per-address). There is deliberately
	// no budget per user alone: anyone could then lock root out.
	PerAddress Rate
	// MaxTracked is how many (user, address) pairs, and how many
	// addresses, are remembered at most (--login-max-tracked); beyond it
	// the least recently failed are forgotten.
	MaxTracked int
	// MaxConcurrent is how many password checks run at once, server-wide
	// (--max-concurrent-logins): each argon2id check takes 19 MiB.
	MaxConcurrent int
	// Wait is how long a login waits for a free check before it is
	// answered "busy" (--login-wait).
	Wait time.Duration
	// Now is the clock of the budgets; time.Now when nil.
	Now func() time.Time
}

// DefaultLoginLimits are the limits of flowg serve. Five failures a minute
// for one user from one address stop guessing without bothering a person
// who mistypes; thirty a minute per address leave room for a few people
// behind one NAT. Four checks at once keep logins near 80 MiB (4 × 19 MiB)
// and two cores busy at most.
var DefaultLoginLimits = LoginLimits{
	PerUserAddress: Rate{Events: 5, Per: time.Minute},
	PerAddress:     Rate{Events: 30, Per: time.Minute},
	MaxTracked:     10000,
	MaxConcurrent:  4,
	Wait:           3 * time.Second,
}

// LoginGuard applies LoginLimits to login attempts: it counts failures per
// (user, client address) and per client address, refuses an attempt whose
// budget is spent before any password is hashed, and lets at most
// MaxConcurrent checks run at once. Only failures count: a right password
// spends no budget, but it is refused, like any attempt, while its user at
// its address, or its address, is over budget. Up to MaxConcurrent-1
// failures past a budget can get through when that many are checked at the
// same moment. A LoginGuard is safe for concurrent use; one serves the
// whole server.
type LoginGuard struct {
	pairs, addrs *limitTable
	slots        chan struct{}
	wait         time.Duration
	now          func() time.Time
}

// NewLoginGuard returns a LoginGuard with limits l.
func NewLoginGuard(l LoginLimits) *LoginGuard {
	d := DefaultLoginLimits
	if l.PerUserAddress.Events < 1 || l.PerUserAddress.Per <= 0 {
		l.PerUserAddress = d.PerUserAddress
	}
	if l.PerAddress.Events < 1 || l.PerAddress.Per <= 0 {
		l.PerAddress = d.PerAddress
	}
	if l.MaxTracked < 1 {
		l.MaxTracked = d.MaxTracked
	}
	if l.MaxConcurrent < 1 {
		l.MaxConcurrent = d.MaxConcurrent
	}
	if l.Wait <= 0 {
		l.Wait = d.Wait
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return &LoginGuard{
		pairs: newLimitTable(l.PerUserAddress, l.MaxTracked),
		addrs: newLimitTable(l.PerAddress, l.MaxTracked),
		slots: make(chan struct{}, l.MaxConcurrent),
		wait:  l.Wait,
		now:   l.Now,
	}
}

// Attempt runs login, one password check of username from client address
// addr (as the HTTP door sees it, see --trusted-proxy), within the limits.
// It returns a *LoginLimitError, without calling login, when the budget of
// username from addr or of addr is spent (ErrTooManyLogins) or when no check
// became free within the wait (ErrLoginsBusy); ctx.Err() if ctx ends while
// waiting. Otherwise it returns what login returned, and counts it as a
// failure if that wraps ErrBadCredentials.
func (g *LoginGuard) Attempt(ctx context.Context, username, addr string, login func() error) error {
	pair, client := pairKey(username, addr), addrKey(addr)
	if err := g.admit(pair, client); err != nil {
		return err
	}
	if err := g.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-g.slots }()
	// Failures counted while this attempt waited for its turn.
	if err := g.admit(pair, client); err != nil {
		return err
	}
	err := login()
	if errors.Is(err, ErrBadCredentials) {
		now := g.now()
		g.pairs.count(pair, now)
		g.addrs.count(client, now)
	}
	return err
}

// admit refuses an attempt whose budgets are spent.
func (g *LoginGuard) admit(pair, client string) error {
	now := g.now()
	byPair, byAddr := g.pairs.wait(pair, now), g.addrs.wait(client, now)
	switch {
	case byPair == 0 && byAddr == 0:
		return nil
	case byPair >= byAddr:
		return &LoginLimitError{Err: ErrTooManyLogins, Who: "this user from this address", RetryAfter: byPair}
	}
	return &LoginLimitError{Err: ErrTooManyLogins, Who: "this address", RetryAfter: byAddr}
}

// acquire takes one of the password check slots, waiting at most g.wait.
func (g *LoginGuard) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return &LoginLimitError{Err: ErrLoginsBusy, Who: "the server", RetryAfter: time.Second}
	}
}

// Tracked returns how many (user, address) pairs and addresses the guard
// remembers failures of.
func (g *LoginGuard) Tracked() (pairs, addrs int) {
	return g.pairs.len(), g.addrs.len()
}

// LoginLimitError is a login refused before its password was checked. It
// wraps ErrTooManyLogins or ErrLoginsBusy.
type LoginLimitError struct {
	Err error
	// Who spent the budget: "this user from this address", "this address"
	// or "the server".
	Who string
	// RetryAfter is how long to wait before trying again.
	RetryAfter time.Duration
}

// Error says what was refused and when to retry, in whole seconds.
func (e *LoginLimitError) Error() string {
	return fmt.Sprintf("%v for %s; retry in %d s", e.Err, e.Who, e.RetrySeconds())
}

// Unwrap returns ErrTooManyLogins or ErrLoginsBusy.
func (e *LoginLimitError) Unwrap() error { return e.Err }

// RetrySeconds is RetryAfter rounded up to whole seconds, at least 1: the
// value of a Retry-After header.
func (e *LoginLimitError) RetrySeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// pairKey is the budget key of username from addr. Names that cannot exist
// share one key per address.
func pairKey(username, addr string) string {
	if !validName(username) {
		username = "\x00invalid"
	}
	return username + " " + addrKey(addr)
}

// addrKey is the budget key of a client address: the address itself, or
// its /64 for IPv6, which one client usually holds whole.
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return truncate(addr, 64)
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
