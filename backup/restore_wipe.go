package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/flowg-backup/flowg/kv"
	"google.golang.org/protobuf/encoding/protowire"
)

// wipeStreamID is the single StreamWriter stream a wipe restore writes: a
// flowg file is sorted by key, so one stream suffices.
const wipeStreamID = 1

// BuildWipeFrom bulk-loads the backup that open opens (read once) into a new
// database in staged, which must not exist, with Badger's StreamWriter, and
// closes it. The file is checked as it is loaded: on any defect staged is
// removed and the error returned, so nothing but staged is ever written. The
// caller swaps staged in (kv.SwapDir).
func BuildWipeFrom(ctx context.Context, staged string, open Opener, opts RestoreOptions) (Result, error) {
	if _, err := os.Lstat(staged); !errors.Is(err, os.ErrNotExist) {
		return Result{}, fmt.Errorf("staging directory %s already exists; remove it or retry", staged)
	}
	start := time.Now()
	res, err := buildWipe(ctx, staged, open, opts)
	res.Duration = time.Since(start)
	if err != nil {
		os.RemoveAll(staged)
		return res, err
	}
	return res, nil
}

func buildWipe(ctx context.Context, staged string, open Opener, opts RestoreOptions) (Result, error) {
	r, header, warnings, done, err := loadReader(ctx, open, opts, true)
	if err != nil {
		return Result{}, err
	}
	defer done()
	db, err := kv.Open(staged, kv.OpenOptions{BulkLoad: true})
	if err != nil {
		return Result{}, err
	}
	res, err := streamInto(ctx, db, r, opts, false)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close restored database: %w", cerr)
	}
	res.Header = header
	res.Warnings = append(warnings, res.Warnings...)
	return res, err
}

// loadReader opens the file open gives for a bulk load that checks it as
// it reads it (decrypted, its database named, its logical size bounded by
// opts.MaxBytes). A raw Badger stream, unsorted and versioned, is first
// converted into a sorted flowg file under opts.TmpDir, which the reader
// returned reads; header is the file's own, warnings say it was raw.
// sequential decodes frames one at a time (see ReadOptions.Sequential).
// done closes what was opened.
func loadReader(ctx context.Context, open Opener, opts RestoreOptions, sequential bool) (r *Reader, header Header, warnings []string, done func(), err error) {
	f, size, err := decrypting(open, opts.Identities)(ctx)
	if err != nil {
		return nil, Header{}, nil, nil, err
	}
	r, err = NewReader(f, ReadOptions{Size: size, Database: opts.Database, ReuseBuffers: true, Sequential: sequential, MaxBytes: opts.MaxBytes})
	if err != nil {
		f.Close()
		return nil, Header{}, nil, nil, err
	}
	header = r.Header()
	if !header.Raw {
		return r, header, nil, func() { f.Close() }, nil
	}
	// A raw stream is unsorted and versioned: resolve it first. Its
	// records go through a scratch database that keeps them.
	r.reuse = false
	converted, err := convertRaw(ctx, r, opts.Database, opts.TmpDir)
	f.Close()
	if err != nil {
		return nil, Header{}, nil, nil, err
	}
	cf, csize, err := openFile(converted)
	if err == nil {
		r, err = NewReader(cf, ReadOptions{Size: csize, ReuseBuffers: true, Sequential: sequential})
		if err != nil {
			cf.Close()
		}
	}
	if err != nil {
		os.Remove(converted)
		return nil, Header{}, nil, nil, err
	}
	return r, header, []string{RawWarning}, func() { cf.Close(); os.Remove(converted) }, nil
}

