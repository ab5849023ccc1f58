package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// ErrNotCovered is returned for a restore to an instant the journal of a
// database does not cover: before its oldest set, after its newest segment,
// in a gap, or past a damaged segment. The message names what can be
// restored.
var ErrNotCovered = errors.New("the journal does not cover that instant")

// PointInTime says what a restore to an instant restores.
type PointInTime struct {
	Database string    `json:"database"`
	Instant  time.Time `json:"instant"` // the instant restored
	Chain    string    `json:"chain"`
	BaseSet  string    `json:"base_set"`
	Segments int       `json:"segments"` // segments applied over the base set
	Changes  uint64    `json:"changes"`  // writes and deletes applied
	Version  uint64    `json:"version"`  // the newest version applied
	// Deleted lists, sorted, the keys deleted between the base set and the
	// instant: what a merge of the state at the instant must delete.
	Deleted [][]byte `json:"-"`
	deleted map[string]bool
}

// ParseAt reads the instant of a restore to a point in time: an RFC 3339
// time (with nanoseconds or not), or "latest" for the newest change each
// database's journal holds.
func ParseAt(s string) (at time.Time, latest bool, err error) {
	if strings.EqualFold(s, "latest") {
		return time.Time{}, true, nil
	}
	at, err = time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return at, false, fmt.Errorf("%q is not an instant: give an RFC 3339 time such as 2026-03-01T12:00:00Z (or with +02:00), or latest", s)
	}
	return at, false, nil
}

// RestorableAt returns an Opener for a flowg file of database db as it was
// at instant at (or, with latest, at the newest instant its journal
// covers): the chain's base set, then every change of the journal up to
// that instant, replayed into a scratch database under tmpDir and dumped.
// Every segment used is read whole and checked. The caller calls cleanup
// when done with the Opener.
func (c *Catalog) RestorableAt(ctx context.Context, db string, at time.Time, latest bool, tmpDir string) (Opener, func(), PointInTime, error) {
	r, p, err := c.RebuildAt(ctx, db, at, latest, tmpDir, "")
	if err != nil {
		return nil, nil, p, err
	}
	path, err := r.dump(ctx)
	if err != nil {
		r.Cleanup()
		return nil, nil, p, err
	}
	return FileOpener(path), r.Cleanup, p, nil
}

// pickChain returns the newest chain covering at (the newest chain, for
// latest), or an error naming what the journal covers.
func pickChain(chains []chainState, db string, at time.Time, latest bool) (chainState, error) {
	if len(chains) == 0 {
		return chainState{}, fmt.Errorf("%w: the catalog holds no journal of the %s database (start the server with --backup-continuous)", ErrNotCovered, db)
	}
	if latest {
		return chains[len(chains)-1], nil
	}
	for i := len(chains) - 1; i >= 0; i-- {
		if ch := chains[i]; !at.Before(ch.start()) && !at.After(ch.end()) {
			return ch, nil
		}
	}
	windows := make([]string, 0, len(chains))
	for _, ch := range chains {
		windows = append(windows, fmt.Sprintf("%s to %s", ch.start().Format(time.RFC3339Nano), ch.end().Format(time.RFC3339Nano)))
	}
	msg := fmt.Sprintf("%s is outside what the journal of the %s database can restore: %s", at.UTC().Format(time.RFC3339Nano), db, strings.Join(windows, ", "))
	if last := chains[len(chains)-1]; at.After(last.end()) && last.problem != "" {
		msg += fmt.Sprintf("; its newest chain stops at %s: %s", last.end().Format(time.RFC3339Nano), last.problem)
	}
	return chainState{}, fmt.Errorf("%w: %s", ErrNotCovered, msg)
}

// replay rebuilds the state at at in a scratch database at scratch (which
// must not exist), from the newest set the chain can start from (see
// baseFor, read with work for its scratch files) and the segments after it.
func (c *Catalog) replay(ctx context.Context, ch chainState, at time.Time, work, scratch string, p *PointInTime, r *Rebuilt) error {
	baseID, baseTs := c.baseFor(ch, at)
	p.BaseSet = baseID
	base, done, err := c.Restorable(ctx, baseID, ch.Database, work)
	if err != nil {
		return fmt.Errorf("journal chain %s of %s: its base set: %w", ch.ID, ch.Database, err)
	}
	built, err := BuildWipeFrom(ctx, scratch, base, RestoreOptions{Database: ch.Database})
	done()
	if err != nil {
		return fmt.Errorf("journal chain %s of %s: base set %s: %w", ch.ID, ch.Database, baseID, err)
	}
	r.Expired = built.Expired
	sdb, err := kv.Open(scratch, kv.OpenOptions{})
	if err != nil {
		return err
	}
	if err := c.applyJournal(ctx, sdb, ch, at, baseTs, p, r); err != nil {
		sdb.Close()
		return err
	}
	return sdb.Close()
}

