package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// ctxEvery is how many keys an export reads between two checks of its ctx.
const ctxEvery = 1024

// ExportDB writes the items of db, the database called name, to w as JSON
// lines, in key order, from one read timestamp: writes that go on meanwhile
// are not seen. It stops with ctx.Err() if ctx ends; what was written until
// then is a partial export (the caller writes to a temporary file, or cuts
// the connection). Keys flowg keeps for itself are never read.
func ExportDB(ctx context.Context, name kv.Name, db *badger.DB, w io.Writer, opts Options) (Summary, error) {
	lw := newLineWriter(w, opts)
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); {
			if n++; n%ctxEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			item := it.Item()
			if name == kv.Logs {
				if target := opts.skipTo(item.Key()); target != nil {
					it.Seek(target)
					continue
				}
			}
			if err := lw.item(name, item); err != nil {
				return err
			}
			it.Next() // only now: it reuses the item
		}
		return nil
	})
	sum, ferr := lw.finish()
	return sum, errors.Join(err, ferr)
}

// item writes the line of one item of a Badger iterator, unless its key is
// reserved.
func (w *lineWriter) item(name kv.Name, item *badger.Item) error {
	key := item.Key()
	if isReserved(key) {
		return nil
	}
	val, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read %q: %w", key, err)
	}
	if err := w.entry(name, key, val, item.ExpiresAt()); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	return nil
}

// ExportBackup writes the items of the backup file read by r to w as JSON
// lines, in the file's key order. The file's frames are checked as they are
// read, but the file as a whole only at its end: a file found bad midway
// fails the export after part of it was written, so callers write to a
// temporary file and keep it only when ExportBackup succeeds. The database
// is the one the file's header names; a raw Badger stream, which names
// none, needs db.
func ExportBackup(ctx context.Context, r *backup.Reader, db kv.Name, w io.Writer, opts Options) (Summary, error) {
	if h := r.Header(); !h.Raw {
		n, err := kv.ParseName(h.Database)
		if err != nil {
			return Summary{}, fmt.Errorf("backup header: %w", err)
		}
		db = n
	}
	if db == "" {
		return Summary{}, fmt.Errorf("%w: a raw Badger stream does not say which database it holds", ErrUnknownDatabase)
	}
	lw := newLineWriter(w, opts)
	for {
		if err := ctx.Err(); err != nil {
			return lw.sum, err
		}
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return lw.finish()
		}
		if err != nil {
			return lw.sum, fmt.Errorf("read backup: %w", err)
		}
		for _, e := range kvs {
			if isReserved(e.Key) {
				continue
			}
			if err := lw.entry(db, e.Key, e.Value, e.ExpiresAt); err != nil {
				return lw.sum, fmt.Errorf("export %s: %w", db, err)
			}
		}
	}
}

// skipTo returns where a scan of the logs database at key should go on
// when the record there and the ones after it in its stream are filtered
// out: past the stream, or to Since; nil to read key. Every target sorts
// after key, so a scan that seeks to it always advances.
func (o Options) skipTo(key []byte) []byte {
	if len(o.Streams) == 0 && o.Since.IsZero() && o.Until.IsZero() {
		return nil
	}
	stream, t, ok := logstore.RecordKeyStream(key)
	switch {
	case !ok:
		return nil
	case !o.keepStream(stream), !o.Until.IsZero() && !t.Before(o.Until):
		return logstore.AfterStreamKey(stream)
	case !o.Since.IsZero() && t.Before(o.Since):
		return logstore.StreamTimeKey(stream, o.Since)
	}
	return nil
}

// isReserved reports whether key is one flowg keeps for itself.
func isReserved(key []byte) bool {
	return len(key) >= len(kv.ReservedPrefix) && string(key[:len(kv.ReservedPrefix)]) == kv.ReservedPrefix
}
