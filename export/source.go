package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
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
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%ctxEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			item := it.Item()
			key := item.Key()
			if isReserved(key) {
				continue
			}
			val, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("read %q: %w", key, err)
			}
			if err := lw.entry(name, key, val, item.ExpiresAt()); err != nil {
				return fmt.Errorf("export %s: %w", name, err)
			}
		}
		return nil
	})
	sum, ferr := lw.finish()
	return sum, errors.Join(err, ferr)
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

// isReserved reports whether key is one flowg keeps for itself.
func isReserved(key []byte) bool {
	return len(key) >= len(kv.ReservedPrefix) && string(key[:len(kv.ReservedPrefix)]) == kv.ReservedPrefix
}
