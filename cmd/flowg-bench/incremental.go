package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/memlimit"
	"github.com/flowg-backup/flowg/kv"
)

// Incremental operations, on a copy of the dataset that changed by 1% of
// its records after a full set was taken of it.
const (
	opIncrSet  = "incr-set"  // Catalog.Create with Incremental: on top of the full set
	opIncrFull = "incr-full" // Catalog.Create, a full set of the same database
)

// changeEvery is one record in changeEvery changed (1%).
const changeEvery = 100

// incremental is the state of the incremental measurement.
type incremental struct {
	root        string // WORK/run/incr
	db          string // the changed copy of the dataset
	catalog     string // the full set and, one round at a time, an incremental set on top
	fullCatalog string // incr-full's sets, removed after each round
	baseID      string
	info        incrInfo
	checked     bool
	// err says why the setup failed; every incremental sample fails with it.
	err string
}

// incrInfo describes the change and the check for the report.
type incrInfo struct {
	BaseSet     string `json:"base_set,omitempty"`
	BaseBytes   int64  `json:"base_bytes,omitempty"`
	Updated     int    `json:"updated"`
	Deleted     int    `json:"deleted"`
	Added       int    `json:"added"`
	LiveKeys    uint64 `json:"live_keys"`    // after the change
	ChangedKeys uint64 `json:"changed_keys"` // updated + added: the records an incremental holds
	SetupError  string `json:"setup_error,omitempty"`
	Check       *check `json:"check,omitempty"`
}

