package kv

import (
	"context"
	"sync"
	"time"
)

// Gate serialises an exclusive user of one database (a wipe-restore) against
// the requests sharing it. Enter admits a shared user unless the gate is held
// or wanted exclusively, in which case it fails at once, so requests can be
// answered "try again later" instead of queueing behind a restore. Lock waits
// until every shared user has left or ctx ends. EnterStream admits a shared
// user that can be cut short (a backup stream), and Cut cuts them. A Gate is
// safe for concurrent use; its zero value is open.
type Gate struct {
	mu        sync.Mutex
	users     int
	exclusive bool
	idle      chan struct{}        // closed when users drops to 0 while exclusive
	streams   map[*stream]struct{} // the users admitted by EnterStream, until they leave
}

// Enter admits a shared user and reports whether it was admitted. Each
// admitted user must call Leave once.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.exclusive {
		return false
	}
	g.users++
	return true
}

// Leave ends a shared use begun by a successful Enter.
func (g *Gate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.users--
	if g.users == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// Lock takes the gate exclusively: from the call on, Enter fails; Lock
// returns once no shared user is left. It returns ErrBusy at once if the
// gate is already held exclusively, and ctx.Err() (releasing the gate) if ctx
// ends first.
func (g *Gate) Lock(ctx context.Context) error { return g.lock(ctx, nil) }

// LockCutting is Lock that cuts the streams (EnterStream) still admitted
// grace after the gate was marked exclusive; other shared users are still
// waited for.
func (g *Gate) LockCutting(ctx context.Context, grace time.Duration) error {
	return g.lock(ctx, time.After(grace))
}

// lock is Lock, cutting the streams admitted when cutAt fires (never when
// it is nil).
func (g *Gate) lock(ctx context.Context, cutAt <-chan time.Time) error {
	g.mu.Lock()
	if g.exclusive {
		g.mu.Unlock()
		return ErrBusy
	}
	g.exclusive = true
	if g.users == 0 {
		g.mu.Unlock()
		return nil
	}
	idle := make(chan struct{})
	g.idle = idle
	g.mu.Unlock()
	for {
		select {
		case <-idle:
			return nil
		case <-cutAt:
			g.Cut()
			cutAt = nil
		case <-ctx.Done():
			g.mu.Lock()
			g.exclusive = false
			g.idle = nil
			g.mu.Unlock()
			return ctx.Err()
		}
	}
}

// Unlock releases a gate taken by Lock.
func (g *Gate) Unlock() {
	g.mu.Lock()
	g.exclusive = false
	g.mu.Unlock()
}

// Held reports whether the gate is held or wanted exclusively.
func (g *Gate) Held() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.exclusive
}
