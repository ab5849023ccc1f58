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

// ErrTooManyStreams is returned by Store.AcquireStream when the database
// already serves StreamLimits.Max streams; the caller should retry once one
// has ended.
var ErrTooManyStreams = errors.New("too many backup streams of this database are running")

// ErrStreamCut is the cause a stream's cut is given when a wipe of its
// database waited StreamLimits.WipeGrace for it.
var ErrStreamCut = errors.New("cut: a wipe restore of the database waited its grace period for this stream")

// Defaults of StreamLimits, the defaults of flowg serve --max-backup-streams
// and --wipe-grace.
const (
	// DefaultMaxStreams is how many backup streams of one database may run
	// at once: each holds its database and some memory for as long as its
	// client reads (see backup's framesUnderWay), so eight slow clients
	// once took a server from 549 MB to 3.15 GB of RSS.
	DefaultMaxStreams = 2
	// DefaultWipeGrace is how long a wipe waits for the streams of its
	// database before it cuts them: a client reading at 100 KB/s held a
	// wipe, and every request to that database, for 31 s.
	DefaultWipeGrace = 5 * time.Second
)

// DB is an open database as the doors hold it: a handle they pass to the
// use cases and stores below them (backup, auth, export, restore), never a
// thing they read or write themselves. An alias, so the doors need not
// import Badger to name it.
type DB = badger.DB

// StreamLimits bound the streams of each database (Store.AcquireStream).
type StreamLimits struct {
	// Max is how many streams of one database may run at once; more get
	// ErrTooManyStreams. Less than 1: no limit.
	Max int
	// WipeGrace is how long Exclusive waits for streams of its database
	// before it cuts them; 0 cuts them at once.
	WipeGrace time.Duration
}

// Store holds the three open databases of a running server, each behind a
// Gate so one can be swapped for a restored copy while the others serve.
// A Store is safe for concurrent use.
type Store struct {
	dirs    Dirs
	dbs     map[Name]*entry
	streams StreamLimits
}

type entry struct {
	gate      Gate
	restoring sync.Mutex // held by any restore of this database, merge or wipe
	db        *badger.DB // replaced only while gate is held exclusively
}

// OpenStore opens the three databases read-write, creating them if needed,
// with the default StreamLimits. The caller must Close the store.
func OpenStore(dirs Dirs) (*Store, error) {
	s := &Store{dirs: dirs, dbs: map[Name]*entry{}, streams: StreamLimits{Max: DefaultMaxStreams, WipeGrace: DefaultWipeGrace}}
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

// StreamLimits returns the store's StreamLimits.
func (s *Store) StreamLimits() StreamLimits { return s.streams }

// SetStreamLimits replaces the store's StreamLimits. Call it before the
// store is used.
func (s *Store) SetStreamLimits(l StreamLimits) { s.streams = l }

// AcquireStream is Acquire for a stream that lasts as long as its client
// reads (an online backup): it returns ErrTooManyStreams when n already
// serves StreamLimits.Max streams, and a wipe of n that has waited
// StreamLimits.WipeGrace for it calls cut (see Gate.EnterStream: at most
// once, never after release, and it must return at once), after which the
// stream should end and release n.
func (s *Store) AcquireStream(n Name, cut func()) (db *badger.DB, release func(), err error) {
	e := s.dbs[n]
	leave, err := e.gate.EnterStream(s.streams.Max, cut)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", n, err)
	}
	if e.db == nil {
		leave()
		return nil, nil, fmt.Errorf("%s: %w (it could not be reopened after a restore; see the server log)", n, ErrUnavailable)
	}
	return e.db, leave, nil
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
// get ErrUnavailable meanwhile, the other databases keep serving. It waits
// for the requests using n to end; streams of n (AcquireStream) still
// running after StreamLimits.WipeGrace are cut, so a slow client cannot
// hold n for longer. If fn
// returns the directory of a new database, n is closed, the new directory is
// swapped in (SwapDir, the old one kept at dir.before-restore-<time>) and n
// reopened; Exclusive then returns where the old database was put.
func (s *Store) Exclusive(ctx context.Context, n Name, fn func(db *badger.DB) (staged string, err error)) (string, error) {
	e := s.dbs[n]
	if err := e.gate.LockCutting(ctx, s.streams.WipeGrace); err != nil {
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
