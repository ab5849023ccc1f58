package docs

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// MaxBodySize is the largest document body Put accepts: 1 MiB.
const MaxBodySize = 1 << 20

// conflictRetries bounds how often a read-then-write transaction is retried
// when a concurrent writer touched the same key.
const conflictRetries = 5

// Store keeps the config documents in one Badger database. It does not own
// the database: the caller opens it (kv.Open) and closes it after the last
// call. A Store is safe for concurrent use.
type Store struct {
	db *badger.DB
}

// New returns a Store over db, the config database.
func New(db *badger.DB) *Store {
	return &Store{db: db}
}

// key returns the database key of a document: "<kind>/<name>".
func key(kind Kind, name string) []byte {
	return []byte(string(kind) + "/" + name)
}

// prefix returns the key prefix shared by every document of kind.
func prefix(kind Kind) []byte {
	return []byte(string(kind) + "/")
}

// Put creates or replaces the document kind/name with body, which the store
// does not interpret (JSON or text). It returns once the write is committed.
// An invalid kind, name or an oversized body is refused before anything is
// written.
func (s *Store) Put(kind Kind, name string, body []byte) error {
	k, err := Entry(kind, name, body)
	if err != nil {
		return err
	}
	val := append([]byte(nil), body...)
	err = s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(k, val)
	})
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", kind, name, err)
	}
	return nil
}

// Get returns a copy of the body of kind/name, or an error wrapping
// ErrNotFound when there is none.
func (s *Store) Get(kind Kind, name string) ([]byte, error) {
	if err := check(kind, name); err != nil {
		return nil, err
	}
	var body []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key(kind, name))
		if err != nil {
			return err
		}
		body, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("get %s/%s: %w", kind, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kind, name, err)
	}
	if body == nil {
		body = []byte{}
	}
	return body, nil
}

// List returns the names of every document of kind, sorted bytewise
// ascending. A kind without documents gives an empty, non-nil slice.
func (s *Store) List(kind Kind) ([]string, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	names := []string{}
	p := prefix(kind)
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		// Badger iterates in key order, so the names come out sorted.
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			names = append(names, string(it.Item().Key()[len(p):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return names, nil
}

// Delete removes the document kind/name, or returns an error wrapping
// ErrNotFound when there is none. It returns once the delete is committed.
func (s *Store) Delete(kind Kind, name string) error {
	if err := check(kind, name); err != nil {
		return err
	}
	k := key(kind, name)
	var err error
	for range conflictRetries {
		err = s.db.Update(func(txn *badger.Txn) error {
			if _, err := txn.Get(k); err != nil {
				return err
			}
			return txn.Delete(k)
		})
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("delete %s/%s: %w", kind, name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", kind, name, err)
	}
	return nil
}

// check validates a kind and a name together.
func check(kind Kind, name string) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	return checkName(name)
}
