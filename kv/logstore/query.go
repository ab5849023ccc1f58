package logstore

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// Query limits.
const (
	// DefaultLimit is how many records Query returns when limit is 0.
	DefaultLimit = 1000
	// MaxLimit is the most records one Query returns; a larger limit is
	// lowered to it.
	MaxLimit = 10000
)

// Query returns the records of stream with from <= timestamp < to, oldest
// first, at most limit of them (DefaultLimit when 0, at most MaxLimit). A
// zero from or to leaves that end open. Expired records are never returned.
// An unknown stream gives an empty, non-nil slice. The records come from one
// consistent snapshot of the database; to page on, query again from the
// last timestamp returned plus one nanosecond, or with a larger limit when
// many records share that timestamp.
func (s *Store) Query(stream string, from, to time.Time, limit int) ([]Record, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	switch {
	case limit < 0:
		return nil, fmt.Errorf("query %s: limit %d: %w: use 0 for the default or a positive number", stream, limit, ErrInvalidLimit)
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, fmt.Errorf("query %s: to %s is before from %s: %w", stream,
			to.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano), ErrInvalidRange)
	}

	out := []Record{}
	p := streamLogPrefix(stream)
	start := p
	if !from.IsZero() {
		if from.After(maxTime) {
			return out, nil
		}
		if ns, ok := unixNanos(from); ok {
			start = timeKey(stream, ns)
		}
	}
	var end []byte
	if !to.IsZero() {
		if !to.After(minTime) {
			return out, nil
		}
		if ns, ok := unixNanos(to); ok {
			end = timeKey(stream, ns)
		}
	}

	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = p
		opts.PrefetchSize = min(limit, opts.PrefetchSize)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(start); it.ValidForPrefix(p) && len(out) < limit; it.Next() {
			item := it.Item()
			k := item.Key()
			if end != nil && bytes.Compare(k, end) >= 0 {
				break
			}
			ts, err := splitRecordKey(k, p)
			if err != nil {
				return err
			}
			var fields map[string]any
			if err := item.Value(func(val []byte) error {
				fields, err = decodeFields(val)
				return err
			}); err != nil {
				return fmt.Errorf("record at %s: %w", ts.Format(time.RFC3339Nano), err)
			}
			out = append(out, Record{Timestamp: ts, Fields: fields, ExpiresAt: expiresAt(item.ExpiresAt())})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", stream, err)
	}
	return out, nil
}

// ListStreams returns the names of the streams that hold unexpired records or
// have a configuration, sorted bytewise ascending, as a non-nil slice. It
// visits one key per stream, not every record.
func (s *Store) ListStreams() ([]string, error) {
	seen := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()

		lp := []byte(logPrefix)
		for it.Seek(lp); it.ValidForPrefix(lp); {
			rest := string(it.Item().Key()[len(lp):])
			name, _, ok := strings.Cut(rest, "/")
			if !ok || !kv.ValidKeyName(name) {
				it.Next()
				continue
			}
			seen[name] = true
			// '0' is the byte after '/', so this lands past every key of
			// this stream and on the first key of the next one.
			it.Seek([]byte(logPrefix + name + "0"))
		}

		sp := []byte(streamPrefix)
		for it.Seek(sp); it.ValidForPrefix(sp); it.Next() {
			if name := string(it.Item().Key()[len(sp):]); kv.ValidKeyName(name) {
				seen[name] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
