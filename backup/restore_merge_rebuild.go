package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4/pb"

	"github.com/flowg-backup/flowg/kv"
)

// A merge rebuilt beside its database: what an offline merge does when it
// can. Badger's own write path (KVLoader, transactions) grows with the data
// it is given, to gigabytes for millions of records, and leaves the old
// versions for compaction. Both inputs are sorted by key, so the merge is
// a merge join instead: the database's live keys and the file's records,
// read side by side, the file's record winning on a key both hold, are
// written through a StreamWriter into a new database in a sibling
// directory, which the caller swaps in (as a wipe's). Memory stays that of
// a wipe restore whatever the sizes, and a crash at any point leaves the
// database as it was.

// MergeBuild is what BuildMerged did.
type MergeBuild struct {
	Result
	// Kept counts the database's keys the file did not hold, copied over.
	Kept uint64
	// Dropped counts the keys left out because drop named them (the keys a
	// restore to an instant deletes) and the database or the file held them.
	Dropped uint64
}

// MergeInto says where a merge rebuilt beside its database writes.
type MergeInto struct {
	// From is the database's directory, closed and held by the caller; it
	// is only read.
	From string
	// Staged is the new database's directory, which must not exist.
	Staged string
	// Drop are keys left out whichever side holds them (the keys a restore
	// to an instant deletes).
	Drop [][]byte
	// Progress, when set, is given the file's records and bytes written.
	Progress func(keys, bytes uint64)
}

// BuildMerged writes into to.Staged the database in to.From merged with
// the prepared file: every live key of the database the file lacks, at its
// version, and every record of the file at one version above all of the
// database's (as a merge writes them, at a fresh commit timestamp), except
// the keys to drop. The database's epoch carries over, so incremental
// backups go on (unless the new database's versions would end below the
// newest it held: see buildMerged). On any error the staging directory is
// removed.
func (p *Prepared) BuildMerged(ctx context.Context, to MergeInto) (MergeBuild, error) {
	src := mergeSource{each: p.c.eachReused, header: p.c.header, warnings: p.c.warnings, opts: p.opts,
		summary: func() Summary { return p.c.summary }}
	return buildMergedFrom(ctx, src, to, "")
}

// BuildMergedFrom is BuildMerged on the file open gives, read once and
// checked as it is read (checksums, database, opts.MaxBytes, its end
// marker, and its SHA-256 against wantSHA256 unless ""): the new database
// is kept only if the file held to its end, so the database merged with is
// never changed by a bad file.
func BuildMergedFrom(ctx context.Context, open Opener, opts RestoreOptions, wantSHA256 string, to MergeInto) (MergeBuild, error) {
	r, header, warnings, done, err := loadReader(ctx, open, opts, false)
	if err != nil {
		return MergeBuild{}, err
	}
	defer done()
	src := mergeSource{each: readerEach(r), header: header, warnings: warnings, opts: opts, summary: r.Summary}
	return buildMergedFrom(ctx, src, to, wantSHA256)
}

// mergeSource is the file a merge rebuilt beside reads.
type mergeSource struct {
	each     func(ctx context.Context, fn func(*pb.KV) error) error // every record, in key order
	header   Header
	summary  func() Summary // once each returned
	warnings []string
	opts     RestoreOptions
}

func buildMergedFrom(ctx context.Context, file mergeSource, to MergeInto, wantSHA256 string) (MergeBuild, error) {
	if _, err := os.Lstat(to.Staged); !errors.Is(err, os.ErrNotExist) {
		return MergeBuild{}, fmt.Errorf("staging directory %s already exists; remove it or retry", to.Staged)
	}
	start := time.Now()
	res, err := buildMerged(ctx, file, to)
	res.Header, res.File, res.Duration = file.header, file.summary(), time.Since(start)
	res.Warnings = append(slices.Clone(file.warnings), res.Warnings...)
	if err == nil && wantSHA256 != "" && res.File.SHA256 != wantSHA256 {
		err = fmt.Errorf("%w: its SHA-256 differs from the one the set's manifest records", ErrChecksum)
	}
	if err != nil {
		os.RemoveAll(to.Staged)
		return res, fmt.Errorf("merge restore: %w", err)
	}
	return res, nil
}

