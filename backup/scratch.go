package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Badger's meta bit for a delete marker, as written in raw backup streams.
const badgerBitDelete = 1 << 0

// openScratch opens a throw-away Badger database in managed mode, so records
// can be written at the versions a backup gives them. It lives in memory
// when dir is empty, else in dir (which the caller removes).
func openScratch(dir string) (*badger.DB, error) {
	opts := kv.Options(dir)
	if dir == "" {
		opts = kv.Options("").WithInMemory(true)
	}
	opts = opts.WithNumVersionsToKeep(math.MaxInt32).WithDetectConflicts(false)
	db, err := badger.OpenManaged(opts)
	if err != nil {
		return nil, fmt.Errorf("open scratch database: %w", err)
	}
	return db, nil
}

// loadScratch writes every record of r into db at its own version; delete
// markers of raw Badger streams become deletions. The records' own order and
// duplicates are resolved by Badger's versioning, so afterwards db holds the
// newest live version of each key. It returns the reader's error, wrapped.
func loadScratch(ctx context.Context, db *badger.DB, r *Reader) error {
	wb := db.NewManagedWriteBatch()
	defer func() { wb.Cancel() }()
	// Badger counts a large value as a pointer in a batch's size: the
	// batch is flushed by bytes too, or it would hold every value.
	batched, released := 0, 0
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, rec := range kvs {
			version := max(rec.Version, 1)
			if len(rec.Meta) > 0 && rec.Meta[0]&badgerBitDelete != 0 {
				err = wb.DeleteAt(rec.Key, version)
			} else {
				e := badger.NewEntry(rec.Key, rec.Value).WithMeta(userMetaOf(rec.UserMeta))
				e.ExpiresAt = rec.ExpiresAt
				err = wb.SetEntryAt(e, version)
			}
			if err != nil {
				return fmt.Errorf("load scratch database: %w", err)
			}
			batched += len(rec.Key) + len(rec.Value)
		}
		if batched >= mergeTxnBytes {
			if err := wb.Flush(); err != nil {
				return fmt.Errorf("load scratch database: %w", err)
			}
			wb = db.NewManagedWriteBatch()
			if released += batched; released >= releaseBytes {
				_ = kv.ReleaseValueLogPages(db.Opts().Dir)
				released = 0
			}
			batched = 0
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("load scratch database: %w", err)
	}
	return nil
}

// convertRaw turns a raw Badger backup stream into a flowg file: it loads the
// stream into a scratch database under tmpDir, which resolves versions and
// delete markers, then dumps that at its newest version. It returns the path
// of the new file, which the caller removes. Nothing outside tmpDir is written.
func convertRaw(ctx context.Context, r *Reader, database, tmpDir string) (string, error) {
	dir, err := os.MkdirTemp(tmpDir, "flowg-raw-")
	if err != nil {
		return "", fmt.Errorf("stage raw backup: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := openScratch(dir)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := loadScratch(ctx, db, r); err != nil {
		return "", err
	}
	out, err := os.CreateTemp(tmpDir, "flowg-converted-*.db")
	if err != nil {
		return "", fmt.Errorf("stage raw backup: %w", err)
	}
	txn := db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	_, _, err = dumpTxn(ctx, db, txn, out, DumpOptions{Database: database, Compression: CompressionNone})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("stage raw backup: %w", err)
	}
	return out.Name(), nil
}