// streamInto writes every live record of r into the empty db through a
// StreamWriter, reading r to its end marker before Flush makes the data
// visible.
// With keepAll, expired and reserved records are loaded too (a verification
// compares everything the file holds).
func streamInto(ctx context.Context, db *badger.DB, r *Reader, opts RestoreOptions, keepAll bool) (Result, error) {
	res := Result{Header: r.Header()}
	w, err := newBulkWriter(db, opts.Progress)
	if err != nil {
		return res, err
	}
	defer w.close()
	now := opts.now()
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for _, rec := range kvs {
			if !keepAll && reserved(rec.Key) {
				continue
			}
			if !keepAll && expired(rec, now) {
				res.Expired++
				continue
			}
			if err := w.add(rec); err != nil {
				res.Written = w.records
				return res, err
			}
		}
	}
	res.Written = w.records
	res.File = r.Summary()
	if err := w.finish(); err != nil {
		return res, err
	}
	// A rebuilt database starts a new epoch: incremental backups taken
	// before it cannot be continued.
	return res, kv.NewEpoch(db.Opts().Dir)
}

// tableReleaseEvery is how many buffers a bulk load into db writes between
// two releases of its table pages: releaseEvery for flowg's ZSTD tables, a
// quarter of it for the Snappy tables of a scratch database (kv.OpenOptions
// Scratch), which hold about twice the bytes per record. Measured on a
// verify of 1M log records: releasing as often as for ZSTD tables let the
// scratch tables' pages reach 60 MiB, and the peak RSS 263 MiB.
func tableReleaseEvery(db *badger.DB) int {
	if db.Opts().Compression == options.ZSTD {
		return releaseEvery
	}
	return releaseEvery / 4
}

// bigRecord is the size from which a record is written through a buffer
// of its own, let go once written: appended to the shared buffer, one
// record of 64 MiB made it grow, for good, to 128 MiB.
const bigRecord = 4 << 20

// appendOrWrite appends rec to buf, or writes a big record at once, after
// what buf holds (the order of the stream is kept), then lets go of what
// writing it took (see collectBeforeBigRecord).
func appendOrWrite(sw *badger.StreamWriter, buf *z.Buffer, rec *pb.KV, dir string) error {
	if len(rec.Key)+len(rec.Value) < bigRecord {
		appendStreamRecord(buf, rec)
		return nil
	}
	if err := writeBuffer(sw, buf); err != nil {
		return err
	}
	collectBeforeBigRecord()
	own := z.NewBuffer(len(rec.Key)+len(rec.Value)+1<<10, "flowg.wipe.big")
	appendStreamRecord(own, rec)
	err := writeBuffer(sw, own)
	own.Release()
	_ = kv.ReleaseValueLogPages(dir)
	return err
}

// releaseBytes is how many bytes a restore or a load writes (or a
// verification reads back) between two releases of the pages it touched
// (see kv.ReleaseValueLogPages): values over Badger's threshold go to the
// value log, not into tables, so counting table writes (releaseEvery) alone
// let a file of large values grow the process by its whole size.
const releaseBytes = 64 << 20

// appendStreamRecord adds rec to buf as the StreamWriter reads it: a
// marshalled pb.KV of stream wipeStreamID, at version 1 when the file has
// none. Meta is left out: values go inline, and a copied value-pointer bit
// would empty them. It does what badger.KVToBuffer does, without going
// through protobuf reflection for every record.
func appendStreamRecord(buf *z.Buffer, rec *pb.KV) {
	version := max(rec.Version, 1)
	size := protowire.SizeTag(fieldKey) + protowire.SizeBytes(len(rec.Key)) +
		protowire.SizeTag(fieldVersion) + protowire.SizeVarint(version) +
		protowire.SizeTag(fieldStreamID) + protowire.SizeVarint(wipeStreamID)
	if len(rec.Value) > 0 {
		size += protowire.SizeTag(fieldValue) + protowire.SizeBytes(len(rec.Value))
	}
	if len(rec.UserMeta) > 0 {
		size += protowire.SizeTag(fieldUserMeta) + protowire.SizeBytes(len(rec.UserMeta))
	}
	if rec.ExpiresAt != 0 {
		size += protowire.SizeTag(fieldExpiresAt) + protowire.SizeVarint(rec.ExpiresAt)
	}
	b := buf.SliceAllocate(size)[:0]
	b = protowire.AppendTag(b, fieldKey, protowire.BytesType)
	b = protowire.AppendBytes(b, rec.Key)
	if len(rec.Value) > 0 {
		b = protowire.AppendTag(b, fieldValue, protowire.BytesType)
		b = protowire.AppendBytes(b, rec.Value)
	}
	if len(rec.UserMeta) > 0 {
		b = protowire.AppendTag(b, fieldUserMeta, protowire.BytesType)
		b = protowire.AppendBytes(b, rec.UserMeta)
	}
	b = protowire.AppendTag(b, fieldVersion, protowire.VarintType)
	b = protowire.AppendVarint(b, version)
	if rec.ExpiresAt != 0 {
		b = protowire.AppendTag(b, fieldExpiresAt, protowire.VarintType)
		b = protowire.AppendVarint(b, rec.ExpiresAt)
	}
	b = protowire.AppendTag(b, fieldStreamID, protowire.VarintType)
	protowire.AppendVarint(b, wipeStreamID)
}

