package logstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Store keeps the log records and stream configurations of the logs
// database. It does not own the database: the caller opens it (kv.Open) and
// closes it after the last call. A Store is safe for concurrent use; appends
// never conflict with one another, because every record gets a key of its
// own and an append reads nothing in its write transaction.
type Store struct {
	db  *badger.DB
	now func() time.Time
}

// New returns a Store over db, the logs database. now gives the timestamp of
// appended records and the start of their TTL; nil means time.Now. Badger
// itself decides expiry by the real clock.
func New(db *badger.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// Append writes records to stream, each under the timestamp the store's clock
// reads once for the call and a sequence number that keeps them in the given
// order, and returns them as stored. A field named "timestamp" is replaced by
// that time. When the stream has a TTL, each record expires TTL after the
// timestamp.
//
// Every record is encoded before anything is written, so an unencodable or
// oversized record fails the whole call with nothing written. The records are
// written in one Badger transaction, or in several when one would exceed
// Badger's transaction size; then an error after the first commit leaves the
// records before it written, and Append returns those with the error. Append
// returns once the transactions are committed (fsynced only if the database
// was opened with SyncWrites).
func (s *Store) Append(stream string, records []map[string]any) ([]Record, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(records))
	if len(records) == 0 {
		return out, nil
	}
	cfg, err := s.StreamConfig(stream)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", stream, err)
	}
	now := s.now()
	ts, ok := unixNanos(now)
	if !ok {
		return nil, fmt.Errorf("append to %s: clock reads %s: %w", stream, now, ErrClock)
	}
	now = time.Unix(0, int64(ts)).UTC()

	var exp uint64
	if cfg.TTL > 0 {
		// A clock set before 1970 would give a negative expiry, which Badger
		// would read as never; 1 means already expired.
		exp = uint64(max(now.Add(cfg.TTL).Unix(), 1))
	}

	entries := make([]*badger.Entry, len(records))
	for i, fields := range records {
		val, err := encodeRecord(fields, now)
		if err != nil {
			return nil, fmt.Errorf("append to %s: record %d: %w", stream, i, err)
		}
		e := badger.NewEntry(recordKey(stream, ts, seq.Add(1)), val)
		e.ExpiresAt = exp
		entries[i] = e
		out = append(out, Record{Timestamp: now, Fields: userFields(fields), ExpiresAt: expiresAt(exp)})
	}

	written, err := s.write(entries)
	if err != nil {
		return out[:written], fmt.Errorf("append to %s: %d of %d records written: %w", stream, written, len(entries), err)
	}
	return out, nil
}

// write commits entries in as few transactions as Badger allows and returns
// how many of them are committed.
func (s *Store) write(entries []*badger.Entry) (int, error) {
	committed := 0
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for i := 0; i < len(entries); i++ {
		err := txn.SetEntry(entries[i])
		if errors.Is(err, badger.ErrTxnTooBig) && i > committed {
			if err := txn.Commit(); err != nil {
				return committed, err
			}
			committed = i
			txn = s.db.NewTransaction(true)
			err = txn.SetEntry(entries[i])
		}
		if err != nil {
			return committed, err
		}
	}
	if err := txn.Commit(); err != nil {
		return committed, err
	}
	return len(entries), nil
}
