package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// FileFormat selects what Dump writes.
type FileFormat string

// File formats.
const (
	// FormatFlowg is flowg's self-checking format (the default).
	FormatFlowg FileFormat = "flowg"
	// FormatBadger is the raw stream of `badger backup`, for `badger restore`.
	FormatBadger FileFormat = "badger"
)

// ParseFileFormat accepts "flowg" (the default when empty) or "badger".
func ParseFileFormat(s string) (FileFormat, error) {
	switch s {
	case "", string(FormatFlowg):
		return FormatFlowg, nil
	case string(FormatBadger):
		return FormatBadger, nil
	}
	return "", fmt.Errorf("unknown backup format %q: use flowg or badger", s)
}

// DumpOptions tune Dump.
type DumpOptions struct {
	Database    string      // written into the header
	Format      FileFormat  // FormatFlowg when empty
	Compression Compression // zstd when empty; FormatBadger is never compressed
	ToolVersion string
	// Progress, when set, is called after every frame with running totals.
	Progress func(keys, bytes uint64)
	// Now stamps the header; time.Now when nil.
	Now func() time.Time
	// Workers bounds the goroutines reading key ranges in parallel
	// (GOMAXPROCS when 0).
	Workers int
	// FramesUnderWay bounds the frames (up to 1 MiB of records each) a dump
	// holds while its writer is slower than its workers: 256 when 0, as
	// fast as the workers go; StreamFramesUnderWay for a writer that may be
	// slow, such as a client downloading an online backup.
	FramesUnderWay int
	// SinceTs > 0 makes an incremental backup: the records whose newest
	// version is above SinceTs, then the list of every live key.
	SinceTs uint64
	// ExcludeStreams leaves out the records and configuration of the
	// streams matching these globs (logs database only; flowg format only).
	ExcludeStreams []string
}

// Dump writes a point-in-time backup of db to w: the newest live version of
// every key, with its value, UserMeta and ExpiresAt, as of one read timestamp
// taken when Dump starts, in key order. Deleted and expired keys are left
// out. Writes to db may go on meanwhile; they are not in the backup. Key
// ranges are read and compressed in parallel; memory stays bounded by a few
// frames per worker whatever the database size. Dump stops with ctx.Err()
// when ctx ends; w then holds a partial file that any reader rejects as
// truncated.
func Dump(ctx context.Context, db *badger.DB, w io.Writer, opts DumpOptions) (Header, Summary, error) {
	if err := ctx.Err(); err != nil {
		return Header{}, Summary{}, err
	}
	txn := db.NewTransaction(false)
	defer txn.Discard()
	return dumpTxn(ctx, db, txn, w, opts)
}

// dumpTxn is Dump at the read timestamp of txn.
func dumpTxn(ctx context.Context, db *badger.DB, txn *badger.Txn, w io.Writer, opts DumpOptions) (Header, Summary, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	hdr := Header{
		FormatVersion: FormatVersion,
		Database:      opts.Database,
		Created:       now().UTC(),
		ReadTs:        txn.ReadTs(),
		ToolVersion:   opts.ToolVersion,
		Compression:   opts.Compression,
	}
	if opts.SinceTs > 0 {
		if opts.Format == FormatBadger {
			return hdr, Summary{}, fmt.Errorf("an incremental backup is written in flowg's format only")
		}
		hdr.FormatVersion, hdr.SinceTs = FormatIncremental, opts.SinceTs
	}
	if opts.Format == FormatBadger && len(opts.ExcludeStreams) > 0 {
		return hdr, Summary{}, fmt.Errorf("streams are left out (--exclude-stream) of backups in flowg's format only")
	}
	if opts.Format == FormatBadger {
		hdr = Header{Raw: true, ReadTs: txn.ReadTs(), Database: opts.Database, Created: hdr.Created}
		sum, err := dumpRaw(ctx, txn, newRawWriter(w), opts.Progress)
		return hdr, sum, err
	}
	fw, err := NewWriter(w, hdr)
	if err != nil {
		return hdr, Summary{}, err
	}
	hdr.Compression = fw.compression()
	p := pipeline{txn: txn, since: opts.SinceTs, out: fw, ranges: splitKeys(db, txn), workers: opts.Workers, progress: opts.Progress,
		underWay: opts.FramesUnderWay, release: releaser(db), exclude: opts.ExcludeStreams}
	if err := p.run(ctx); err != nil {
		return hdr, fw.summary, err
	}
	if opts.SinceTs > 0 {
		if err := fw.beginKeys(); err != nil {
			return hdr, fw.summary, err
		}
		keys := pipeline{txn: txn, keysOnly: true, out: fw, ranges: p.ranges, workers: opts.Workers, underWay: p.underWay, release: p.release, exclude: p.exclude}
		if err := keys.run(ctx); err != nil {
			return hdr, fw.summary, err
		}
	}
	sum, err := fw.Close()
	if err != nil {
		return hdr, sum, err
	}
	if opts.Progress != nil {
		opts.Progress(sum.Keys, sum.Bytes)
	}
	return hdr, sum, nil
}

// releaser returns what drops the table pages a dump of db read, for a
// database opened read-only, which only a backup reads (not for a served
// database, whose table pages are the server's cache). A release that fails
// costs memory, not correctness, so its error is dropped.
//
// The pages of the value log, where Badger keeps values over its threshold,
// are dropped for every database: each large value is read once, and
// keeping them made a backup of many MiB-large values (a pre-restore
// safety snapshot of one, say) as large in memory as on disk.
func releaser(db *badger.DB) func() {
	dir := db.Opts().Dir
	if !db.Opts().ReadOnly {
		return func() { _ = kv.ReleaseValueLogPages(dir) }
	}
	return func() {
		_ = kv.ReleaseTablePages(dir)
		_ = kv.ReleaseValueLogPages(dir)
	}
}

// liveIterator returns an iterator over the newest live version of each key
// (only those above since, when since > 0). Values are read in place: they
// are inline in the LSM tree for all but large records, so prefetching them
// would only cost a goroutine per key.
func liveIterator(txn *badger.Txn, since uint64) *badger.Iterator {
	return txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, SinceTs: since})
}

// reserved reports whether key is one flowg keeps for itself (never backed up).
func reserved(key []byte) bool { return bytes.HasPrefix(key, []byte(kv.ReservedPrefix)) }

// dumpRaw writes the raw Badger stream sequentially; it exists for interop
// with `badger restore`, not for speed.
func dumpRaw(ctx context.Context, txn *badger.Txn, out *rawWriter, progress func(keys, bytes uint64)) (Summary, error) {
	it := liveIterator(txn, 0)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if item.IsDeletedOrExpired() || reserved(item.Key()) {
			continue
		}
		err := item.Value(func(v []byte) error {
			return out.Add(item.Key(), v, item.UserMeta(), item.Version(), item.ExpiresAt())
		})
		if err != nil {
			return out.summary, fmt.Errorf("read key %q: %w", truncateKey(item.Key()), err)
		}
		if out.summary.Keys%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return out.summary, err
			}
			if progress != nil {
				progress(out.summary.Keys, out.summary.Bytes)
			}
		}
	}
	return out.Close()
}