// applyJournal writes into sdb, rebuilt from a set read at baseTs, every
// change of chain ch after it up to at.
func (c *Catalog) applyJournal(ctx context.Context, sdb *badger.DB, ch chainState, at time.Time, baseTs uint64, p *PointInTime, r *Rebuilt) error {
	var err error
	p.Version, p.deleted = baseTs, map[string]bool{}
	for _, seg := range ch.segs {
		if !seg.from.Before(at) {
			break
		}
		if seg.upTo <= baseTs {
			continue // all in the base set
		}
		if err := applySegment(ctx, sdb, ch, seg, at, baseTs, c.keys.Identities, p); err != nil {
			return fmt.Errorf("%w; the newest instant the %s database can be restored to is %s", err, ch.Database, seg.from.Format(time.RFC3339Nano))
		}
	}
	if p.Deleted, err = stillDeleted(sdb, p.deleted); err != nil {
		return err
	}
	r.Keys, err = countKeys(sdb)
	return err
}

// baseFor returns the set a restore of chain ch to at starts from, and its
// read timestamp: the usable set of the chain's database, in its epoch,
// read at the newest version that is both at or above the chain's base and
// surely captured by at (at or below the first version of the segment
// holding at), so fewer segments are replayed; the chain's base set when
// there is none.
func (c *Catalog) baseFor(ch chainState, at time.Time) (string, uint64) {
	limit := ch.upTo()
	for _, seg := range ch.segs {
		if at.Before(seg.to) {
			limit = seg.since
			break
		}
	}
	id, ts := ch.BaseSet, ch.BaseReadTs
	sets, err := c.List(context.Background())
	if err != nil {
		return id, ts
	}
	for _, s := range sets {
		entry, ok := s.Databases[ch.Database]
		if ok && usable(s) && entry.Format != FormatBadger && entry.Epoch == ch.Epoch &&
			entry.ReadTs > ts && entry.ReadTs <= limit && !entry.Created.After(at) {
			id, ts = s.ID, entry.ReadTs
		}
	}
	return id, ts
}

// applySegment checks a segment whole, finds the newest version it
// captured by at, and writes its changes up to that version into db.
func applySegment(ctx context.Context, db *badger.DB, ch chainState, seg segmentName, at time.Time, baseTs uint64, ids []age.Identity, p *PointInTime) error {
	where := fmt.Sprintf("journal chain %s of %s, segment %s", ch.ID, ch.Database, seg)
	cutoff := seg.upTo
	if at.Before(seg.to) {
		cutoff = seg.since
		err := ch.each(ctx, seg, ids, func(o *op, m *mark) error {
			if m != nil && !m.time.After(at) {
				cutoff = max(cutoff, m.version)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	} else if err := ch.each(ctx, seg, ids, func(*op, *mark) error { return nil }); err != nil {
		return fmt.Errorf("%s: %w", where, err) // checked whole before it is applied
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	err := ch.each(ctx, seg, ids, func(o *op, _ *mark) error {
		if o == nil || o.version > cutoff || o.version <= baseTs {
			return nil
		}
		p.Changes++
		if o.deleted {
			p.deleted[string(o.key)] = true
			return wb.Delete(append([]byte(nil), o.key...))
		}
		e := badger.NewEntry(append([]byte(nil), o.key...), append([]byte(nil), o.value...)).WithMeta(o.userMeta)
		e.ExpiresAt = o.expiresAt
		return wb.SetEntry(e)
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	p.Segments++
	p.Version = max(p.Version, cutoff)
	return nil
}

// eachInSegment reads a segment to its end, handing each change or mark to fn.
func eachInSegment(ctx context.Context, path, db string, seg segmentName, ids []age.Identity, fn func(*op, *mark) error) error {
	stored, size, err := openFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrMissingFile) {
			return fmt.Errorf("%w: the segment is missing", ErrMissingFile)
		}
		return err
	}
	return eachInStored(ctx, stored, size, db, seg, ids, fn)
}

// eachInStored is eachInSegment on a segment already opened, which it closes.
func eachInStored(ctx context.Context, stored io.ReadCloser, size int64, db string, seg segmentName, ids []age.Identity, fn func(*op, *mark) error) error {
	sr, closeFn, err := openSegmentFrom(stored, size, db, seg, ids)
	if err != nil {
		return err
	}
	defer closeFn()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, m, err := sr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(o, m); err != nil {
			return err
		}
	}
}

// stillDeleted returns, sorted, the keys of deleted that db does not hold.
func stillDeleted(db *badger.DB, deleted map[string]bool) ([][]byte, error) {
	var out [][]byte
	err := db.View(func(txn *badger.Txn) error {
		for key := range deleted {
			_, err := txn.Get([]byte(key))
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				out = append(out, []byte(key))
			case err != nil:
				return err
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out, err
}

// DeleteKeys deletes keys from db (a merge restore --at: the keys deleted
// between the base set and the instant) and returns how many it held.
func DeleteKeys(db *badger.DB, keys [][]byte) (int, error) {
	held := 0
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	err := db.View(func(txn *badger.Txn) error {
		for _, key := range keys {
			if _, err := txn.Get(key); errors.Is(err, badger.ErrKeyNotFound) {
				continue
			} else if err != nil {
				return err
			}
			held++
			if err := wb.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return held, fmt.Errorf("delete the keys deleted before the instant: %w", err)
	}
	return held, nil
}
