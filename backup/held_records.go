package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// heldRecords reads a database's live records in key order on a goroutine
// of its own, a few batches ahead of its reader: a merge rebuilt beside
// the database spent a third of its time in the database's iterator
// (decompressing its blocks), on the goroutine that also reads the file
// and writes the new database.
type heldRecords struct {
	batches chan *heldBatch
	free    chan *heldBatch
	done    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	ahead    int           // bytes of the batches sent and not yet read through
	released chan struct{} // the reader read through a batch

	batch *heldBatch // being read; nil once every record was read
	i     int        // the index of its record at hand
	err   error      // why the reading stopped early
}

// heldRecord is one live record of the database, its key and value as
// offsets into its batch's data.
type heldRecord struct {
	key, value [2]int // start, end
	version    uint64
	expiresAt  uint64
	userMeta   byte
}

type heldBatch struct {
	data []byte
	recs []heldRecord
	last bool  // no batch follows
	err  error // with last: the reading stopped with it after these records
	size int   // counted in ahead while it is sent and not read through
}

// errHeldStopped says the reading stopped before the database's last record.
var errHeldStopped = errors.New("the reading of the database stopped before its end")

const (
	heldBatchBytes   = 1 << 20
	heldBatchesAhead = 4
	// heldBatchKept is the largest batch kept for reuse: one that a large
	// value grew is let go.
	heldBatchKept = 4 * heldBatchBytes
	// heldAheadBytes bounds the bytes of the batches sent and not yet read
	// through, but for one batch alone, however large: a batch of a value
	// of 60 MiB is sent only once the reader is done with the previous
	// one. Counting batches only, a database of such values held six of
	// them at once (a merge rebuilt beside a database of values of 24 MiB
	// peaked 290 MiB above its start, a wipe of the same values 167).
	heldAheadBytes = 8 << 20
)

// readHeld starts reading db, which dir holds (the pages it reads are
// released as it goes). The caller must call stop before closing db.
func readHeld(ctx context.Context, db *badger.DB, dir string) *heldRecords {
	h := &heldRecords{batches: make(chan *heldBatch, heldBatchesAhead),
		free: make(chan *heldBatch, heldBatchesAhead+2), done: make(chan struct{}), released: make(chan struct{}, 1)}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer close(h.batches)
		h.produce(ctx, db, dir)
	}()
	h.i = -1
	h.next()
	return h
}

// produce sends the database's records in batches until they end, the
// reading fails, or the reader stops.
//
// Badger's iterator ends, without an error, at a table block it cannot
// read: the records after it would be left out of the merge, and the
// directory that held them deleted after the swap. So every entry of every
// table is read, each version and internal key included, and counted
// against what the tables say they hold; only the newest version of each
// key, if live, is sent. (Checking the tables' checksums beside the merge
// instead, with Badger's VerifyChecksum, held a whole table's blocks at a
// time: 583 MiB at 10M records.)
func (h *heldRecords) produce(ctx context.Context, db *badger.DB, dir string) {
	var want uint64
	for _, t := range db.Tables() {
		want += uint64(t.KeyCount)
	}
	txn := db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, InternalAccess: true})
	defer it.Close()
	b := h.newBatch()
	var read, released, entries uint64
	var last []byte // the key of the newest version seen
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		entries++
		if bytes.Equal(item.Key(), last) {
			continue // an older version
		}
		last = append(last[:0], item.Key()...)
		if bytes.HasPrefix(last, []byte(badgerPrefix)) || item.IsDeletedOrExpired() {
			continue
		}
		r := heldRecord{version: item.Version(), expiresAt: item.ExpiresAt(), userMeta: item.UserMeta()}
		r.key[0] = len(b.data)
		b.data = append(b.data, item.Key()...)
		r.key[1] = len(b.data)
		r.value[0] = r.key[1]
		if err := item.Value(func(v []byte) error { b.data = append(b.data, v...); return nil }); err != nil {
			b.err = err
			break
		}
		r.value[1] = len(b.data)
		b.recs = append(b.recs, r)
		if read += uint64(r.value[1] - r.key[0]); read-released >= releaseBytes {
			// The pages read need not stay in this process's memory.
			_ = kv.ReleaseTablePages(dir)
			_ = kv.ReleaseValueLogPages(dir)
			released = read
		}
		if len(b.data) < heldBatchBytes {
			continue
		}
		if !h.send(ctx, b) {
			return
		}
		b = h.newBatch()
	}
	if b.err == nil {
		b.err = ctx.Err()
	}
	if b.err == nil && entries < want {
		b.err = fmt.Errorf("%w: %d of the %d entries its tables hold could be read; a merge would lose the others, so nothing was changed. "+
			"Restore the database whole (--wipe) from a backup instead", ErrDamagedDatabase, entries, want)
	}
	b.last = true
	h.send(ctx, b)
}

func (h *heldRecords) send(ctx context.Context, b *heldBatch) bool {
	if !h.reserve(ctx, len(b.data)) {
		return false
	}
	b.size = len(b.data)
	select {
	case h.batches <- b:
		return true
	case <-h.done:
	case <-ctx.Done():
	}
	return false
}

// reserve waits until n bytes more may be ahead of the reader (at once
// when none are), and counts them.
func (h *heldRecords) reserve(ctx context.Context, n int) bool {
	for {
		h.mu.Lock()
		if h.ahead == 0 || h.ahead+n <= heldAheadBytes {
			h.ahead += n
			h.mu.Unlock()
			return true
		}
		h.mu.Unlock()
		select {
		case <-h.released:
		case <-h.done:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// readThrough uncounts b, which the reader is done with.
func (h *heldRecords) readThrough(b *heldBatch) {
	h.mu.Lock()
	h.ahead -= b.size
	h.mu.Unlock()
	select {
	case h.released <- struct{}{}:
	default:
	}
}

func (h *heldRecords) newBatch() *heldBatch {
	select {
	case b := <-h.free:
		b.data, b.recs, b.last, b.err, b.size = b.data[:0], b.recs[:0], false, nil, 0
		return b
	default:
		return &heldBatch{data: make([]byte, 0, heldBatchBytes+64<<10)}
	}
}

// valid reports whether a record is at hand (false at the end, or after
// a failure: see failed).
func (h *heldRecords) valid() bool { return h.batch != nil }

// key, value and record describe the record at hand; the slices hold
// until next.
func (h *heldRecords) key() []byte {
	r := &h.batch.recs[h.i]
	return h.batch.data[r.key[0]:r.key[1]]
}

func (h *heldRecords) record() (key, value []byte, r *heldRecord) {
	r = &h.batch.recs[h.i]
	return h.batch.data[r.key[0]:r.key[1]], h.batch.data[r.value[0]:r.value[1]], r
}

// next moves to the following record.
func (h *heldRecords) next() {
	for {
		if h.batch != nil && h.i+1 < len(h.batch.recs) {
			h.i++
			return
		}
		if h.batch != nil {
			h.readThrough(h.batch)
			if h.batch.last {
				h.err, h.batch = h.batch.err, nil
				return
			}
			if cap(h.batch.data) <= heldBatchKept {
				select {
				case h.free <- h.batch:
				default:
				}
			}
		}
		b, ok := <-h.batches
		if !ok { // stopped before its last batch
			h.err, h.batch = errHeldStopped, nil
			return
		}
		h.batch, h.i = b, -1
	}
}

// failed is why the records ended early (nil when they all were read).
func (h *heldRecords) failed() error { return h.err }

// stop ends the reading and waits for it.
func (h *heldRecords) stop() {
	close(h.done)
	h.wg.Wait()
}
