package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/flowg-backup/flowg/kv"
)

// ErrInChain is returned when deleting a set another set builds on.
var ErrInChain = errors.New("backup set is part of an incremental chain")

// pickParent makes opts an incremental set on top of the newest complete
// set holding a flowg backup of every source — skipping newer sets that
// hold only some, such as the safety snapshot of one database a restore
// wrote — if every database is still in the epoch that set read it in and
// the chain has room; otherwise opts stays a full set and opts.FullReason
// says why, for the manifest.
func (c *Catalog) pickParent(ctx context.Context, sources []Source, opts *SetOptions) error {
	sets, err := c.List(ctx)
	if err != nil {
		return err
	}
	reason := "there is no complete set to build on"
	for _, s := range sets {
		if !usable(s) {
			continue
		}
		if lacks := lacking(s, sources); len(lacks) > 0 {
			if reason == "there is no complete set to build on" {
				reason = fmt.Sprintf("no complete set holds a flowg backup of %s to build on (the newest, %s, lacks it)", strings.Join(lacks, ", "), s.ID)
			}
			continue
		}
		since, why, err := chainOnto(s, sets, sources, opts.MaxChain, opts.ExcludeStreams)
		if err != nil {
			return err
		}
		if why != "" {
			opts.FullReason = why
			return nil
		}
		opts.Parent, opts.SinceTs = s.ID, since
		return nil
	}
	opts.FullReason = reason
	return nil
}

// lacking returns the sources set s holds no flowg backup of.
func lacking(s SetInfo, sources []Source) []string {
	var lacks []string
	for _, src := range sources {
		if entry, ok := s.Databases[src.Name]; !ok || entry.Format == FormatBadger {
			lacks = append(lacks, src.Name)
		}
	}
	return lacks
}

// chainOnto returns each source's read timestamp in set s (one of sets, as
// Catalog.List gives them), which holds a flowg backup of every source, or
// why a set on top of s must be full instead.
func chainOnto(s SetInfo, sets []SetInfo, sources []Source, maxChain int, excluded []string) (map[string]uint64, string, error) {
	links, err := chainIn(sets, s.ID)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("the chain of set %s is broken: a set it builds on is missing or incomplete", s.ID), nil
	case maxChain > 0 && len(links) >= maxChain:
		held := fmt.Sprintf("%d sets", len(links))
		if len(links) == 1 {
			held = "1 set"
		}
		return nil, fmt.Sprintf("the chain of set %s already holds %s, the most a chain may hold (%d): a new chain starts", s.ID, held, maxChain), nil
	}
	since := map[string]uint64{}
	for _, src := range sources {
		entry := s.Databases[src.Name]
		epoch, err := kv.Epoch(src.DB)
		if err != nil {
			return nil, "", err
		}
		// A database whose versions are below what the set read was
		// replaced since, whatever its epoch file says.
		if epoch != entry.Epoch || src.DB.MaxVersion() < entry.ReadTs {
			return nil, fmt.Sprintf("a database was rebuilt since set %s was taken (a wipe restore, or a new directory): its versions start over, so a new chain starts", s.ID), nil
		}
		if !slices.Equal(entry.ExcludedStreams, excludesFor(src.Name, excluded)) {
			return nil, fmt.Sprintf("the streams left out of backups (--exclude-stream) changed since set %s: a new chain starts", s.ID), nil
		}
		since[src.Name] = entry.ReadTs
	}
	return since, "", nil
}

// chain returns the sets from the full set at its root up to id, oldest
// first; a missing or unfinished link is an error. It lists the catalog
// once.
func (c *Catalog) chain(ctx context.Context, id string) ([]SetInfo, error) {
	sets, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	return chainIn(sets, id)
}

// chainIn is chain within sets, as Catalog.List gives them.
func chainIn(sets []SetInfo, id string) ([]SetInfo, error) {
	byID := make(map[string]SetInfo, len(sets))
	for _, s := range sets {
		byID[s.ID] = s
	}
	var links []SetInfo
	for next := id; next != ""; {
		info, ok := byID[next]
		if !ok {
			return nil, fmt.Errorf("chain of set %s: %w: %s", id, ErrSetNotFound, next)
		}
		if info.Status != StatusComplete {
			return nil, fmt.Errorf("chain of set %s: set %s is %s", id, next, info.Label)
		}
		links = append([]SetInfo{info}, links...)
		if len(links) > len(sets) {
			return nil, fmt.Errorf("chain of set %s: it loops", id)
		}
		next = info.Parent
	}
	return links, nil
}

