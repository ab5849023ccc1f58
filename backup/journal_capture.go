package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/flowg-backup/flowg/kv"
)

// probeKey is written and deleted once when a capture starts, to prove the
// subscription is in place before the journal relies on it.
var probeKey = []byte(kv.ReservedPrefix + "journal-probe")

// capture receives the commits of one database from Badger's DB.Subscribe.
// Badger delivers them in commit order and blocks every commit while a
// subscriber's callback runs, so the callback only appends to a buffer
// bounded by max bytes; past the bound it drops everything and records the
// overflow: the chain must then start over from a new set, but ingest is
// never held up.
type capture struct {
	max int64

	mu       sync.Mutex
	ops      []op
	marks    []mark
	bytes    int64
	overflow bool
	first    uint64 // the first version ever delivered
	newest   uint64 // the newest version delivered
	probed   chan struct{}
	probeHit bool
	// half is signalled when the buffer passes half its bound: the shipper
	// writes a segment at once instead of waiting for the interval.
	half chan struct{}
	now  func() time.Time
	// skip, when set, leaves out the keys of the streams excluded from
	// backups (logs database only); called under mu.
	skip func(key []byte) bool
}

func newCapture(max int64, now func() time.Time) *capture {
	return &capture{max: max, probed: make(chan struct{}), half: make(chan struct{}, 1), now: now}
}

// take is the subscription's callback: a quick append, never a wait.
func (c *capture) take(list *badger.KVList) error {
	at := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	added := false
	for _, kv := range list.Kv {
		if c.first == 0 {
			c.first = kv.Version
		}
		c.newest = max(c.newest, kv.Version)
		if !c.probeHit && bytes.Equal(kv.Key, probeKey) {
			c.probeHit = true
			close(c.probed)
		}
		if c.overflow || reserved(kv.Key) || bytes.HasPrefix(kv.Key, []byte(badgerPrefix)) || (c.skip != nil && c.skip(kv.Key)) {
			continue
		}
		c.bytes += int64(len(kv.Key)+len(kv.Value)) + 64
		if c.bytes > c.max {
			c.overflow = true
			c.ops, c.marks = nil, nil
			continue
		}
		if c.bytes > c.max/2 {
			select {
			case c.half <- struct{}{}:
			default:
			}
		}
		c.ops = append(c.ops, op{key: kv.Key, value: kv.Value, userMeta: userMetaOf(kv.Meta), expiresAt: kv.ExpiresAt, version: kv.Version})
		added = true
	}
	// Commits of flowg's and Badger's own keys change no data: they need
	// no time mark (the segment's version range still covers them).
	if !c.overflow && added {
		c.marks = append(c.marks, mark{version: c.newest, time: at})
	}
	return nil
}

// oldest is when the oldest change in the buffer was captured (zero when
// it holds none).
func (c *capture) oldest() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.marks) == 0 {
		return time.Time{}
	}
	return c.marks[0].time
}

// drained is what the buffer held at one instant.
type drained struct {
	ops      []op
	marks    []mark
	newest   uint64
	overflow bool
	at       time.Time
}

// drain empties the buffer; at is the instant up to which it covers.
func (c *capture) drain() drained {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := drained{ops: c.ops, marks: c.marks, newest: c.newest, overflow: c.overflow, at: c.now()}
	c.ops, c.marks, c.bytes, c.overflow = nil, nil, 0, false
	return d
}

func (c *capture) firstVersion() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// subscribe starts delivering db's commits to c; the returned channel gets
// Subscribe's result when it stops (ctx ended, or the database closed).
// It returns once a probe write made after subscribing came through, and
// whether every commit after version since was delivered: the probes
// written before the subscription was in place are the only ones allowed
// to be missing. Nothing else may write to db meanwhile.
func (c *capture) subscribe(ctx context.Context, db *badger.DB, since uint64) (<-chan error, bool, error) {
	done := make(chan error, 1)
	go func() { done <- db.Subscribe(ctx, c.take, []pb.Match{{Prefix: nil}}) }()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	probes := map[uint64]bool{}
	for {
		// The probe is a reserved key, never backed up: a set and a
		// delete, so it does not stay in the database.
		for _, write := range []func(*badger.Txn) error{
			func(txn *badger.Txn) error { return txn.Set(probeKey, nil) },
			func(txn *badger.Txn) error { return txn.Delete(probeKey) },
		} {
			if err := db.Update(write); err != nil {
				return nil, false, fmt.Errorf("start capture: %w", err)
			}
			txn := db.NewTransaction(false)
			probes[txn.ReadTs()] = true
			txn.Discard()
		}
		select {
		case <-c.probed:
			complete := true
			for v := since + 1; v < c.firstVersion(); v++ {
				complete = complete && probes[v]
			}
			return done, complete, nil
		case err := <-done:
			return nil, false, fmt.Errorf("start capture: the subscription ended at once: %w", err)
		case <-deadline:
			return nil, false, errors.New("start capture: the subscription saw no commit within 10s")
		case <-tick.C:
		}
	}
}

