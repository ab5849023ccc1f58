package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/flowg-backup/flowg/kv"
)

// An incremental set taken while continuous backup runs on its catalog is
// built from the journal rather than by reading the database: the journal
// already holds every change since the parent set, with exact deletes, so
// the set costs what changed, not what exists. Each database's file is
// the same incremental file (format 2) a read of the database gives:
//
//   - its records are the newest change of each key changed since the
//     parent's read version, read from the segments of the journal chain
//     through the catalog's journal store (the shipper first writes every
//     commit made so far as a segment; for an s3:// catalog the set waits
//     until the uploader shipped it, and reads the bucket);
//   - its key list, every live key, is the parent's key list (a full
//     parent's records, an incremental parent's key frames) with the keys
//     deleted since taken out and the keys created since put in; keys whose
//     expiry passed are left out, as Badger leaves them out of a read.
//
// Its version is the newest the chain covers, its instant that of the
// chain's last segment. When the journal cannot give the file — no chain
// reaching back to the parent's version (a new chain started since: a gap,
// a rebuilt database), a segment missing or damaged, more changes than the
// capture buffer's bound, segments an s3:// store does not take, an
// encrypted catalog without an identity — the file is read from the
// database as before, and the manifest's
// not_from_journal says why.

// journalSource builds the incremental files of one set from the journal.
type journalSource struct {
	cont   *Continuous
	cat    *Catalog
	parent string
}

// fromJournal makes opts, a set on top of opts.Parent, build its files from
// the catalog's journal when continuous backup runs on it; otherwise it
// says why not, for the manifest.
func (c *Catalog) fromJournal(opts *SetOptions) {
	cont := c.shipper.Load()
	switch {
	case opts.Trigger == TriggerContinuous:
		// The set a new chain starts from: the journal does not cover it,
		// and the shipper that asked for it cannot answer a flush.
		opts.notFromJournal = "it is the set a new journal chain starts from"
	case cont == nil:
		opts.notFromJournal = "continuous backup is not running on this catalog"
	case c.keys.Encrypts() && len(c.keys.Identities) == 0:
		opts.notFromJournal = "the catalog is encrypted and no identity to read its journal and parent set was given"
	default:
		opts.journal = &journalSource{cont: cont, cat: c, parent: opts.Parent}
	}
}

// writeIncrementalOrDump writes src's file of a set: from the journal when
// the set is incremental and the journal covers it, else read from the
// database (dumpSource).
func writeIncrementalOrDump(ctx context.Context, w io.Writer, src Source, opts SetOptions) (DBEntry, error) {
	since := opts.SinceTs[src.Name]
	if since == 0 || opts.Format == FormatBadger {
		return dumpSource(ctx, w, src, opts.WriteOptions, since)
	}
	why := opts.notFromJournal
	if opts.journal != nil {
		b, reason, log := opts.journal.prepare(ctx, src, since, opts)
		if b != nil {
			entry, err := b.write(ctx, w, src, opts)
			if err == nil {
				log.Info("incremental set built from the journal", "set", opts.ID, "chain", b.chain,
					"segments", fmt.Sprintf("%d-%d", b.first, b.last), "changes", b.changes, "version", b.upTo)
			}
			return entry, err
		}
		why = reason
		log.Warn("incremental set read from the database, not from the journal", "set", opts.ID, "reason", why)
	}
	entry, err := dumpSource(ctx, w, src, opts.WriteOptions, since)
	entry.NotFromJournal = why
	return entry, err
}

// journalBuild is what an incremental file is built from: the newest change
// of each key changed in versions (since, upTo], sorted by key.
type journalBuild struct {
	since, upTo uint64
	at          time.Time
	epoch       string
	chain       string
	first, last uint64 // the segments read
	changes     uint64
	ops         []op
	parent      Opener
}

// errTooManyChanges stops collecting changes past the memory bound.
var errTooManyChanges = errors.New("too many changes")

