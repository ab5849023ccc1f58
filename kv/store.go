package kv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrUnavailable is returned by Store.Acquire while a database is being
// wiped and reloaded; the caller should retry shortly.
var ErrUnavailable = errors.New("database is being restored")

// ErrBusy is returned when a restore of the same database is already running.
var ErrBusy = errors.New("a restore of this database is already running")

// Store holds the three open databases of a running server, each behind a
// Gate so one can be swapped for a restored copy while the others serve.
// A Store is safe for concurrent use.
type Store struct {
	dirs Dirs
	dbs  map[Name]*entry
}

type entry struct {
	gate      Gate
	restoring sync.Mutex // held by any restore of this database, merge or wipe
	db        *badger.DB // replaced only while gate is held exclusively
}

// OpenStore opens the three databases read-write, creating them if needed.
// The caller must Close the store.
func OpenStore(dirs Dirs) (*Store, error) {
	s := &Store{dirs: dirs, dbs: map[Name]*entry{}}
	for _, name := range Names {
		db, err := Open(dirs.Of(name), OpenOptions{})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s database: %w", name, err)
		}
		s.dbs[name] = &entry{db: db}
	}
	return s, nil
}

// Dirs returns the directories of the databases.
func (s *Store) Dirs() Dirs { return s.dirs }

// Acquire returns the open database n for one request. The caller must call
// release when done with db, and must not keep db after. While n is being
// wiped and reloaded it returns ErrUnavailable at once.
func (s *Store) Acquire(n Name) (db *badger.DB, release func(), err error) {
	e := s.dbs[n]
	if !e.gate.Enter() {
		return nil, nil, fmt.Errorf("%s: %w", n, ErrUnavailable)
	}
	if e.db == nil {
		e.gate.Leave()
		return nil, nil, fmt.Errorf("%s: %w (it could not be reopened after a restore; see the server log)", n, ErrUnavailable)
	}
	return e.db, e.gate.Leave, nil
}

// BeginRestore marks a restore of n as running; it returns ErrBusy if one
// already is. The caller must call end when the restore is over.
func (s *Store) BeginRestore(n Name) (end func(), err error) {
	e := s.dbs[n]
	if !e.restoring.TryLock() {
		return nil, fmt.Errorf("%s: %w", n, ErrBusy)
	}
	return e.restoring.Unlock, nil
}

// Exclusive runs fn with database n while no request uses it: requests to n
// get ErrUnavailable meanwhile, the other databases keep serving. If fn
// returns the directory of a new database, n is closed, the new directory is
// swapped in (SwapDir, the old one kept at dir.before-restore-<time>) and n
// reopened; Exclusive then returns where the old database was put.
func (s *Store) Exclusive(ctx context.Context, n Name, fn func(db *badger.DB) (staged string, err error)) (string, error) {
	e := s.dbs[n]
	if err := e.gate.Lock(ctx); err != nil {
		return "", fmt.Errorf("%s: %w", n, err)
	}
	defer e.gate.Unlock()
	staged, err := fn(e.db)
	if err != nil || staged == "" {
		return "", err
	}
	dir := s.dirs.Of(n)
	if err := e.db.Close(); err != nil {
		return "", fmt.Errorf("close %s database: %w", n, err)
	}
	aside, swapErr := SwapDir(dir, staged, SiblingName(dir, "before-restore", time.Now()))
	db, err := Open(dir, OpenOptions{})
	if err != nil {
		// The directory holds the old or the new database whole, but nothing
		// can serve it now: requests get ErrUnavailable rather than a guess.
		e.db = nil
		return aside, errors.Join(swapErr, fmt.Errorf("reopen %s database: %w", n, err))
	}
	e.db = db
	return aside, swapErr
}

// Close closes every open database.
func (s *Store) Close() error {
	var errs []error
	for _, name := range Names {
		if e := s.dbs[name]; e != nil && e.db != nil {
			errs = append(errs, e.db.Close())
			e.db = nil
		}
	}
	return errors.Join(errs...)
}
