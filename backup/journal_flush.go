package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// An incremental set built from the journal (incremental_journal.go) first
// asks the database's shipper to write every commit made so far as a
// segment, so the journal is complete up to the set's instant. The shipper
// answers on its own goroutine, between two segments: the capture and the
// segments stay the shipper's alone.

// journalPosition is where a database's journal stands after a flush.
type journalPosition struct {
	dir, chain string
	epoch      string
	// excludes are the stream globs the journal leaves out.
	excludes []string
	// upTo is the newest version the chain's segments cover, at the
	// instant at.
	upTo uint64
	at   time.Time
	// maxBytes bounds the changes an incremental set holds in memory
	// (the capture buffer's bound).
	maxBytes int64
	err      error
}

// flushWait bounds how long a set waits for a shipper's answer, beyond
// one interval: a shipper busy starting a new chain (a new set) or
// waiting out a wipe restore does not hold the set up, which is then read
// from the database.
const flushWait = 30 * time.Second

// errShipperGone is a flush's answer when the shipper cannot answer.
var errShipperGone = errors.New("continuous backup stopped")

// attach makes cat build its incremental sets from c's journal until Stop.
func (c *Continuous) attach(cat *Catalog) {
	for _, j := range c.journals {
		j.flushes = make(chan chan journalPosition)
	}
	cat.journal.Store(c)
	c.detach = func() { cat.journal.CompareAndSwap(c, nil) }
}

// flush asks the shipper of database db to write every commit made so far
// and returns where its journal then stands.
func (c *Continuous) flush(ctx context.Context, db string) journalPosition {
	j := c.journalOf(db)
	if j == nil || j.flushes == nil {
		return journalPosition{err: fmt.Errorf("continuous backup has no journal of the %s database", db)}
	}
	// The reply channel is buffered: a shipper answering after the wait
	// ended never blocks.
	reply := make(chan journalPosition, 1)
	bound := j.opts.Interval + flushWait
	wait := time.NewTimer(bound)
	defer wait.Stop()
	late := journalPosition{err: fmt.Errorf("the shipper of the %s journal did not answer within %s", db, bound)}
	select {
	case j.flushes <- reply:
	case <-c.stop:
		return journalPosition{err: errShipperGone}
	case <-ctx.Done():
		return journalPosition{err: ctx.Err()}
	case <-wait.C:
		return late
	}
	// Bounded too: a shipper starting a new chain may wait for a database
	// this set holds (behind a wipe restore waiting for the set).
	select {
	case pos := <-reply:
		return pos
	case <-ctx.Done():
		return journalPosition{err: ctx.Err()}
	case <-wait.C:
		return late
	}
}

// flushNow is the shipper's answer to a flush: it waits until every commit
// made so far was delivered, writes them as a segment, and says where the
// chain stands.
func (j *dbJournal) flushNow() journalPosition {
	j.catchUp()
	if err := j.ship(true); err != nil {
		return journalPosition{err: fmt.Errorf("write the journal: %w", err)}
	}
	epoch, err := kv.Epoch(j.db)
	return journalPosition{dir: j.chainDir, chain: j.chainID, epoch: epoch, excludes: excludesFor(string(j.name), j.opts.ExcludeStreams),
		upTo: j.since, at: j.from, maxBytes: j.opts.MaxBuffer, err: err}
}

// journalOf returns the journal of database db (nil: none).
func (c *Continuous) journalOf(db string) *dbJournal {
	for _, j := range c.journals {
		if string(j.name) == db {
			return j
		}
	}
	return nil
}

// refuseFlush answers a flush while the database is being replaced.
func refuseFlush(reply chan journalPosition) {
	reply <- journalPosition{err: errors.New("the database is being replaced by a wipe restore")}
}