// prepare brings the journal of src up to date and collects its changes
// since version since; nil and the reason when the journal cannot give
// them. Nothing is written yet, so a refusal costs no partial file.
func (s *journalSource) prepare(ctx context.Context, src Source, since uint64, opts SetOptions) (*journalBuild, string, *slog.Logger) {
	log := slog.New(slog.DiscardHandler)
	j := s.cont.journalOf(src.Name)
	if j == nil {
		return nil, "continuous backup has no journal of this database", log
	}
	log = j.log
	j.mu.Lock()
	same := j.db == src.DB
	j.mu.Unlock()
	if !same {
		return nil, "the set reads another copy of the database than the journal captures", log
	}
	pos := s.cont.flush(ctx, src.Name)
	if pos.err != nil {
		return nil, "the journal could not be brought up to date: " + pos.err.Error(), log
	}
	epoch, err := kv.Epoch(src.DB)
	if err != nil {
		return nil, err.Error(), log
	}
	parent, err := s.cat.entry(ctx, s.parent, src.Name)
	if err != nil {
		return nil, "the parent set cannot be read: " + err.Error(), log
	}
	switch {
	case pos.epoch != epoch || parent.Epoch != epoch:
		return nil, "the database was rebuilt (a wipe restore): the journal, the parent set and the database are not of one epoch", log
	case !slices.Equal(pos.excludes, excludesFor(src.Name, opts.ExcludeStreams)):
		return nil, "the journal leaves out other streams (--exclude-stream) than this set", log
	case pos.upTo < since:
		return nil, fmt.Sprintf("the journal ends at version %d, before the parent set's %d", pos.upTo, since), log
	}
	b := &journalBuild{since: since, upTo: pos.upTo, at: pos.at, epoch: epoch}
	for attempt := 0; ; attempt++ {
		ch, err := readChain(ctx, pos.js, src.Name, pos.chain)
		if err != nil {
			return nil, "the journal chain cannot be listed: " + err.Error(), log
		}
		switch {
		case ch.BaseReadTs > since:
			return nil, fmt.Sprintf("the journal chain %s starts at version %d, after the parent set %s (version %d): %s",
				ch.ID, ch.BaseReadTs, s.parent, since, ch.Reason), log
		case ch.upTo() < pos.upTo:
			return nil, fmt.Sprintf("the journal chain %s stops at version %d, before %d: %s", ch.ID, ch.upTo(), pos.upTo, ch.problem), log
		}
		b.chain = ch.ID
		err = b.collect(ctx, ch, s.cat, pos.maxBytes)
		if errors.Is(err, ErrMissingFile) && attempt == 0 {
			continue // merged by a compaction since it was listed: list it again
		}
		if errors.Is(err, errTooManyChanges) {
			return nil, fmt.Sprintf("more than %d bytes changed since the parent set (--backup-continuous-max-buffer)", pos.maxBytes), log
		}
		if err != nil {
			return nil, "a journal segment cannot be read: " + err.Error(), log
		}
		break
	}
	b.parent = func(ctx context.Context) (io.ReadCloser, int64, error) {
		open, err := s.cat.Open(ctx, s.parent, src.Name)
		if err != nil {
			return nil, 0, err
		}
		return open(ctx)
	}
	return b, "", log
}

