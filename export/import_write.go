package export

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// batch collects items and compares them with, then writes them into,
// their databases.
type batch struct {
	dbs   map[kv.Name]*badger.DB
	opts  ImportOptions
	res   *Result
	items []item
	// beforeWrite is called once per database before its first write.
	beforeWrite func(kv.Name, *badger.DB) error
	written     map[kv.Name]bool
}

// flush compares the collected items with what is stored, counts them and,
// unless DryRun, writes those that differ.
func (b *batch) flush() error {
	for _, n := range kv.Names {
		var mine []item
		for _, it := range b.items {
			if it.db == n {
				mine = append(mine, it)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if err := b.flushDB(n, b.dbs[n], mine); err != nil {
			if StageOf(err) != "" {
				return err // of beforeWrite: it says what it is
			}
			return fmt.Errorf("import into %s: %w", n, err)
		}
	}
	b.items = b.items[:0]
	return nil
}

type write struct {
	key, val []byte
	expires  uint64
}

func (b *batch) flushDB(n kv.Name, db *badger.DB, items []item) error {
	var writes []write
	now := uint64(b.opts.Now.Unix())
	err := db.View(func(txn *badger.Txn) error {
		for _, it := range items {
			counts := b.res.Changes[it.kind]
			if it.expires != 0 && it.expires <= now {
				counts.Expired++
				continue
			}
			var existing []byte
			var existingExp uint64
			found := false
			stored, err := txn.Get(it.key)
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
			case err != nil:
				return fmt.Errorf("read %q: %w", it.key, err)
			default:
				found, existingExp = true, stored.ExpiresAt()
				if existing, err = stored.ValueCopy(nil); err != nil {
					return fmt.Errorf("read %q: %w", it.key, err)
				}
			}
			val, err := it.value(existing)
			if err != nil {
				return err
			}
			switch {
			case !found:
				counts.add(it.name)
				if it.user != nil && it.user.PasswordHash == "" && len(b.res.NoPassword) < MaxNames {
					b.res.NoPassword = append(b.res.NoPassword, it.name)
				}
			case bytes.Equal(val, existing) && existingExp == it.expires:
				counts.Unchanged++
				continue
			default:
				counts.overwrite(it.name)
			}
			writes = append(writes, write{key: it.key, val: val, expires: it.expires})
		}
		return nil
	})
	if err != nil || b.opts.DryRun || len(writes) == 0 {
		return err
	}
	if !b.written[n] {
		if b.beforeWrite != nil {
			if err := b.beforeWrite(n, db); err != nil {
				return err
			}
		}
		b.written[n] = true
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, w := range writes {
		e := badger.NewEntry(w.key, w.val)
		e.ExpiresAt = w.expires
		if err := wb.SetEntry(e); err != nil {
			return fmt.Errorf("write %q: %w", w.key, err)
		}
	}
	return wb.Flush()
}
