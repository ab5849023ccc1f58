package restore

import (
	"context"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Served are the databases a running server holds (kv.Store): a merge
// writes through transactions beside the server's requests; a wipe holds
// the database exclusively (its requests get kv.ErrUnavailable, a 503,
// meanwhile), takes the safety snapshot, builds and swaps.
type Served struct {
	Store *kv.Store
	// Busy words the kv.ErrBusy of a database already being restored.
	Busy func(n kv.Name, err error) error
	// Acquire takes a database for one use (the server's mapping of
	// kv.ErrUnavailable).
	Acquire func(n kv.Name) (*badger.DB, func(), error)
	// WriteContext is the context writes run under: a client that goes
	// away must not cut a merge short.
	WriteContext func(ctx context.Context) (context.Context, context.CancelFunc)
	// BeforeWrite, when set, runs just before a database is written (tests).
	BeforeWrite func(n kv.Name, wipe bool)
	// UndoText and Location word Undo and SetLocation for the server's
	// users.
	UndoText func(Undo) string
	Location func(id string) string
}

// Traits: a wipe takes a safety snapshot; merges share the databases.
func (s *Served) Traits() Traits { return Traits{WipeSnapshots: true} }

func (s *Served) Dir(n kv.Name) string { return s.Store.Dirs().Of(n) }

// Hold marks a restore of each database as running, or of none.
func (s *Served) Hold(names []kv.Name) (func(), error) {
	var ends []func()
	release := func() {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i]()
		}
	}
	for _, n := range names {
		end, err := s.Store.BeginRestore(n)
		if err != nil {
			release()
			return nil, s.Busy(n, err)
		}
		ends = append(ends, end)
	}
	return release, nil
}

func (s *Served) View(_ context.Context, n kv.Name, fn func(*badger.DB) error) error {
	db, release, err := s.Acquire(n)
	if err != nil {
		return err
	}
	defer release()
	return fn(db)
}

func (s *Served) Write(ctx context.Context, names []kv.Name, fn func(context.Context, map[kv.Name]*badger.DB) error) error {
	dbs := map[kv.Name]*badger.DB{}
	for _, n := range names {
		db, release, err := s.Acquire(n)
		if err != nil {
			return err
		}
		defer release()
		dbs[n] = db
	}
	for _, n := range names {
		if s.BeforeWrite != nil {
			s.BeforeWrite(n, false)
		}
	}
	wctx, cancel := s.WriteContext(ctx)
	defer cancel()
	return fn(wctx, dbs)
}

func (s *Served) Wipe(ctx context.Context, n kv.Name, build func(context.Context, *badger.DB, string) error) (string, error) {
	return s.Store.Exclusive(ctx, n, func(db *badger.DB) (string, error) {
		if s.BeforeWrite != nil {
			s.BeforeWrite(n, true)
		}
		staged := kv.SiblingName(s.Dir(n), "restore-staging", time.Now())
		if err := build(ctx, db, staged); err != nil {
			return "", err
		}
		return staged, nil
	})
}

func (s *Served) Undo(u Undo) string           { return s.UndoText(u) }
func (s *Served) SetLocation(id string) string { return s.Location(id) }