// collect reads the changes of versions (b.since, b.upTo] from chain ch's
// segments, keeping the newest of each key, at most maxBytes of them.
func (b *journalBuild) collect(ctx context.Context, ch chainState, cat *Catalog, maxBytes int64) error {
	newest := map[string]op{}
	var held int64
	b.first, b.last, b.changes = 0, 0, 0
	for _, seg := range ch.segs {
		if seg.upTo <= b.since {
			continue
		}
		if seg.since >= b.upTo {
			break
		}
		if b.first == 0 {
			b.first = seg.seq
		}
		b.last = seg.last
		err := ch.each(ctx, seg, cat.keys.Identities, func(o *op, _ *mark) error {
			if o == nil || o.version <= b.since || o.version > b.upTo {
				return nil
			}
			b.changes++
			key := string(o.key)
			if prev, ok := newest[key]; ok {
				held -= int64(len(prev.key)+len(prev.value)) + 64
			}
			c := *o
			c.key, c.value = []byte(key), bytes.Clone(o.value)
			newest[key] = c
			if held += int64(len(c.key)+len(c.value)) + 64; maxBytes > 0 && held > maxBytes {
				return errTooManyChanges
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("segment %s of chain %s: %w", seg, ch.ID, err)
		}
	}
	b.ops = make([]op, 0, len(newest))
	for _, o := range newest {
		b.ops = append(b.ops, o)
	}
	sort.Slice(b.ops, func(i, j int) bool { return bytes.Compare(b.ops[i].key, b.ops[j].key) < 0 })
	return nil
}

// write writes the incremental file of src into w, encrypted when opts say
// so, and describes it as dumpSource does.
func (b *journalBuild) write(ctx context.Context, w io.Writer, src Source, opts SetOptions) (DBEntry, error) {
	start := time.Now()
	out, finish, err := encrypting(w, opts.Keys)
	if err != nil {
		return DBEntry{}, err
	}
	hdr := Header{FormatVersion: FormatIncremental, Database: src.Name, Created: b.at.UTC(), ReadTs: b.upTo, SinceTs: b.since,
		ToolVersion: opts.ToolVersion, Compression: opts.Compression}
	fw, err := NewWriter(out, hdr)
	if err != nil {
		return DBEntry{}, err
	}
	now := uint64(time.Now().Unix())
	for _, o := range b.ops {
		if live(o, now) {
			if err := fw.addRecord(o.key, o.value, o.userMeta, o.version, o.expiresAt); err != nil {
				return DBEntry{}, err
			}
		}
	}
	if err := fw.beginKeys(); err != nil {
		return DBEntry{}, err
	}
	m := keyMerge{fw: fw, ops: b.ops, now: now}
	if err := readParentKeys(ctx, b.parent, src.Name, m.parentKey); err != nil {
		return DBEntry{}, fmt.Errorf("read the key list of the parent set: %w", err)
	}
	if err := m.finish(); err != nil {
		return DBEntry{}, err
	}
	sum, err := fw.Close()
	if err == nil {
		err = finish()
	}
	if err != nil {
		return DBEntry{}, err
	}
	entry := DBEntry{Format: FormatFlowg, Compression: fw.compression(), Created: hdr.Created,
		Keys: sum.Keys, LogicalBytes: sum.Bytes, ReadTs: b.upTo, ContentSum: sum.ContentSum, Duration: time.Since(start),
		Note: src.Note, SinceTs: b.since, InventoryKeys: sum.Inventory, Epoch: b.epoch,
		ExcludedStreams: excludesFor(src.Name, opts.ExcludeStreams),
		Journal:         &JournalBuilt{Chain: b.chain, FirstSegment: b.first, LastSegment: b.last, Changes: b.changes}}
	if opts.Keys.Encrypts() {
		entry.Encrypted = true
		entry.PlainSHA256 = sum.SHA256
	}
	return entry, nil
}

// live reports whether change o leaves its key live at Unix time now: a
// write whose expiry, if any, has not passed.
func live(o op, now uint64) bool {
	return !o.deleted && (o.expiresAt == 0 || o.expiresAt > now)
}

// keyMerge writes the key list of an incremental file: the parent's keys,
// in order, merged with the changes since.
type keyMerge struct {
	fw  *Writer
	ops []op // sorted by key
	i   int
	now uint64
}

// parentKey takes the parent's next key: changes of keys before it are
// written first; a key changed since is written as its change says.
func (m *keyMerge) parentKey(key []byte, expiresAt uint64) error {
	for ; m.i < len(m.ops) && bytes.Compare(m.ops[m.i].key, key) < 0; m.i++ {
		if err := m.change(m.ops[m.i]); err != nil {
			return err
		}
	}
	if m.i < len(m.ops) && bytes.Equal(m.ops[m.i].key, key) {
		m.i++
		return m.change(m.ops[m.i-1])
	}
	if expiresAt != 0 && expiresAt <= m.now {
		return nil // expired since: Badger no longer reads it
	}
	return m.fw.addKey(key, expiresAt)
}

func (m *keyMerge) change(o op) error {
	if !live(o, m.now) {
		return nil
	}
	return m.fw.addKey(o.key, o.expiresAt)
}

// finish writes the changes after the parent's last key.
func (m *keyMerge) finish() error {
	for ; m.i < len(m.ops); m.i++ {
		if err := m.change(m.ops[m.i]); err != nil {
			return err
		}
	}
	return nil
}

// addKey appends key to the key frames of an incremental file (after
// beginKeys), sealing the frame when the key would take it past its size.
func (w *Writer) addKey(key []byte, expiresAt uint64) error {
	if err := checkRecordSize(key, nil); err != nil {
		return err
	}
	if w.cur.keys > 0 && len(w.cur.raw)+recordSize(key, nil) > targetFrameRaw {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.cur.addKey(key, expiresAt)
	return nil
}

// readParentKeys hands fn every live key of the parent's file, in order,
// with its expiry: a full file's records, an incremental file's key list.
// The file is read whole and checked: a damaged parent fails the set.
func readParentKeys(ctx context.Context, open Opener, db string, fn func(key []byte, expiresAt uint64) error) error {
	r, size, err := open(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	br, err := NewReader(r, ReadOptions{Size: size, Database: db, ReuseBuffers: true, Inventory: func(kvs []*pb.KV) error {
		for _, kv := range kvs {
			if err := fn(kv.Key, kv.ExpiresAt); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		return err
	}
	incremental := br.Header().Incremental()
	for {
		kvs, err := br.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if incremental {
			continue // its records are changes; its key list follows
		}
		for _, kv := range kvs {
			if err := fn(kv.Key, kv.ExpiresAt); err != nil {
				return err
			}
		}
	}
}