func writeBuffer(sw *badger.StreamWriter, buf *z.Buffer) error {
	if buf.LenNoPadding() == 0 {
		return nil
	}
	if err := sw.Write(buf); err != nil {
		return fmt.Errorf("%w: records out of key order (%w)", ErrCorrupt, err)
	}
	buf.Reset()
	return nil
}

// WipeOptions tune WipeDir.
type WipeOptions struct {
	RestoreOptions
	// DiscardPrevious deletes the previous database instead of keeping it aside.
	DiscardPrevious bool
	// Stamp names the staging and set-aside directories; time.Now when zero.
	Stamp time.Time
	// Hold, when set, is given the unlock of a kv.LockDir taken on the new
	// database before it is swapped in: the caller keeps the restored
	// database from other processes until it calls it (the previous one's
	// lock, if the caller held it, stays with the previous directory).
	Hold func(unlock func())
	// KeepStreams are the stream globs the backup left out (its manifest
	// entry's ExcludedStreams): their current keys in dir are copied into
	// the new database, not deleted (see keepStreams).
	KeepStreams []string
}

// WipeDir replaces the (closed) database in dir by the backup at path:
// BuildWipe into a sibling directory, then a crash-safe swap. The previous
// database is kept at dir.before-restore-<stamp> (Result.SetAside) unless
// opts.DiscardPrevious. A dir that does not exist is simply created.
func WipeDir(ctx context.Context, dir, path string, opts WipeOptions) (Result, error) {
	return WipeFrom(ctx, dir, FileOpener(path), opts)
}

// WipeFrom is WipeDir on a file opened by open, read once.
func WipeFrom(ctx context.Context, dir string, open Opener, opts WipeOptions) (Result, error) {
	stamp := opts.Stamp
	if stamp.IsZero() {
		stamp = time.Now()
	}
	if err := kv.CheckSwappable(dir); err != nil {
		return Result{}, fmt.Errorf("%w: a wipe restore builds the new database beside it and swaps the two; restore into a directory inside the mount, or merge instead", err)
	}
	staged := kv.SiblingName(dir, "restore-staging", stamp)
	res, err := BuildWipeFrom(ctx, staged, open, opts.RestoreOptions)
	if err != nil {
		return res, err
	}
	if len(opts.KeepStreams) > 0 {
		n, err := keepStreams(dir, staged, opts.KeepStreams)
		if err != nil {
			os.RemoveAll(staged)
			return res, err
		}
		res.Warnings = append(res.Warnings, keptNote(opts.KeepStreams, n))
	}
	if opts.Hold != nil {
		unlock, err := kv.LockDir(staged)
		if err != nil {
			os.RemoveAll(staged)
			return res, err
		}
		opts.Hold(unlock)
	}
	aside, err := kv.SwapDir(dir, staged, kv.SiblingName(dir, "before-restore", stamp))
	res.SetAside = aside
	if err != nil {
		return res, err
	}
	// The database was replaced whole: no part of an earlier merge is left.
	if err := ClearIncomplete(dir); err != nil {
		return res, err
	}
	if opts.DiscardPrevious && aside != "" {
		if err := os.RemoveAll(aside); err != nil {
			return res, fmt.Errorf("discard previous database at %s: %w", aside, err)
		}
		res.SetAside = ""
	}
	return res, nil
}