// resolver tells deletes from empty values. Badger's subscription hands a
// delete over as an empty value, and FlowG-style stores keep empty values
// on purpose, so each captured empty value is looked up at its own version
// in the database, where the delete bit is. A read transaction is kept open
// (the pin) so Badger keeps every version not yet looked up: compaction
// drops old versions only below the oldest open read.
type resolver struct {
	db *badger.DB
	// pin's read timestamp is below every version not yet resolved; next
	// replaces it once every version up to next's was delivered.
	pin, next *badger.Txn
}

// newResolver pins db at its current version and returns it.
func newResolver(db *badger.DB) *resolver {
	return &resolver{db: db, pin: db.NewTransaction(false)}
}

// pinnedAt is the version the pin reads at: the newest version when the
// resolver was created, or later.
func (r *resolver) pinnedAt() uint64 { return r.pin.ReadTs() }

// resolve marks the deletes among ops, all delivered by the subscription;
// newest is the newest version delivered so far.
func (r *resolver) resolve(ops []op, newest uint64) error {
	var empty []int
	for i, o := range ops {
		// A delete has no value and no expiry: an empty value with a TTL
		// is a write.
		if len(o.value) == 0 && o.expiresAt == 0 && !o.resolved {
			empty = append(empty, i)
		}
	}
	if len(empty) > 0 {
		if err := r.lookUp(ops, empty); err != nil {
			return err
		}
	}
	for i := range ops {
		ops[i].resolved = true
	}
	// Every version up to newest was delivered, and now looked up: the
	// pin may move up to what the next one read.
	if r.next != nil && newest >= r.next.ReadTs() {
		r.pin.Discard()
		r.pin, r.next = r.next, nil
	}
	if r.next == nil {
		r.next = r.db.NewTransaction(false)
	}
	return nil
}

// lookUp reads each op of idx at its version, with one iterator over every
// version: a read transaction started now sees every delivered commit.
func (r *resolver) lookUp(ops []op, idx []int) error {
	sort.Slice(idx, func(a, b int) bool { return bytes.Compare(ops[idx[a]].key, ops[idx[b]].key) < 0 })
	txn := r.db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
	defer it.Close()
	for _, i := range idx {
		o := &ops[i]
		found := false
		for it.Seek(o.key); it.Valid() && bytes.Equal(it.Item().Key(), o.key); it.Next() {
			item := it.Item()
			if item.Version() == o.version {
				o.deleted = item.IsDeletedOrExpired()
				found = true
				break
			}
			if item.Version() < o.version {
				break
			}
		}
		if !found {
			return fmt.Errorf("version %d of key %q is no longer in the database: whether it was a delete cannot be told", o.version, truncateKey(o.key))
		}
	}
	return nil
}

// close ends the pins.
func (r *resolver) close() {
	r.pin.Discard()
	if r.next != nil {
		r.next.Discard()
	}
}

// opsBytes is what ops hold in memory, as the capture counts it.
func opsBytes(ops []op) int64 {
	var n int64
	for _, o := range ops {
		n += int64(len(o.key)+len(o.value)) + 64
	}
	return n
}

func keepAbove(ops []op, since uint64) []op {
	out := ops[:0]
	for _, o := range ops {
		if o.version > since {
			out = append(out, o)
		}
	}
	return out
}

func keepMarksAbove(marks []mark, since uint64) []mark {
	out := marks[:0]
	for _, m := range marks {
		if m.version > since {
			out = append(out, m)
		}
	}
	return out
}
