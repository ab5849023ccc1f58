package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// A wipe restore of a logs backup that left streams out (--exclude-stream)
// keeps those streams' current records and configuration: it never deletes
// what the backup did not look at. This is the one exception to "a wipe
// leaves exactly the backup".

// keepStreams copies every key of the streams matching patterns from the
// closed database in dir, if there is one, into the closed database in
// staged, with its expiry and meta. It returns how many keys it copied.
func keepStreams(dir, staged string, patterns []string) (uint64, error) {
	if len(patterns) == 0 {
		return 0, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); errors.Is(err, os.ErrNotExist) {
		return 0, nil // no database there: nothing to keep
	}
	// The caller holds dir closed and locked (kv.LockDir) for the restore.
	from, err := kv.Open(dir, kv.OpenOptions{ReadOnly: true, Locked: true})
	if err != nil {
		return 0, fmt.Errorf("read the streams left out of the backup from %s: %w", dir, err)
	}
	defer from.Close()
	to, err := kv.Open(staged, kv.OpenOptions{})
	if err != nil {
		return 0, err
	}
	n, err := copyStreams(from, to, patterns)
	if cerr := to.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return n, err
}

// KeepStreamsDir is KeepStreamsFrom reading the closed database in dir,
// which the caller holds (kv.LockDir), if there is one.
func KeepStreamsDir(dir, staged string, patterns []string) (string, error) {
	n, err := keepStreams(dir, staged, patterns)
	return keptNote(patterns, n), err
}

func copyStreams(from, to *badger.DB, patterns []string) (uint64, error) {
	skip := streamSkipper(patterns) // true: a key of a stream to keep
	wb := to.NewWriteBatch()
	defer wb.Cancel()
	var n uint64
	err := from.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if reserved(item.Key()) || !skip(item.Key()) {
				continue
			}
			val, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			e := badger.NewEntry(item.KeyCopy(nil), val).WithMeta(item.UserMeta())
			e.ExpiresAt = item.ExpiresAt()
			if err := wb.SetEntry(e); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, wb.Flush()
}

// KeepStreamsFrom copies the keys of the streams matching patterns from
// from (a database the caller holds exclusively) into the closed database
// in staged, built by BuildWipeFrom, before it is swapped in. It returns
// the note saying what was kept.
func KeepStreamsFrom(from *badger.DB, staged string, patterns []string) (string, error) {
	to, err := kv.Open(staged, kv.OpenOptions{})
	if err != nil {
		return "", err
	}
	n, err := copyStreams(from, to, patterns)
	if cerr := to.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return keptNote(patterns, n), err
}

// keptNote is the warning of a wipe restore that kept streams.
func keptNote(patterns []string, n uint64) string {
	return fmt.Sprintf("streams matching %s were left out of this backup (--exclude-stream): the wipe kept their current data (%d keys) instead of deleting it",
		strings.Join(patterns, ", "), n)
}
