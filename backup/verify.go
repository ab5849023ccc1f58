package backup

import (
	"context"

	"errors"
	"filippo.io/age"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	ReadOptions
	// Load also restores the file into a scratch Badger database and checks
	// that the database holds exactly the file's records.
	Load bool
	// Identities decrypt an age-encrypted file (VerifyFile only).
	Identities []age.Identity
	// ScratchDir holds the scratch database when Load is set (os.TempDir()
	// when empty). It is on disk, not in memory: memory stays bounded
	// whatever the backup's size, and values over Badger's 1 MiB in-memory
	// limit load too.
	ScratchDir string
}

// Verify reads a backup to its end marker and reports the first defect. It
// writes nothing but the scratch database of opts.Load. Raw Badger streams
// have no checksums: for them Verify can only check that they decode.
func Verify(ctx context.Context, r io.Reader, opts VerifyOptions) (Header, Summary, error) {
	if opts.Load {
		opts.ContentSum = true
	}
	if opts.Inventory == nil {
		// An incremental file's key list is checked like any frame.
		opts.Inventory = func([]*pb.KV) error { return nil }
	}
	opts.ReuseBuffers = !opts.Load // a scratch load keeps the records until it commits
	br, err := NewReader(r, opts.ReadOptions)
	if err != nil {
		return Header{}, Summary{}, err
	}
	if !opts.Load {
		err = drain(ctx, br)
		return br.Header(), br.Summary(), err
	}
	dir, err := os.MkdirTemp(opts.ScratchDir, "flowg-verify-")
	if err != nil {
		return br.Header(), br.Summary(), fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := openScratch(dir)
	if err != nil {
		return br.Header(), br.Summary(), err
	}
	defer db.Close()
	if err := loadScratch(ctx, db, br); err != nil {
		return br.Header(), br.Summary(), err
	}
	sum := br.Summary()
	if br.Header().Raw {
		return br.Header(), sum, nil
	}
	keys, content, err := hashScratch(db)
	if err != nil {
		return br.Header(), sum, err
	}
	if keys != sum.Keys || content != sum.ContentSHA256 {
		return br.Header(), sum, fmt.Errorf("%w: the file's %d records load as %d keys with other content (duplicate or unsorted keys)",
			ErrCorrupt, sum.Keys, keys)
	}
	return br.Header(), sum, nil
}

// VerifyFile is Verify on the file at path.
func VerifyFile(ctx context.Context, path string, opts VerifyOptions) (Header, Summary, error) {
	f, size, err := decrypting(FileOpener(path), opts.Identities)(context.Background())
	if err != nil {
		return Header{}, Summary{}, err
	}
	defer f.Close()
	opts.Size = size
	return Verify(ctx, f, opts)
}

// drain reads r to its end, checking everything on the way.
func drain(ctx context.Context, r *Reader) error {
	for {
		if _, err := r.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// hashScratch counts and hashes every version held by a scratch database, in
// key order, expired ones included.
func hashScratch(db *badger.DB) (uint64, string, error) {
	txn := db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	var h contentSum
	var keys uint64
	var value []byte
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		var err error
		if value, err = item.ValueCopy(value[:0]); err != nil {
			return 0, "", fmt.Errorf("read scratch database: %w", err)
		}
		h.add(item.Key(), value, item.UserMeta(), item.ExpiresAt())
		keys++
	}
	return keys, h.hex(), nil
}

// openFile opens a backup file for reading and returns its size.
func openFile(path string) (io.ReadCloser, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s", ErrMissingFile, path)
		}
		return nil, 0, fmt.Errorf("open backup: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open backup: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %s is a directory", ErrNotBackup, path)
	}
	return f, st.Size(), nil
}
