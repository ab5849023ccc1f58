package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"

	"github.com/flowg-backup/flowg/kv"
)

// MergeFile restores the backup at path into db, keeping keys the backup
// lacks. The whole file is checked first; then every record is written at a
// fresh commit timestamp, so it overwrites what db holds even if that was
// written after the backup was taken: in transactions of 1000 keys, each at
// its own (on a served database, a write made meanwhile to a key of a batch
// not yet committed is overwritten), or with opts.Exclusive all at one
// timestamp reserved for the restore (see freshLoader). TTLs carry over;
// records already expired are skipped and counted. On an error after
// writing began, db holds part of the backup (the caller's safety snapshot
// undoes it), and Result.Written counts the records handed to Badger.
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

// Summary describes the prepared file.
func (p *Prepared) Summary() Summary { return p.c.summary }

// Header is the prepared file's header.
func (p *Prepared) Header() Header { return p.c.header }

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
	var held *heldKeys
	if opts.Added != nil {
		held = newHeldKeys(before)
		defer held.close()
	}
	// The marker says, until the last record is written, that the
	// database holds part of the backup (see restore_marker.go).
	dir, sha := db.Opts().Dir, p.c.summary.SHA256
	marked := false
	var err error
	if dir != "" {
		if marked, err = beginMerge(dir, IncompleteRestore{Database: opts.Database, Source: opts.Source, SHA256: sha}); err != nil {
			return res, fmt.Errorf("merge restore: %w", err)
		}
	}
	wb, err := newMergeWriter(db, opts.Exclusive)
	if err != nil {
		if marked {
			_ = ClearIncomplete(dir)
		}
		return res, fmt.Errorf("merge restore: %w", err)
	}
	now := opts.now()
	var bytes, shown uint64
	err = p.c.each(ctx, func(kv *pb.KV) error {
		if reserved(kv.Key) {
			return nil
		}
		if expired(kv, now) {
			res.Expired++
			return nil
		}
		if held != nil && !held.holds(kv.Key) {
			res.Added++
			opts.Added(kv.Key)
		}
		if err := wb.set(kv.Key, kv.Value, userMetaOf(kv.UserMeta), kv.ExpiresAt); err != nil {
			return fmt.Errorf("write (at key %q): %w", truncateKey(kv.Key), err)
		}
		res.Written++
		bytes += uint64(len(kv.Key) + len(kv.Value))
		if opts.Progress != nil && (res.Written%4096 == 0 || bytes-shown >= 16<<20) {
			opts.Progress(res.Written, bytes)
			shown = bytes
		}
		return nil
	})
	// Interrupted, the merge stops at a batch boundary: what was queued is
	// written, so Written counts exactly the records the database holds.
	interrupted := err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())
	if ferr := wb.finish(err != nil && !interrupted); err == nil {
		err = ferr
	}
	res.Duration = time.Since(start)
	if err != nil {
		if marked && res.Written == 0 {
			_ = ClearIncomplete(dir) // nothing of the backup was written
		}
		return res, fmt.Errorf("merge restore: %w", err)
	}
	if dir != "" {
		if err := EndMerge(dir, sha); err != nil {
			return res, fmt.Errorf("merge restore: %w", err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(res.Written, bytes)
	}
	return res, nil
}

// heldKeys answers whether a snapshot holds each key of a file, asked in the
// file's increasing key order: one key-only iterator moving forward, a step
// at a time across small gaps and by seeking across larger ones. A point
// read per key instead made a served merge of 900k keys into a populated
// database take 26 s instead of 3.5.
type heldKeys struct{ it *badger.Iterator }

func newHeldKeys(txn *badger.Txn) *heldKeys {
	it := txn.NewIterator(badger.IteratorOptions{})
	it.Rewind()
	return &heldKeys{it: it}
}

// holds reports whether the snapshot holds key, live; key must be above
// every key asked before.
func (h *heldKeys) holds(key []byte) bool {
	for steps := 0; h.it.Valid() && bytes.Compare(h.it.Item().Key(), key) < 0; steps++ {
		if steps == 4 {
			h.it.Seek(key)
			break
		}
		h.it.Next()
	}
	return h.it.Valid() && bytes.Equal(h.it.Item().Key(), key)
}

func (h *heldKeys) close() { h.it.Close() }

// mergeWriter writes a merge's records at fresh commit timestamps.
type mergeWriter interface {
	// set queues one record. Its slices must stay valid until finish returns.
	set(key, value []byte, userMeta byte, expiresAt uint64) error
	// finish waits for every write queued; after a failed merge (failed)
	// it drops what was not sent yet instead.
	finish(failed bool) error
}

// newMergeWriter picks the fastest writer the database's use allows.
func newMergeWriter(db *badger.DB, exclusive bool) (mergeWriter, error) {
	if exclusive {
		return newFreshLoader(db)
	}
	return newFreshWriter(db), nil
}

// freshWriter writes records in transactions of up to mergeTxnKeys keys and
// mergeTxnBytes bytes, each committed asynchronously at a fresh commit
// timestamp, at most mergeInFlightBytes of them in flight: the merge of a
// served database. Small transactions keep Badger's per-transaction
// bookkeeping (a map of pending writes) cheap, which large WriteBatch
// transactions are not. Badger counts a value over its threshold as a value
// pointer in a transaction's size, so a transaction of 1000 values of 60 MiB
// each was never "too big" for it: the byte bounds are ours.
type freshWriter struct {
	db         *badger.DB
	txn        *badger.Txn
	keys       int
	bytes      int // of the open transaction
	inFlight   int // bytes of the transactions committing
	committing int // transactions committing
	released   int // bytes written since the value log's pages were released
	mu         sync.Mutex
	cond       *sync.Cond
	err        error
}

const (
	mergeTxnKeys       = 1000
	mergeTxnBytes      = 8 << 20
	mergeInFlightBytes = 64 << 20
	mergeTxnsAtOnce    = 16
)

func newFreshWriter(db *badger.DB) *freshWriter {
	w := &freshWriter{db: db}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *freshWriter) set(key, value []byte, userMeta byte, expiresAt uint64) error {
	if err := w.failed(); err != nil {
		return fmt.Errorf("an earlier batch did not commit: %w", err)
	}
	e := badger.NewEntry(key, value).WithMeta(userMeta)
	e.ExpiresAt = expiresAt
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
	w.keys++
	w.bytes += len(key) + len(value)
	if w.keys >= mergeTxnKeys || w.bytes >= mergeTxnBytes {
		w.commit()
	}
	return nil
}

// commit commits the open transaction once the transactions in flight
// leave room for it (by count and by bytes; one always may).
func (w *freshWriter) commit() {
	size := w.bytes
	w.mu.Lock()
	for w.inFlight > 0 && (w.inFlight+size > mergeInFlightBytes || w.committing >= mergeTxnsAtOnce) {
		w.cond.Wait()
	}
	w.inFlight += size
	w.committing++
	w.mu.Unlock()
	w.txn.CommitWith(func(err error) {
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		w.inFlight -= size
		w.committing--
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	w.txn, w.keys, w.bytes = nil, 0, 0
	if w.released += size; w.released >= releaseBytes {
		// See kv.ReleaseValueLogPages: large values would otherwise stay
		// in this process's memory, mapped, until the database closes.
		_ = kv.ReleaseValueLogPages(w.db.Opts().Dir)
		w.released = 0
	}
}

func (w *freshWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *freshWriter) finish(failed bool) error {
	if w.txn != nil {
		if failed {
			w.txn.Discard()
			w.txn = nil
		} else {
			w.commit()
		}
	}
	w.mu.Lock()
	for w.committing > 0 {
		w.cond.Wait()
	}
	w.mu.Unlock()
	return w.failed()
}

// freshLoader writes records at one fresh commit timestamp through Badger's
// KVLoader, which batches them straight into the write path: no per-key
// transaction bookkeeping (pending-write maps, conflict keys), which cost
// more than the writes themselves in a merge of millions of keys.
//
// The timestamp is reserved from Badger's oracle by committing a marker key
// under flowg's reserved prefix and reading back its version: every version
// db held before is below it, and every commit after it is above it, so the
// restore overwrites the past and never the future. That holds after a
// wipe too, whose StreamWriter keeps the backup's versions: Badger starts a
// reopened database's oracle above the highest version of its tables and
// of the memtables it replays, and StreamWriter.Flush raises a live one to
// the highest version it wrote (TestMerge_ExclusiveBringsBackAKeyDeletedAfterAWipe).
//
// Badger counts that timestamp as committed before the records land, so a
// reader or a backup snapshot taken meanwhile would see part of them, and an
// incremental backup on that snapshot would miss the rest for good: only a
// database nobody else uses (RestoreOptions.Exclusive) is loaded this way.
//
// Badger's loader sends a batch once it holds 100 MiB of values, and keeps
// one batch queued while the next fills: with values of 60 MiB that held
// several hundred MiB. The loader is finished, and a new one started, every
// loadBatchBytes instead (one batch of at most that much, plus one record,
// in memory at once).
type freshLoader struct {
	db       *badger.DB
	marker   []byte
	version  uint64
	ldr      *badger.KVLoader
	kv       pb.KV
	bytes    int // queued in ldr
	released int // written since the value log's pages were released
}

// loadBatchBytes is how many bytes of records a freshLoader queues before
// it waits for them to be written.
const loadBatchBytes = 32 << 20

// mergePendingBatches bounds the batches in Badger's write queue at once;
// measured on 1M records, 1 (as db.Load uses) and 4 are alike, 16 is 10% slower.
const mergePendingBatches = 1

func newFreshLoader(db *badger.DB) (*freshLoader, error) {
	marker := make([]byte, 0, len(kv.ReservedPrefix)+32)
	marker = append(marker, kv.ReservedPrefix+"restore-"...)
	marker = strconv.AppendInt(marker, time.Now().UnixNano(), 36)
	// The marker expires by itself should the process die before finish.
	err := db.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(marker, nil).WithTTL(time.Hour))
	})
	if err != nil {
		return nil, fmt.Errorf("reserve a commit timestamp: %w", err)
	}
	l := &freshLoader{db: db, marker: marker}
	err = db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(marker)
		if err != nil {
			return err
		}
		l.version = item.Version()
		return nil
	})
	if err != nil {
		l.removeMarker()
		return nil, fmt.Errorf("reserve a commit timestamp: %w", err)
	}
	l.ldr = db.NewKVLoader(mergePendingBatches)
	return l, nil
}

