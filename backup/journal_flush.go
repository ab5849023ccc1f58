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
	// js is the catalog's journal the chain is read from.
	js    journalStore
	chain string
	// lastSeq is the chain's newest segment: for an s3:// catalog, the
	// flush waits until the store holds it.
	lastSeq uint64
	epoch   string
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
	cat.shipper.Store(c)
	c.detach = func() { cat.shipper.CompareAndSwap(c, nil) }
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
	var pos journalPosition
	select {
	case pos = <-reply:
	case <-ctx.Done():
		return journalPosition{err: ctx.Err()}
	case <-wait.C:
		return late
	}
	if pos.err == nil && j.stage != nil {
		// An s3:// catalog: the segments just written wait in the staging
		// directory until the uploader ships them; the set reads them
		// from the store, as every reader of the journal does.
		pos.err = j.stage.waitShipped(ctx, pos.chain, pos.lastSeq, wait.C)
	}
	return pos
}

// flushNow is the shipper's answer to a flush: it waits until every commit
// made so far was delivered, writes them as a segment, and says where the
// chain stands.
func (j *dbJournal) flushNow() journalPosition {
	j.catchUp()
	if err := j.ship(true); err != nil {
		return journalPosition{err: fmt.Errorf("write the journal: %w", err)}
	}
	if j.needChain != "" {
		// The chain ended and no new one started yet: its segments stop
		// before the commits made since.
		return journalPosition{err: fmt.Errorf("the journal chain %s ended (%s); a new one starts from a new set", j.chainID, j.needChain)}
	}
	epoch, err := kv.Epoch(j.db)
	return journalPosition{js: j.js, chain: j.chainID, lastSeq: j.seq, epoch: epoch, excludes: excludesFor(string(j.name), j.opts.ExcludeStreams),
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

// shippedPoll is how often a set built from the journal of an s3:// catalog
// looks whether the uploader shipped the segments it reads.
const shippedPoll = 10 * time.Millisecond

// waitShipped waits until the store holds the segments of chain up to
// sequence number seq: none of them waits in the staging directory any
// more. It gives up at once while the store does not take segments (the
// set is then read from the database), and when late fires.
func (s *stager) waitShipped(ctx context.Context, chain string, seq uint64, late <-chan time.Time) error {
	tick := time.NewTicker(shippedPoll)
	defer tick.Stop()
	for {
		s.mu.Lock()
		waiting, failing := 0, s.failing
		for _, seg := range s.queue {
			if seg.chain == chain && seg.name.seq <= seq {
				waiting++
			}
		}
		s.mu.Unlock()
		switch {
		case waiting == 0:
			return nil
		case !failing.IsZero():
			return fmt.Errorf("the object store does not take the journal's segments since %s: %d of them wait in the staging directory %s",
				failing.UTC().Format(time.RFC3339), waiting, s.dir)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-late:
			return fmt.Errorf("%d segments of the journal still wait in the staging directory %s for the object store", waiting, s.dir)
		}
	}
}
