package backup

import (
	"context"
	"errors"
	"fmt"
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
	start := time.Now()
	c, err := check(ctx, open, opts)
	if err != nil {
		return Result{}, err
	}
	defer c.cleanup()
	res := Result{Header: c.header, File: c.summary, Warnings: c.warnings}

	// Reads of what db held before see a timestamp older than every write below.
	before := db.NewTransaction(false)
	defer before.Discard()
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	now := opts.now()
	var bytes uint64
	err = c.each(ctx, func(kv *pb.KV) error {
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
		if err := wb.SetEntry(e); err != nil {
			return fmt.Errorf("write key %q: %w", truncateKey(kv.Key), err)
		}
		res.Written++
		bytes += uint64(len(kv.Key) + len(kv.Value))
		if opts.Progress != nil && res.Written%4096 == 0 {
			opts.Progress(res.Written, bytes)
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
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