func (l *freshLoader) set(key, value []byte, userMeta byte, expiresAt uint64) error {
	l.kv = pb.KV{Key: key, Value: value, Version: l.version, ExpiresAt: expiresAt}
	if userMeta != 0 {
		l.kv.UserMeta = []byte{userMeta}
	}
	err := l.ldr.Set(&l.kv)
	l.kv = pb.KV{} // the loader holds the value until it is written, no longer
	if err != nil {
		return err
	}
	if l.bytes += len(key) + len(value); l.bytes < loadBatchBytes {
		return nil
	}
	if err := l.ldr.Finish(); err != nil {
		return err
	}
	l.ldr = l.db.NewKVLoader(mergePendingBatches)
	if l.released += l.bytes; l.released >= releaseBytes {
		_ = kv.ReleaseValueLogPages(l.db.Opts().Dir)
		l.released = 0
	}
	l.bytes = 0
	return nil
}

// finish writes what is queued and waits for every write, then removes the
// marker. After a failure it only removes the marker: KVLoader's Finish
// would wait forever for the write slot of a batch Badger refused.
func (l *freshLoader) finish(failed bool) error {
	var err error
	if !failed {
		err = l.ldr.Finish()
	}
	if merr := l.removeMarker(); err == nil {
		err = merr
	}
	return err
}

func (l *freshLoader) removeMarker() error {
	err := l.db.Update(func(txn *badger.Txn) error { return txn.Delete(l.marker) })
	if err != nil {
		return fmt.Errorf("remove the restore's marker key: %w", err)
	}
	return nil
}
