package backup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrCatalogBusy is returned when another process held the catalog's set
// lock for longer than a lock waits (catalogLockWait).
var ErrCatalogBusy = errors.New("backup catalog is busy")

// catalogLockWait is how long taking the set lock waits for another
// process (a server restoring from a set, an offline prune) to let go.
var catalogLockWait = 30 * time.Second

// HoldSets holds the catalog's sets shared until release: no set is deleted
// (Delete, Prune) meanwhile. A restore reading a set's files holds it.
// Within one process the lock is a sync.RWMutex; for a catalog in a local
// directory it is also a flock on that directory, so `flowg admin backups
// prune` and a running server exclude each other. On S3 there is no
// cross-process lock: run prune where the server runs, or stop it first.
func (c *Catalog) HoldSets(ctx context.Context) (release func(), err error) {
	return c.lockSets(ctx, false)
}

// lockSets takes the set lock, exclusive to delete sets, shared to read them.
func (c *Catalog) lockSets(ctx context.Context, exclusive bool) (func(), error) {
	lock, unlock := c.sets.RLock, c.sets.RUnlock
	if exclusive {
		lock, unlock = c.sets.Lock, c.sets.Unlock
	}
	lock()
	local, ok := c.store.(localStore)
	if !ok {
		return unlock, nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, catalogLockWait)
	defer cancel()
	unflock, err := flockCatalog(waitCtx, local.dir, exclusive)
	if err != nil {
		unlock()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: another process held %s for %s (a flowg server restoring from a set, or a prune): retry",
				ErrCatalogBusy, local.dir, catalogLockWait)
		}
		return nil, err
	}
	return func() { unflock(); unlock() }, nil
}

// tryHoldSets takes the set lock shared if no one holds or waits for it
// exclusively (in this process, or a prune's flock within a moment), and
// reports whether it did; release gives it back.
func (c *Catalog) tryHoldSets() (release func(), ok bool) {
	if !c.sets.TryRLock() {
		return nil, false
	}
	local, isLocal := c.store.(localStore)
	if !isLocal {
		return c.sets.RUnlock, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	unflock, err := flockCatalog(ctx, local.dir, false)
	if err != nil {
		c.sets.RUnlock()
		return nil, false
	}
	return func() { unflock(); c.sets.RUnlock() }, true
}
