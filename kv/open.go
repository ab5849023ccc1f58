package kv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// ErrLocked is returned by Open when another process (usually a running
// flowg server) holds the database directory.
var ErrLocked = errors.New("database is in use by another process")

// ErrNotClosedCleanly is returned by Open with ReadOnly when the database was
// not closed properly (a crash) and Badger would have to replay its write-ahead
// log, which a read-only open may not do.
var ErrNotClosedCleanly = errors.New("database was not closed cleanly")

// ErrMissing is returned by Open with ReadOnly when the directory holds no
// database.
var ErrMissing = errors.New("database does not exist")

// OpenOptions tune Open.
type OpenOptions struct {
	// ReadOnly opens the database with a shared lock and never writes to it.
	ReadOnly bool
	// InMemory opens a scratch database that lives in memory only; dir is ignored.
	InMemory bool
	// BulkLoad opens a new database to be filled by a StreamWriter: small
	// tables and memtable, so the load's memory stays flat whatever the size
	// of the data (Badger's StreamWriter buffers whole bottom-level tables).
	BulkLoad bool
	// Locked opens a database whose directory the caller already holds
	// with LockDir. Badger then takes no lock of its own: it could not, as
	// a flock conflicts with every other open of the directory, even in
	// the same process.
	Locked bool
	// Scratch opens a throw-away database written once and read back once
	// (a verify's scratch load, with BulkLoad): its tables are compressed
	// with Snappy instead of ZSTD. Badger's StreamWriter compressing the
	// tables with ZSTD was a third of a verify's CPU on 10M log records,
	// and reading them back decompressing them a sixth.
	Scratch bool
}

// bulkLoadBlockSize is the block size of the tables a bulk load writes.
// Badger compresses every block on its own; at its default of 4 KiB, block
// compression was 40% of a wipe restore's CPU. Measured on 1M log records:
// 64 KiB blocks cut that restore from 2.45 to 2.05 s and the tables from 110
// to 76 MiB, and a later backup reads them faster too (1.0 s instead of 1.3
// s). Point reads decompress a whole block, so they cost more; flowg's
// databases are read mostly in ranges. Later compactions write Badger's
// default size again. Any block size reads back whatever the options of the
// database that opens the tables.
const bulkLoadBlockSize = 64 << 10

// bulkLoadValueLogFileSize is the size from which a bulk load starts a new
// value log file (values over Badger's 1 MiB threshold go there). Every open
// of a database reads its last value log file whole, and Badger copies each
// value it holds twice on the way: at its default of 1 GiB, a database
// restored from 20 values of 60 MiB held 4 of them in its last file, and
// the server's reopen after an online wipe peaked 473 MiB above its idle
// RSS, 130 more than the wipe itself. At 32 MiB a file holds one such value.
const bulkLoadValueLogFileSize = 32 << 20

// Options returns the Badger options flowg uses for dir: ZSTD table
// compression, a 64 MiB block cache (Badger's 256 MiB default, three times
// over, would dominate the server's memory) and Badger's own logging limited
// to warnings and errors.
func Options(dir string) badger.Options {
	opts := badger.DefaultOptions(dir).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithBlockCacheSize(64 << 20).
		WithLogger(quietLogger{}).
		WithNumVersionsToKeep(1)
	return opts
}

// Open opens the Badger database in dir. Errors caused by another process
// holding the directory wrap ErrLocked; a read-only open of a database left by
// a crash wraps ErrNotClosedCleanly; a read-only open of a directory without a
// database wraps ErrMissing. A swap of dir that a crash interrupted is undone
// first (RecoverSwap), in read-only opens too. The caller must Close the
// database.
func Open(dir string, o OpenOptions) (*badger.DB, error) {
	opts := Options(dir)
	if o.InMemory {
		opts = Options("").WithInMemory(true)
	} else if err := RecoverSwap(dir); err != nil {
		return nil, err
	}
	if o.BulkLoad {
		// Bottom-level tables are BaseTableSize << (MaxLevels-2): 2 MiB here, as Badger's own level-1 tables.
		opts = opts.WithBaseTableSize(64 << 10).WithMemTableSize(8 << 20).WithBlockCacheSize(8 << 20).
			WithBlockSize(bulkLoadBlockSize).WithValueLogFileSize(bulkLoadValueLogFileSize)
	}
	if o.Scratch {
		opts = opts.WithCompression(options.Snappy)
	}
	if o.ReadOnly {
		if !Exists(dir) {
			return nil, fmt.Errorf("open %s: %w", dir, ErrMissing)
		}
		// A read-only open serves one sequential scan (a backup): a block
		// cache would only hold blocks that are never read again.
		opts = opts.WithReadOnly(true).WithBlockCacheSize(4 << 20)
	}
	if o.Locked {
		opts = opts.WithBypassLockGuard(true)
	}
	created := !o.InMemory && !o.ReadOnly && !Exists(dir)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, classifyOpenError(dir, err)
	}
	if created {
		// A new database starts a new lineage: its versions start over,
		// so no incremental backup may continue a chain of the one that
		// lived in this directory before (see Epoch).
		if err := NewEpoch(dir); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func classifyOpenError(dir string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"):
		return fmt.Errorf("open %s: %w", dir, ErrLocked)
	case strings.Contains(msg, "not properly closed") || strings.Contains(msg, "Log truncate required"):
		return fmt.Errorf("open %s: %w", dir, ErrNotClosedCleanly)
	}
	return fmt.Errorf("open %s: %w", dir, err)
}

// Exists reports whether dir holds a Badger database (a MANIFEST file).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "MANIFEST"))
	return err == nil
}

// IsEmpty reports whether db holds no user keys.
func IsEmpty(db *badger.DB) bool {
	empty := true
	_ = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	return empty
}

// OnlyDatabaseFiles reports whether dir holds nothing but the files of a
// Badger database and flowg's epoch file, so that replacing the directory
// loses nothing else.
func OnlyDatabaseFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == "MANIFEST" || name == "KEYREGISTRY" || name == "LOCK" || name == "DISCARD" || name == epochFile:
		case !e.IsDir() && (strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".vlog") || strings.HasSuffix(name, ".mem")):
		default:
			return false
		}
	}
	return true
}

// quietLogger passes Badger's warnings and errors to stderr and drops its
// informational chatter.
type quietLogger struct{}

func (quietLogger) Errorf(f string, a ...any)   { fmt.Fprintf(os.Stderr, "badger: "+f, a...) }
func (quietLogger) Warningf(f string, a ...any) { fmt.Fprintf(os.Stderr, "badger: "+f, a...) }
func (quietLogger) Infof(string, ...any)        {}
func (quietLogger) Debugf(string, ...any)       {}

// FilesSize is the size of the files directly in dir: what a copy of the
// database in dir takes, at most (Badger's directories are flat).
func FilesSize(dir string) (uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += uint64(info.Size())
		}
	}
	return n, nil
}
