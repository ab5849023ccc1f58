package backup

import (
	"bytes"
	"context"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
)

// Plan says what restoring a file would change, without changing anything.
type Plan struct {
	Header  Header  `json:"header"`
	File    Summary `json:"file"`
	Added   uint64  `json:"added"`       // keys the target lacks
	Changed uint64  `json:"overwritten"` // keys the target holds with another value
	Same    uint64  `json:"unchanged"`
	Expired uint64  `json:"expired_skipped"`
	Removed uint64  `json:"removed_by_wipe"` // keys only a wipe restore would delete
	// RemovedByMerge, for a restore to an instant, counts the keys a merge
	// deletes too: held now, deleted between the base set and the instant.
	RemovedByMerge uint64   `json:"removed_by_merge,omitempty"`
	Warn           []string `json:"warnings,omitempty"`
}

// PlanFile checks the backup at path whole and compares it with db (nil for
// a database that does not exist yet), reading both in key order.
func PlanFile(ctx context.Context, db *badger.DB, path string, opts RestoreOptions) (Plan, error) {
	return PlanFrom(ctx, db, FileOpener(path), opts)
}

// PlanFrom is PlanFile on a file opened by open.
func PlanFrom(ctx context.Context, db *badger.DB, open Opener, opts RestoreOptions) (Plan, error) {
	c, err := check(ctx, open, opts)
	if err != nil {
		return Plan{}, err
	}
	defer c.cleanup()
	p := Plan{Header: c.header, File: c.summary, Warn: c.warnings}
	now := opts.now()

	var it *badger.Iterator
	if db != nil {
		txn := db.NewTransaction(false)
		defer txn.Discard()
		it = txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		it.Rewind()
	}
	// skipTargetBelow counts target keys sorting before key as removed.
	skipTargetBelow := func(key []byte) {
		for it != nil && it.Valid() && (key == nil || bytes.Compare(it.Item().Key(), key) < 0) {
			p.Removed++
			it.Next()
		}
	}
	err = c.each(ctx, func(kv *pb.KV) error {
		skipTargetBelow(kv.Key)
		if expired(kv, now) {
			p.Expired++
			return nil
		}
		if it == nil || !it.Valid() || !bytes.Equal(it.Item().Key(), kv.Key) {
			p.Added++
			return nil
		}
		item := it.Item()
		same := item.UserMeta() == userMetaOf(kv.UserMeta) && item.ExpiresAt() == kv.ExpiresAt
		if same {
			err := item.Value(func(v []byte) error {
				same = bytes.Equal(v, kv.Value)
				return nil
			})
			if err != nil {
				return err
			}
		}
		if same {
			p.Same++
		} else {
			p.Changed++
		}
		it.Next()
		return nil
	})
	if err != nil {
		return p, err
	}
	skipTargetBelow(nil)
	return p, nil
}