// Restorable returns an Opener for database db as set id holds it. For a
// full set that is its file; for an incremental set it is a flowg file of
// the state at that set, rebuilt from the whole chain (the full set, then
// each link's changes and deletions) in a scratch database under tmpDir.
// The caller calls cleanup when done with the Opener.
func (c *Catalog) Restorable(ctx context.Context, id, db, tmpDir string) (Opener, func(), error) {
	links, err := c.chain(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if len(links) == 1 {
		open, err := c.Open(ctx, id, db)
		return open, func() {}, err
	}
	path, err := c.materialize(ctx, links, db, tmpDir)
	if err != nil {
		return nil, nil, err
	}
	return FileOpener(path), func() { os.Remove(path) }, nil
}

// materialize replays a chain into a scratch database and dumps it.
func (c *Catalog) materialize(ctx context.Context, links []SetInfo, db, tmpDir string) (string, error) {
	work, err := os.MkdirTemp(tmpDir, "flowg-chain-")
	if err != nil {
		return "", fmt.Errorf("rebuild chain: %w", err)
	}
	defer os.RemoveAll(work)
	scratch := filepath.Join(work, "db")
	base, err := c.Open(ctx, links[0].ID, db)
	if err != nil {
		return "", err
	}
	if _, err := BuildWipeFrom(ctx, scratch, base, RestoreOptions{Database: db}); err != nil {
		return "", fmt.Errorf("rebuild chain: base set %s: %w", links[0].ID, err)
	}
	sdb, err := kv.Open(scratch, kv.OpenOptions{})
	if err != nil {
		return "", err
	}
	defer sdb.Close()
	for _, link := range links[1:] {
		open, err := c.Open(ctx, link.ID, db)
		if err != nil {
			return "", err
		}
		if err := applyLink(ctx, sdb, open, db); err != nil {
			return "", fmt.Errorf("rebuild chain: set %s: %w", link.ID, err)
		}
	}
	out, err := os.CreateTemp(tmpDir, "flowg-chain-*.db")
	if err != nil {
		return "", fmt.Errorf("rebuild chain: %w", err)
	}
	_, _, err = Dump(ctx, sdb, out, DumpOptions{Database: db, Compression: CompressionNone})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("rebuild chain: %w", err)
	}
	return out.Name(), nil
}

// applyLink writes one incremental file into db: its changed records, then
// deletes every key of db its key list lacks. The file is read whole first,
// so a bad link changes nothing.
func applyLink(ctx context.Context, db *badger.DB, open Opener, name string) error {
	if _, err := prepareLink(ctx, open, name); err != nil {
		return err
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	var pruner *keyPruner
	opts := ReadOptions{Database: name, Inventory: func(keys []*pb.KV) error {
		if pruner == nil {
			if err := wb.Flush(); err != nil {
				return err
			}
			pruner = newKeyPruner(db)
		}
		return pruner.keep(keys)
	}}
	r, size, err := open(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	opts.Size = size
	br, err := NewReader(r, opts)
	if err != nil {
		return err
	}
	for {
		kvs, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		for _, rec := range kvs {
			e := badger.NewEntry(rec.Key, rec.Value).WithMeta(userMetaOf(rec.UserMeta))
			e.ExpiresAt = rec.ExpiresAt
			if err := wb.SetEntry(e); err != nil {
				return err
			}
		}
	}
	if pruner == nil { // an empty key list: every key is gone
		if err := wb.Flush(); err != nil {
			return err
		}
		pruner = newKeyPruner(db)
	}
	return pruner.finish()
}

// prepareLink checks a link file whole before it is applied.
func prepareLink(ctx context.Context, open Opener, name string) (Summary, error) {
	r, size, err := open(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer r.Close()
	br, err := NewReader(r, ReadOptions{Size: size, Database: name, Inventory: func([]*pb.KV) error { return nil }})
	if err != nil {
		return Summary{}, err
	}
	if !br.Header().Incremental() {
		return Summary{}, fmt.Errorf("%w: a link of a chain is a full backup", ErrCorrupt)
	}
	err = drain(ctx, br)
	return br.Summary(), err
}

// keyPruner deletes the keys of a database that a sorted key list lacks,
// walking both in order.
type keyPruner struct {
	db  *badger.DB
	txn *badger.Txn
	it  *badger.Iterator
	del *badger.WriteBatch
}

func newKeyPruner(db *badger.DB) *keyPruner {
	txn := db.NewTransaction(false)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
	it.Rewind()
	return &keyPruner{db: db, txn: txn, it: it, del: db.NewWriteBatch()}
}

// keep takes the next keys of the list: keys of db before each are deleted.
func (k *keyPruner) keep(keys []*pb.KV) error {
	for _, want := range keys {
		if err := k.deleteBelow(want.Key); err != nil {
			return err
		}
		if k.it.Valid() && bytes.Equal(k.it.Item().Key(), want.Key) {
			k.it.Next()
		}
	}
	return nil
}

func (k *keyPruner) deleteBelow(key []byte) error {
	for ; k.it.Valid() && (key == nil || bytes.Compare(k.it.Item().Key(), key) < 0); k.it.Next() {
		if reserved(k.it.Item().Key()) {
			continue
		}
		if err := k.del.Delete(k.it.Item().KeyCopy(nil)); err != nil {
			return err
		}
	}
	return nil
}

// finish deletes what is left after the last listed key.
func (k *keyPruner) finish() error {
	err := k.deleteBelow(nil)
	k.it.Close()
	k.txn.Discard()
	if err != nil {
		k.del.Cancel()
		return err
	}
	return k.del.Flush()
}
