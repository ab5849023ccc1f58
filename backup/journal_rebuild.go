package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Rebuilt is a database rebuilt at an instant (RebuildAt): a complete
// Badger database in Dir, which an offline wipe can move into place as it
// is (MoveTo), or a restore can read as a flowg file (Opener, which dumps
// it once, when first called).
type Rebuilt struct {
	Dir      string
	Database string
	Keys     uint64 // the keys it holds
	Expired  uint64 // expired records of the base set left out
	work     string

	mu     sync.Mutex
	dumped string
}

// RebuildAt rebuilds database db as it was at instant at (or, with latest,
// at the newest instant its journal covers): the chain's base set, then
// every change of the journal up to that instant, each segment read whole
// and checked. The database is built at dir, which must not exist (a
// sibling of the database it will replace, for a rename into place), or
// under tmpDir when dir is "". The caller calls Cleanup when done.
func (c *Catalog) RebuildAt(ctx context.Context, db string, at time.Time, latest bool, tmpDir, dir string) (*Rebuilt, PointInTime, error) {
	p := PointInTime{Database: db}
	chains, err := readChainsIn(ctx, c.journal(), db)
	if err != nil {
		return nil, p, err
	}
	ch, err := pickChain(chains, db, at, latest)
	if err != nil {
		return nil, p, err
	}
	if latest {
		at = ch.end()
	}
	p.Instant, p.Chain = at.UTC(), ch.ID
	r := &Rebuilt{Dir: dir, Database: db}
	if r.work, err = os.MkdirTemp(tmpDir, "flowg-at-"); err != nil {
		return nil, p, fmt.Errorf("rebuild %s at %s: %w", db, at.Format(time.RFC3339Nano), err)
	}
	if r.Dir == "" {
		r.Dir = filepath.Join(r.work, "db")
	}
	err = c.replay(ctx, ch, at, r.work, r.Dir, &p, r)
	if errors.Is(err, ErrMissingFile) {
		// A compaction may have merged segments since they were listed:
		// list the chain again, once.
		if again, rerr := readChain(ctx, ch.js, ch.Database, ch.ID); rerr == nil {
			os.RemoveAll(r.Dir)
			p.Segments, p.Changes = 0, 0
			err = c.replay(ctx, again, at, r.work, r.Dir, &p, r)
		}
	}
	if err != nil {
		r.Cleanup()
		return nil, p, err
	}
	return r, p, nil
}

// MoveTo renames the rebuilt database to staged (which must not exist) and
// reports whether it did; false, with no error, when staged is on another
// file system, and the caller then reads the database through Opener.
func (r *Rebuilt) MoveTo(staged string) (bool, error) {
	err := renameDir(r.Dir, staged)
	if err == nil {
		return true, kv.SyncDir(filepath.Dir(staged))
	}
	if errors.Is(err, syscall.EXDEV) {
		return false, nil
	}
	return false, fmt.Errorf("move the database rebuilt at the instant into place: %w", err)
}

// renameDir is os.Rename; a test makes it fail as across file systems.
var renameDir = os.Rename

// Opener opens the rebuilt database as a flowg file, dumped when first
// opened.
func (r *Rebuilt) Opener() Opener {
	return func(ctx context.Context) (io.ReadCloser, int64, error) {
		path, err := r.dump(ctx)
		if err != nil {
			return nil, 0, err
		}
		return openFile(path)
	}
}

// Cleanup removes the rebuilt database (unless it was moved) and its
// scratch files.
func (r *Rebuilt) Cleanup() {
	os.RemoveAll(r.work)
	if r.Dir != "" {
		os.RemoveAll(r.Dir)
	}
}

// dump writes the rebuilt database into a flowg file in its scratch
// directory, once, and returns its path.
func (r *Rebuilt) dump(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dumped != "" {
		return r.dumped, nil
	}
	sdb, err := kv.Open(r.Dir, kv.OpenOptions{})
	if err != nil {
		return "", err
	}
	defer sdb.Close()
	out := filepath.Join(r.work, FileName(r.Database))
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, _, err = Dump(ctx, sdb, f, DumpOptions{Database: r.Database, Compression: CompressionNone})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("rebuild %s at an instant: %w", r.Database, err)
	}
	r.dumped = out
	return out, nil
}

// countKeys counts the keys db holds, reading keys only.
func countKeys(db *badger.DB) (uint64, error) {
	var n uint64
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}
