package backup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"

	"github.com/flowg-backup/flowg/kv"
)

// MergeFile restores the backup at path into db, keeping keys the backup
// lacks. The whole file is checked first; then every record is written at
// one fresh commit timestamp, reserved for the restore (see freshLoader), so
// it overwrites what db held even if that was written after the backup was
// taken, and loses to any write after the restore began. TTLs carry over; records already
// expired are skipped and counted. On an error after writing began, db holds
// part of the backup (the caller's safety snapshot undoes it).
func MergeFile(ctx context.Context, db *badger.DB, path string, opts RestoreOptions) (Result, error) {
	return Merge(ctx, db, FileOpener(path), opts)
}

// Merge is MergeFile on a file opened by open (a local file, an object in a
// bucket); the file is read twice, never held whole.
func Merge(ctx context.Context, db *badger.DB, open Opener, opts RestoreOptions) (Result, error) {
	p, err := Prepare(ctx, open, opts)
	if err != nil {
		return Result{}, err
	}
	defer p.Close()
	return p.Merge(ctx, db)
}

// Prepared is a backup file read whole and found good, ready to be merged:
// callers that must check several files before changing any database (or
// before writing a safety snapshot) prepare them all first.
type Prepared struct {
	c    *checked
	opts RestoreOptions
}

// Prepare reads the file opened by open to its end and checks everything in
// it; it writes nothing outside opts.TmpDir. The caller must Close it.
func Prepare(ctx context.Context, open Opener, opts RestoreOptions) (*Prepared, error) {
	c, err := check(ctx, open, opts)
	if err != nil {
		return nil, err
	}
	return &Prepared{c: c, opts: opts}, nil
}

// Header and Summary describe the prepared file.
func (p *Prepared) Header() Header   { return p.c.header }
func (p *Prepared) Summary() Summary { return p.c.summary }

// Close removes what Prepare staged.
func (p *Prepared) Close() { p.c.cleanup() }

// MergeWithProgress is Merge reporting progress to fn.
func (p *Prepared) MergeWithProgress(ctx context.Context, db *badger.DB, fn func(keys, bytes uint64)) (Result, error) {
	p.opts.Progress = fn
	return p.Merge(ctx, db)
}

// Merge writes every record of the prepared file into db at a fresh commit
// timestamp (see MergeFile).
func (p *Prepared) Merge(ctx context.Context, db *badger.DB) (Result, error) {
	start := time.Now()
	opts := p.opts
	res := Result{Header: p.c.header, File: p.c.summary, Warnings: p.c.warnings}

	// Reads of what db held before see a timestamp older than every write below.
	before := db.NewTransaction(false)
	defer before.Discard()
	wb, err := newFreshLoader(db)
	if err != nil {
		return res, fmt.Errorf("merge restore: %w", err)
	}
	now := opts.now()
	var bytes uint64
	err = p.c.each(ctx, func(kv *pb.KV) error {
		if reserved(kv.Key) {
			return nil
		}
		if expired(kv, now) {
			res.Expired++
			return nil
		}
		if opts.Added != nil && !holds(before, kv.Key) {
			res.Added++
			opts.Added(kv.Key)
		}
		if err := wb.set(kv.Key, kv.Value, userMetaOf(kv.UserMeta), kv.ExpiresAt); err != nil {
			return fmt.Errorf("write key %q: %w", truncateKey(kv.Key), err)
		}
		res.Written++
		bytes += uint64(len(kv.Key) + len(kv.Value))
		if opts.Progress != nil && res.Written%4096 == 0 {
			opts.Progress(res.Written, bytes)
		}
		return nil
	})
	if ferr := wb.finish(); err == nil {
		err = ferr
	}
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("merge restore: %w", err)
	}
	if opts.Progress != nil {
		opts.Progress(res.Written, bytes)
	}
	return res, nil
}

// holds reports whether txn sees key.
func holds(txn *badger.Txn, key []byte) bool {
	_, err := txn.Get(key)
	return !errors.Is(err, badger.ErrKeyNotFound)
}

// freshLoader writes records at one fresh commit timestamp through Badger's
// KVLoader, which batches them straight into the write path: no per-key
// transaction bookkeeping (pending-write maps, conflict keys), which cost
// more than the writes themselves in a merge of millions of keys.
//
// The timestamp is reserved from Badger's oracle by committing a marker key
// under flowg's reserved prefix and reading back its version: every version
// db held before is below it, and every commit after it (a write to the
// served database during an online restore included) is above it, so the
// restore overwrites the past and never the future.
type freshLoader struct {
	db      *badger.DB
	marker  []byte
	version uint64
	ldr     *badger.KVLoader
	kv      pb.KV
}

// mergePendingBatches bounds the batches in Badger's write queue at once;
// measured on 1M records, 1 (as db.Load uses) and 4 are alike, 16 is 10% slower.
const mergePendingBatches = 1

func newFreshLoader(db *badger.DB) (*freshLoader, error) {
	marker := make([]byte, 0, len(kv.ReservedPrefix)+32)
	marker = append(marker, kv.ReservedPrefix+"restore-"...)
	marker = strconv.AppendInt(marker, time.Now().UnixNano(), 36)
	// The marker expires by itself should the process die before Close.
	err := db.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(marker, nil).WithTTL(time.Hour))
	})
	if err != nil {
		return nil, fmt.Errorf("reserve a commit timestamp: %w", err)
	}
	var version uint64
	err = db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(marker)
		if err != nil {
			return err
		}
		version = item.Version()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reserve a commit timestamp: %w", err)
	}
	return &freshLoader{db: db, marker: marker, version: version, ldr: db.NewKVLoader(mergePendingBatches)}, nil
}

// set queues one record. Its slices must stay valid until finish returns.
func (l *freshLoader) set(key, value []byte, userMeta byte, expiresAt uint64) error {
	l.kv = pb.KV{Key: key, Value: value, Version: l.version, ExpiresAt: expiresAt}
	if userMeta != 0 {
		l.kv.UserMeta = []byte{userMeta}
	}
	return l.ldr.Set(&l.kv)
}

// finish writes what is queued, waits for every write and removes the marker.
func (l *freshLoader) finish() error {
	err := l.ldr.Finish()
	if derr := l.db.Update(func(txn *badger.Txn) error { return txn.Delete(l.marker) }); err == nil && derr != nil {
		err = fmt.Errorf("remove the restore's marker key: %w", derr)
	}
	return err
}
