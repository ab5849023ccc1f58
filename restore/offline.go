package restore

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Offline are the databases of a stopped server: each directory locked
// (kv.LockDir) from Hold until the restore ends, so no server opens one
// that is about to be replaced or that a restore left halfway; a rebuilt
// database is locked too before it is swapped in.
type Offline struct {
	dirs       kv.Dirs
	catalogDir string
	stamp      time.Time
	unlocks    []func()
	open       map[kv.Name]*badger.DB
}

// NewOffline returns the databases in dirs; catalogDir is the catalog the
// safety snapshots go to, named in the undo command.
func NewOffline(dirs kv.Dirs, catalogDir string) *Offline {
	return &Offline{dirs: dirs, catalogDir: catalogDir, stamp: time.Now().UTC(), open: map[kv.Name]*badger.DB{}}
}

// Traits: nothing else uses the databases; a wipe keeps the previous
// directory rather than a safety snapshot.
func (o *Offline) Traits() Traits { return Traits{Exclusive: true} }

func (o *Offline) Dir(n kv.Name) string { return o.dirs.Of(n) }

func (o *Offline) hold(unlock func()) { o.unlocks = append(o.unlocks, unlock) }

func (o *Offline) release() {
	for i := len(o.unlocks) - 1; i >= 0; i-- {
		o.unlocks[i]()
	}
	o.unlocks = nil
}

// Hold locks every directory, or none.
func (o *Offline) Hold(names []kv.Name) (func(), error) {
	for _, n := range names {
		unlock, err := kv.LockDir(o.Dir(n))
		if err != nil {
			o.release()
			return nil, &Failure{Step: StepOpen, Database: n, Err: err}
		}
		o.hold(unlock)
	}
	return o.release, nil
}

// View opens a read-only snapshot of n's database, if there is one.
func (o *Offline) View(_ context.Context, n kv.Name, fn func(db *badger.DB) error) error {
	if !kv.Exists(o.Dir(n)) {
		return fn(nil)
	}
	snap, err := kv.OpenSnapshot(o.Dir(n), "")
	if err != nil {
		return &Failure{Step: StepOpen, Database: n, Err: err}
	}
	defer snap.Close()
	return fn(snap.DB)
}

// Write opens every database, held by Hold, or none.
func (o *Offline) Write(ctx context.Context, names []kv.Name, fn func(context.Context, map[kv.Name]*badger.DB) error) error {
	defer o.closeAll()
	for _, n := range names {
		db, err := kv.Open(o.Dir(n), kv.OpenOptions{Locked: true})
		if err != nil {
			return &Failure{Step: StepOpen, Database: n, Err: err}
		}
		o.open[n] = db
	}
	dbs := make(map[kv.Name]*badger.DB, len(o.open))
	for n, db := range o.open {
		dbs[n] = db
	}
	return fn(ctx, dbs)
}

func (o *Offline) closeAll() {
	for n, db := range o.open {
		db.Close()
		delete(o.open, n)
	}
}

// Wipe closes n's database if Write opened it, builds the new one beside
// it, locks it and swaps it in (kv.SwapDir).
func (o *Offline) Wipe(ctx context.Context, n kv.Name, build func(context.Context, *badger.DB, string) error) (string, error) {
	dir := o.Dir(n)
	if db := o.open[n]; db != nil {
		delete(o.open, n)
		if err := db.Close(); err != nil {
			return "", err
		}
	}
	staged := kv.SiblingName(dir, "restore-staging", o.stamp)
	if err := build(ctx, nil, staged); err != nil {
		return "", err
	}
	unlock, err := kv.LockDir(staged)
	if err != nil {
		os.RemoveAll(staged)
		return "", err
	}
	o.hold(unlock)
	return kv.SwapDir(dir, staged, kv.SiblingName(dir, "before-restore", o.stamp))
}

// SetLocation is the set's place in the catalog.
func (o *Offline) SetLocation(id string) string {
	if backup.IsS3URL(o.catalogDir) {
		return strings.TrimSuffix(o.catalogDir, "/") + "/" + id
	}
	return strings.TrimSuffix(o.catalogDir, string(os.PathSeparator)) + string(os.PathSeparator) + id
}