// check is a correctness check made outside the timing.
type check struct {
	What    string  `json:"what"`
	OK      bool    `json:"ok"`
	Detail  string  `json:"detail"`
	Keys    uint64  `json:"keys,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	Set     string  `json:"set,omitempty"`
}

// prepareIncremental copies the dataset, takes a full set of it into a
// local catalog, then changes 1% of its records: of every 100th record in
// key order, half are updated, a quarter deleted, and for the last quarter a
// new record is added. The change is deterministic (seeded).
func prepareIncremental(ctx context.Context, b *bench) *incremental {
	in := &incremental{root: b.path("incr")}
	in.db = filepath.Join(in.root, "logs")
	in.catalog = filepath.Join(in.root, "catalog")
	in.fullCatalog = filepath.Join(in.root, "full-catalog")
	start := time.Now()
	if err := in.setup(ctx, b.ds); err != nil {
		in.err = "setup: " + err.Error()
		in.info.SetupError = in.err
		fmt.Fprintf(b.errOut, "incremental: %s\n", in.err)
		return in
	}
	fmt.Fprintf(b.errOut, "incremental: full set %s (%s), then %d records updated, %d deleted, %d added (%.1f s)\n",
		in.baseID, mib(in.info.BaseBytes), in.info.Updated, in.info.Deleted, in.info.Added, time.Since(start).Seconds())
	return in
}

func (in *incremental) setup(ctx context.Context, ds dataset) error {
	if err := kv.CopyDir(ds.Dir, in.db); err != nil {
		return fmt.Errorf("copy the dataset: %w", err)
	}
	db, err := kv.Open(in.db, kv.OpenOptions{})
	if err != nil {
		return err
	}
	err = func() error {
		m, err := backup.OpenCatalog(in.catalog).Create(ctx, []backup.Source{{Name: benchDatabase, DB: db}},
			backup.SetOptions{WriteOptions: backup.WriteOptions{ToolVersion: "flowg-bench"}})
		if err != nil {
			return fmt.Errorf("full set: %w", err)
		}
		in.baseID, in.info.BaseSet, in.info.BaseBytes = m.ID, m.ID, m.Databases[benchDatabase].Bytes
		return in.change(db, ds)
	}()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// change applies the 1% change to db.
func (in *incremental) change(db *badger.DB, ds dataset) error {
	g := newGenerator(ds.Seed^0xbb67ae8584caa73b, ds.Records)
	streams := map[string]*stream{}
	for i := range g.streams {
		streams[g.streams[i].name] = &g.streams[i]
	}
	type update struct {
		key       []byte
		expiresAt uint64
	}
	var updates []update
	var deletes [][]byte
	adds := 0
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("log/")})
		defer it.Close()
		i := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if i%changeEvery == 0 {
				item := it.Item()
				switch (i / changeEvery) % 4 {
				case 0, 1:
					updates = append(updates, update{item.KeyCopy(nil), item.ExpiresAt()})
				case 2:
					deletes = append(deletes, item.KeyCopy(nil))
				case 3:
					adds++
				}
			}
			i++
		}
		return nil
	})
	if err != nil {
		return err
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, u := range updates {
		name, ts, ok := splitLogKey(u.key)
		s := streams[name]
		if !ok || s == nil {
			return fmt.Errorf("unexpected key %q", u.key)
		}
		g.ts = ts
		e := badger.NewEntry(u.key, g.value(s))
		e.ExpiresAt = u.expiresAt
		if err := wb.SetEntry(e); err != nil {
			return err
		}
	}
	for _, k := range deletes {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	// New records come after the dataset's day of logs, with sequence
	// numbers after its last one, as ingest would write them.
	first := datasetBase.Add(24 * time.Hour).UnixNano()
	seq := uint64(datasetBase.UnixNano()) + uint64(ds.Records)
	for j := range adds {
		s := &g.streams[j%len(g.streams)]
		g.ts = first + int64(j)*int64(time.Millisecond)
		seq++
		key := append([]byte("log/"+s.name+"/"), make([]byte, 16)...)
		binary.BigEndian.PutUint64(key[len(key)-16:], uint64(g.ts))
		binary.BigEndian.PutUint64(key[len(key)-8:], seq)
		e := badger.NewEntry(key, g.value(s))
		if s.ttl {
			e.ExpiresAt = uint64(ds.ExpiresAt.Unix())
		}
		if err := wb.SetEntry(e); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	in.info.Updated, in.info.Deleted, in.info.Added = len(updates), len(deletes), adds
	in.info.LiveKeys = ds.Keys - uint64(len(deletes)) + uint64(adds)
	in.info.ChangedKeys = uint64(len(updates) + adds)
	return nil
}

// splitLogKey returns the stream and timestamp of a log record's key
// (log/<stream>/<ts><seq>, both big-endian uint64).
func splitLogKey(key []byte) (string, int64, bool) {
	rest, ok := bytes.CutPrefix(key, []byte("log/"))
	if !ok || len(rest) < 18 || rest[len(rest)-17] != '/' {
		return "", 0, false
	}
	return string(rest[:len(rest)-17]), int64(binary.BigEndian.Uint64(rest[len(rest)-16:])), true
}

// measure runs incr-set or incr-full once. After the first incremental set,
// outside the timing, its chain is restored and compared with the live
// database; then the set is deleted, so every round's incremental set builds
// on the same full set.
func (in *incremental) measure(ctx context.Context, b *bench, round int, op string) sample {
	if in.err != "" {
		return sample{Round: round, Op: op, Error: in.err}
	}
	s := b.child(ctx, round, op, in.childArgs(b, op), nil)
	if s.Error == "" {
		s.Error = in.checkSample(s)
	}
	if op == opIncrSet && s.Error == "" && !in.checked {
		in.checked = true
		c := in.checkRestore(ctx, s.SetID, b.path("incr-restore"), b.path("tmp"))
		in.info.Check = &c
		fmt.Fprintf(b.errOut, "incremental: %s: %s\n", c.What, c.Detail)
	}
	if err := in.dropSet(op, s.SetID); err != nil && s.Error == "" {
		s.Error = err.Error()
	}
	return s
}

// childArgs are the arguments of the child that runs incr-set or incr-full.
func (in *incremental) childArgs(b *bench, op string) []string {
	args := []string{"--db", in.db, "--tmp", b.path("tmp")}
	if op == opIncrSet {
		return append(args, "--catalog", in.catalog, "--incremental")
	}
	return append(args, "--catalog", in.fullCatalog)
}

// dropSet deletes the set op wrote, so that the next incr-set builds on
// the same full set again.
func (in *incremental) dropSet(op, id string) error {
	if op == opIncrFull {
		return os.RemoveAll(in.fullCatalog)
	}
	if id == "" {
		return nil
	}
	if err := backup.OpenCatalog(in.catalog).Delete(context.Background(), id); err != nil {
		return fmt.Errorf("delete the incremental set: %w", err)
	}
	return nil
}

// checkSample compares what a set reports with the change.
func (in *incremental) checkSample(s sample) string {
	switch s.Op {
	case opIncrSet:
		switch {
		case s.Parent != in.baseID:
			return fmt.Sprintf("incr-set wrote a set on top of %q, not the full set %s", s.Parent, in.baseID)
		case s.Keys != in.info.ChangedKeys:
			return fmt.Sprintf("incr-set holds %d records, %d were updated or added", s.Keys, in.info.ChangedKeys)
		case s.Inventory != in.info.LiveKeys:
			return fmt.Sprintf("incr-set lists %d live keys, the database holds %d", s.Inventory, in.info.LiveKeys)
		}
	case opIncrFull:
		switch {
		case s.Parent != "":
			return fmt.Sprintf("incr-full wrote a set on top of %s", s.Parent)
		case s.Keys != in.info.LiveKeys:
			return fmt.Sprintf("incr-full holds %d keys, the database %d", s.Keys, in.info.LiveKeys)
		}
	}
	return ""
}

// checkRestore restores set id's chain (Catalog.Restorable, then
// backup.WipeFrom into target) and compares the result with the live
// database record by record.
func (in *incremental) checkRestore(ctx context.Context, id, target, tmp string) check {
	c := check{What: "incremental chain restored (Catalog.Restorable + backup.WipeFrom) equals the live database", Set: id}
	start := time.Now()
	removeTarget(target)
	defer removeTarget(target)
	open, cleanup, err := backup.OpenCatalog(in.catalog).Restorable(ctx, id, benchDatabase, tmp)
	if err != nil {
		c.Detail = fmt.Sprintf("Restorable: %v", err)
		return c
	}
	_, err = backup.WipeFrom(ctx, target, open, backup.WipeOptions{
		RestoreOptions:  backup.RestoreOptions{Database: benchDatabase, TmpDir: tmp},
		DiscardPrevious: true,
	})
	cleanup()
	if err != nil {
		c.Detail = fmt.Sprintf("WipeFrom: %v", err)
		return c
	}
	keys, err := sameDatabases(in.db, target)
	c.Keys, c.Seconds = keys, time.Since(start).Seconds()
	switch {
	case err != nil:
		c.Detail = err.Error()
	case keys != in.info.LiveKeys:
		c.Detail = fmt.Sprintf("both hold %d keys, %d were expected", keys, in.info.LiveKeys)
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("%d keys, values, UserMeta and ExpiresAt identical (%d updated, %d deleted, %d added since the full set)",
			keys, in.info.Updated, in.info.Deleted, in.info.Added)
	}
	return c
}

// sameDatabases compares the newest live version of every key (flowg's
// reserved keys aside) of two closed databases, and returns how many keys
// they hold.
func sameDatabases(wantDir, gotDir string) (uint64, error) {
	want, err := kv.Open(wantDir, kv.OpenOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer want.Close()
	got, err := kv.Open(gotDir, kv.OpenOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer got.Close()
	wt, gt := want.NewTransaction(false), got.NewTransaction(false)
	defer wt.Discard()
	defer gt.Discard()
	wi, gi := wt.NewIterator(badger.DefaultIteratorOptions), gt.NewIterator(badger.DefaultIteratorOptions)
	defer wi.Close()
	defer gi.Close()
	skip := func(it *badger.Iterator) {
		for it.Valid() && bytes.HasPrefix(it.Item().Key(), []byte(kv.ReservedPrefix)) {
			it.Next()
		}
	}
	var n uint64
	wi.Rewind()
	gi.Rewind()
	for {
		skip(wi)
		skip(gi)
		if !wi.Valid() || !gi.Valid() {
			break
		}
		w, g := wi.Item(), gi.Item()
		if !bytes.Equal(w.Key(), g.Key()) {
			if bytes.Compare(w.Key(), g.Key()) < 0 {
				return n, fmt.Errorf("key %q is missing from the restored database", w.Key())
			}
			return n, fmt.Errorf("the restored database holds key %q, the live one does not", g.Key())
		}
		wv, err := w.ValueCopy(nil)
		if err != nil {
			return n, err
		}
		gv, err := g.ValueCopy(nil)
		if err != nil {
			return n, err
		}
		switch {
		case !bytes.Equal(wv, gv):
			return n, fmt.Errorf("key %q: the restored value differs", w.Key())
		case w.UserMeta() != g.UserMeta():
			return n, fmt.Errorf("key %q: UserMeta %d restored, %d live", w.Key(), g.UserMeta(), w.UserMeta())
		case w.ExpiresAt() != g.ExpiresAt():
			return n, fmt.Errorf("key %q: ExpiresAt %d restored, %d live", w.Key(), g.ExpiresAt(), w.ExpiresAt())
		}
		n++
		wi.Next()
		gi.Next()
	}
	if wi.Valid() {
		return n, fmt.Errorf("key %q and later ones are missing from the restored database", wi.Item().Key())
	}
	if gi.Valid() {
		return n, fmt.Errorf("the restored database holds key %q and later ones, the live one does not", gi.Item().Key())
	}
	return n, nil
}

// errNoCatalog is returned by catalogSet without --catalog.
var errNoCatalog = errors.New("--catalog is required")

// catalogSet is the child side of local-set, s3-set, incr-set and
// incr-full: the database opened read-only, as flowg admin backup opens it,
// written as a set with Catalog.Create into --catalog (a directory or an
// s3:// URL, credentials from the environment).
func catalogSet(ctx context.Context, a opArgs, res *opResult) error {
	memlimit.ForStreaming(os.Getenv)
	if a.catalog == "" {
		return errNoCatalog
	}
	snap, err := kv.OpenSnapshot(a.db, a.tmp)
	if err != nil {
		return err
	}
	m, err := func() (backup.Manifest, error) {
		cat, err := backup.OpenTarget(ctx, a.catalog, backup.S3Options{Endpoint: a.endpoint, Insecure: true})
		if err != nil {
			return backup.Manifest{}, err
		}
		return cat.Create(ctx, []backup.Source{{Name: benchDatabase, DB: snap.DB, Note: snap.Note}}, backup.SetOptions{
			WriteOptions: backup.WriteOptions{ToolVersion: "flowg-bench"},
			Incremental:  a.incremental,
		})
	}()
	if cerr := snap.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	e := m.Databases[benchDatabase]
	res.Keys, res.LogicalBytes, res.FileBytes = e.Keys, e.LogicalBytes, e.Bytes
	res.SetID, res.Parent, res.Inventory, res.ContentSum = m.ID, m.Parent, e.InventoryKeys, e.ContentSum
	return nil
}