func buildMerged(ctx context.Context, file mergeSource, to MergeInto) (res MergeBuild, err error) {
	from, staged, progress := to.From, to.Staged, to.Progress
	src, err := kv.Open(from, kv.OpenOptions{ReadOnly: true, Locked: true})
	if err != nil {
		return res, err
	}
	defer src.Close()
	dst, err := kv.Open(staged, kv.OpenOptions{BulkLoad: true})
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := dst.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close the merged database: %w", cerr)
		}
	}()
	w, err := newBulkWriter(dst, nil)
	if err != nil {
		return res, err
	}
	defer w.close()
	held := readHeld(ctx, src, from)
	defer held.stop()
	j := &mergeJoin{ctx: ctx, w: w, held: held, version: src.MaxVersion() + 1,
		drop: dropSet(to.Drop), res: &res, added: file.opts.Added}

	now := file.opts.now()
	// The file's records and bytes written, and when progress was last given.
	var written, shown, shownBytes uint64
	err = file.each(ctx, func(rec *pb.KV) error {
		if reserved(rec.Key) {
			return nil
		}
		if expired(rec, now) {
			res.Expired++ // what the database holds of it stays
			return nil
		}
		if err := j.record(rec); err != nil {
			return err
		}
		written += uint64(len(rec.Key) + len(rec.Value))
		if progress != nil && (res.Written-shown >= 1024 || written-shownBytes >= 16<<20) {
			progress(res.Written, written)
			shown, shownBytes = res.Written, written
		}
		return nil
	})
	if err == nil {
		err = j.copyBelow(nil)
	}
	if err == nil {
		err = w.finish()
	}
	if err != nil {
		return res, err
	}
	if progress != nil {
		progress(res.Written, written)
	}
	if j.top < j.version-1 {
		// Nothing was written at or above the database's newest version
		// (a file that wrote nothing, into a database whose newest
		// versions were deletes, which are not copied): the new database
		// would hand out versions at or below what its last backups read,
		// and an incremental set taken since one of them would leave out
		// the writes made after the swap. It keeps the fresh epoch its
		// creation gave it: the next backup is full.
		return res, nil
	}
	return res, kv.CopyEpoch(from, staged)
}

// mergeJoin writes the merged database, one key at a time in key order.
type mergeJoin struct {
	ctx     context.Context
	w       *bulkWriter
	held    *heldRecords // the database's live records, a step ahead of the file
	version uint64       // at which the file's records are written
	drop    map[string]struct{}
	added   func(key []byte)
	res     *MergeBuild

	out pb.KV // the record being written
	um  [1]byte
	top uint64 // the highest version written
}

// record writes rec, after the database's keys below it; the database's
// own record of rec's key, if any, is passed over.
func (j *mergeJoin) record(rec *pb.KV) error {
	if err := j.copyBelow(rec.Key); err != nil {
		return err
	}
	if j.held.valid() && bytes.Equal(j.held.key(), rec.Key) {
		j.held.next()
	} else {
		j.res.Added++
		if j.added != nil {
			j.added(rec.Key)
		}
	}
	if j.dropped(rec.Key) {
		return nil
	}
	j.out = pb.KV{Key: rec.Key, Value: rec.Value, UserMeta: rec.UserMeta, ExpiresAt: rec.ExpiresAt, Version: j.version}
	if err := j.add(&j.out); err != nil {
		return fmt.Errorf("write (at key %q): %w", truncateKey(rec.Key), err)
	}
	j.res.Written++
	return nil
}

// copyBelow copies the database's records with keys below key (all of
// them when key is nil).
func (j *mergeJoin) copyBelow(key []byte) error {
	for ; j.held.valid(); j.held.next() {
		k, v, r := j.held.record()
		if key != nil && bytes.Compare(k, key) >= 0 {
			return nil
		}
		if j.dropped(k) {
			continue
		}
		j.out = pb.KV{Key: k, Value: v, Version: r.version, ExpiresAt: r.expiresAt}
		if r.userMeta != 0 {
			j.um[0] = r.userMeta
			j.out.UserMeta = j.um[:]
		}
		if err := j.add(&j.out); err != nil {
			return fmt.Errorf("copy the database's key %q: %w", truncateKey(k), err)
		}
		j.res.Kept++
	}
	if err := j.held.failed(); err != nil {
		return fmt.Errorf("read the database: %w", err)
	}
	return nil
}

// add writes rec, and stops when the merge is cancelled.
func (j *mergeJoin) add(rec *pb.KV) error {
	if j.w.records%1024 == 0 {
		if err := j.ctx.Err(); err != nil {
			return err
		}
	}
	j.top = max(j.top, rec.Version)
	return j.w.add(rec)
}

// dropped reports whether key is one to leave out, counting it.
func (j *mergeJoin) dropped(key []byte) bool {
	if _, ok := j.drop[string(key)]; !ok {
		return false
	}
	j.res.Dropped++
	return true
}

func dropSet(keys [][]byte) map[string]struct{} {
	if len(keys) == 0 {
		return nil
	}
	set := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		set[string(k)] = struct{}{}
	}
	return set
}
