package backup

import (
	"context"

	"errors"
	"filippo.io/age"
	"fmt"
	"io"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/flowg-backup/flowg/kv"
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
	opts.Sequential = opts.Load    // the bulk load keeps the CPUs busy
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
	if br.Header().Raw {
		// A raw stream holds versions and delete markers: Badger resolves them.
		db, err := openScratch(dir)
		if err != nil {
			return br.Header(), br.Summary(), err
		}
		defer db.Close()
		err = loadScratch(ctx, db, br)
		return br.Header(), br.Summary(), err
	}
	// A flowg file is sorted: bulk-load it, as a wipe restore would.
	br.reuse = true
	db, err := kv.Open(dir, kv.OpenOptions{BulkLoad: true, Scratch: true})
	if err != nil {
		return br.Header(), br.Summary(), err
	}
	defer db.Close()
	if _, err := streamInto(ctx, db, br, RestoreOptions{}, true); err != nil {
		return br.Header(), br.Summary(), err
	}
	sum := br.Summary()
	txn := db.NewTransaction(false)
	defer txn.Discard()
	keys, content, err := hashVersions(txn, db.Opts().Dir, releaseBytes/4)
	if err != nil {
		return br.Header(), sum, err
	}
	if keys != sum.Keys || content != sum.ContentSum {
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

// hashVersions counts and hashes every version txn sees, in key order,
// expired ones included.
// The pages of the scratch database in dir it reads are released as it
// goes, every releaseAt bytes of values read (see releaseBytes).
func hashVersions(txn *badger.Txn, dir string, releaseAt int) (uint64, string, error) {
	it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
	defer it.Close()
	var h contentSum
	var keys uint64
	read := 0
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		err := item.Value(func(v []byte) error {
			h.add(item.Key(), v, item.UserMeta(), item.ExpiresAt())
			read += len(v)
			return nil
		})
		if read >= releaseAt || item.ValueSize() >= bigRecord {
			// A big value is let go at once, as it was written (settleBigRecord).
			_ = kv.ReleaseValueLogPages(dir)
			_ = kv.ReleaseTablePages(dir)
			read = 0
		}
		if err != nil {
			return 0, "", fmt.Errorf("read scratch database: %w", err)
		}
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
