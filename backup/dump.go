package backup

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
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
}

// recordWriter is what Dump writes records to: a flowg Writer or a raw Badger stream.
type recordWriter interface {
	Add(key, value []byte, userMeta byte, version, expiresAt uint64) error
	Close() (Summary, error)
}

// Dump writes a point-in-time backup of db to w: the newest live version of
// every key, with its value, UserMeta and ExpiresAt, as of one read timestamp
// taken when Dump starts. Deleted and expired keys are left out. Writes to db
// may go on meanwhile; they are not in the backup. Memory stays bounded by one
// frame. Dump stops with ctx.Err() when ctx ends; w then holds a partial file
// that any reader rejects as truncated.
func Dump(ctx context.Context, db *badger.DB, w io.Writer, opts DumpOptions) (Header, Summary, error) {
	if err := ctx.Err(); err != nil {
		return Header{}, Summary{}, err
	}
	txn := db.NewTransaction(false)
	defer txn.Discard()
	return dumpTxn(ctx, txn, w, opts)
}

// dumpTxn is Dump at the read timestamp of txn.
func dumpTxn(ctx context.Context, txn *badger.Txn, w io.Writer, opts DumpOptions) (Header, Summary, error) {
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
	var out recordWriter
	if opts.Format == FormatBadger {
		hdr = Header{Raw: true, ReadTs: txn.ReadTs(), Database: opts.Database, Created: hdr.Created}
		out = newRawWriter(w)
	} else {
		fw, err := NewWriter(w, hdr)
		if err != nil {
			return hdr, Summary{}, err
		}
		hdr.Compression = fw.compression()
		out = fw
	}

	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	var value []byte
	var keys, bytes uint64
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if item.IsDeletedOrExpired() {
			continue
		}
		var err error
		value, err = item.ValueCopy(value[:0])
		if err != nil {
			return hdr, Summary{}, fmt.Errorf("read key %q: %w", truncateKey(item.Key()), err)
		}
		if err := out.Add(item.Key(), value, item.UserMeta(), item.Version(), item.ExpiresAt()); err != nil {
			return hdr, Summary{}, err
		}
		keys++
		bytes += uint64(len(item.Key()) + len(value))
		if keys%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return hdr, Summary{}, err
			}
			if opts.Progress != nil {
				opts.Progress(keys, bytes)
			}
		}
	}
	sum, err := out.Close()
	if err != nil {
		return hdr, sum, err
	}
	if opts.Progress != nil {
		opts.Progress(sum.Keys, sum.Bytes)
	}
	return hdr, sum, nil
}
