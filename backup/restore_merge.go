package backup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
)

// MergeFile restores the backup at path into db, keeping keys the backup
// lacks. The whole file is checked first; then every record is written at a
// fresh commit timestamp, so it overwrites what db holds even if that was
// written after the backup was taken. TTLs carry over; records already
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

// Merge writes every record of the prepared file into db at fresh commit
// timestamps (see MergeFile).
func (p *Prepared) Merge(ctx context.Context, db *badger.DB) (Result, error) {
	start := time.Now()
	opts := p.opts
	res := Result{Header: p.c.header, File: p.c.summary, Warnings: p.c.warnings}

	// Reads of what db held before see a timestamp older than every write below.
	before := db.NewTransaction(false)
	defer before.Discard()
	wb := newFreshWriter(db)
	defer wb.cancel()
	now := opts.now()
	var bytes uint64
	err := p.c.each(ctx, func(kv *pb.KV) error {
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
		e := badger.NewEntry(kv.Key, kv.Value).WithMeta(userMetaOf(kv.UserMeta))
		e.ExpiresAt = kv.ExpiresAt
		if err := wb.set(e); err != nil {
			return fmt.Errorf("write key %q: %w", truncateKey(kv.Key), err)
		}
		res.Written++
		bytes += uint64(len(kv.Key) + len(kv.Value))
		if opts.Progress != nil && res.Written%4096 == 0 {
			opts.Progress(res.Written, bytes)
		}
		return nil
	})
	if ferr := wb.flush(); err == nil {
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

// freshWriter writes entries in transactions of mergeTxnKeys keys, each
// committed asynchronously at a fresh commit timestamp, a bounded number in
// flight. Small transactions keep Badger's per-transaction bookkeeping (a
// map of pending writes) cheap, which large WriteBatch transactions are not.
type freshWriter struct {
	db   *badger.DB
	txn  *badger.Txn
	keys int
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

const (
	mergeTxnKeys    = 1000
	mergeTxnsAtOnce = 16
)

func newFreshWriter(db *badger.DB) *freshWriter {
	return &freshWriter{db: db, sem: make(chan struct{}, mergeTxnsAtOnce)}
}

// set adds e to the current transaction. The entry's slices must stay
// valid until flush returns.
func (w *freshWriter) set(e *badger.Entry) error {
	if err := w.failed(); err != nil {
		return err
	}
	if w.txn == nil {
		w.txn = w.db.NewTransaction(true)
	}
	err := w.txn.SetEntry(e)
	if errors.Is(err, badger.ErrTxnTooBig) {
		w.commit()
		w.txn = w.db.NewTransaction(true)
		err = w.txn.SetEntry(e)
	}
	if err != nil {
		return err
	}
	if w.keys++; w.keys >= mergeTxnKeys {
		w.commit()
	}
	return nil
}

func (w *freshWriter) commit() {
	w.sem <- struct{}{}
	w.wg.Add(1)
	w.txn.CommitWith(func(err error) {
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
		}
		<-w.sem
		w.wg.Done()
	})
	w.txn, w.keys = nil, 0
}

func (w *freshWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// flush commits what is pending and waits for every commit.
func (w *freshWriter) flush() error {
	if w.txn != nil {
		w.commit()
	}
	w.wg.Wait()
	return w.failed()
}

// cancel discards an uncommitted transaction (after an error).
func (w *freshWriter) cancel() {
	if w.txn != nil {
		w.txn.Discard()
		w.txn = nil
	}
	w.wg.Wait()
}
