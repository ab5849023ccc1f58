package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/memlimit"
	"github.com/flowg-backup/flowg/kv"
)

// Incremental sets with continuous backup on (group incr-journal): the
// dataset's logs database, served beside empty auth and config databases
// with continuous backup running on a local catalog, after the journal's
// full set and the same 1% change as the incremental group:
//
//	jincr-full  Catalog.Create, a full set, continuous backup on
//	jincr-set   Catalog.Create incremental on that full set: built from the
//	            journal (the child fails if the set was read from the database)
//
// Each child opens the databases and starts continuous backup (the journal
// continues its chain) before its timed part, which is the Create alone,
// and stops them after it. After the first jincr-set, outside the timing,
// its chain is restored and compared with the live database.
const (
	groupIncrJournal = "incr-journal"
	opJIncrSet       = "jincr-set"
	opJIncrFull      = "jincr-full"
)

func init() {
	operations[opJIncrSet] = journalSet
	operations[opJIncrFull] = journalSet
	opInfo = append(opInfo,
		struct{ op, what string }{opJIncrFull, "`Catalog.Create`, full set, continuous backup on, after 1% of records changed"},
		struct{ op, what string }{opJIncrSet, "`Catalog.Create` incremental on the full set, built from the continuous-backup journal"})
	ownLogical[opJIncrSet], ownLogical[opJIncrFull] = true, true
}

// journalIncr is the state of the incr-journal measurement.
type journalIncr struct {
	incremental
	dirs kv.Dirs
}

// prepareJournalIncr copies the dataset as the logs database of a store,
// starts continuous backup on it (which takes the full set its journal
// starts from), changes 1% of the records through the store (captured by
// the journal), and stops.
func prepareJournalIncr(ctx context.Context, b *bench) *journalIncr {
	root := b.path("jincr")
	ji := &journalIncr{dirs: kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")}}
	ji.root, ji.db, ji.catalog = root, ji.dirs.Logs, filepath.Join(root, "catalog")
	start := time.Now()
	if err := ji.setup(ctx, b.ds); err != nil {
		ji.err = "setup: " + err.Error()
		ji.info.SetupError = ji.err
		fmt.Fprintf(b.errOut, "incr-journal: %s\n", ji.err)
		return ji
	}
	fmt.Fprintf(b.errOut, "incr-journal: continuous backup's full set %s, then %d records updated, %d deleted, %d added (%.1f s)\n",
		ji.baseID, ji.info.Updated, ji.info.Deleted, ji.info.Added, time.Since(start).Seconds())
	return ji
}

func (ji *journalIncr) setup(ctx context.Context, ds dataset) error {
	if err := kv.CopyDir(ds.Dir, ji.dirs.Logs); err != nil {
		return fmt.Errorf("copy the dataset: %w", err)
	}
	store, err := kv.OpenStore(ji.dirs)
	if err != nil {
		return err
	}
	cat := backup.OpenCatalog(ji.catalog)
	cont, err := backup.StartContinuous(ctx, cat, store, journalOptions())
	if err != nil {
		store.Close()
		return err
	}
	err = func() error {
		sets, err := cat.List(ctx)
		if err != nil || len(sets) != 1 {
			return fmt.Errorf("want the one set continuous backup starts from, got %d (%v)", len(sets), err)
		}
		ji.baseID, ji.info.BaseSet, ji.info.BaseBytes = sets[0].ID, sets[0].ID, sets[0].Databases[benchDatabase].Bytes
		db, release, err := store.Acquire(kv.Logs)
		if err != nil {
			return err
		}
		defer release()
		if err := ji.change(db, ds); err != nil {
			return err
		}
		// Compacted now, so that no child meets Badger compacting the
		// change in the background while it is timed.
		return db.Flatten(2)
	}()
	cont.Stop()
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	return err
}

// journalOptions are the continuous backup options of the measurement:
// no compaction during it.
func journalOptions() backup.ContinuousOptions {
	return backup.ContinuousOptions{CompactAfter: -1, ToolVersion: "flowg-bench"}
}

// measure runs jincr-set or jincr-full once, checks it, restores the first
// jincr-set's chain, and deletes the set so every round builds on the
// same full set.
func (ji *journalIncr) measure(ctx context.Context, b *bench, round int, op string) sample {
	if ji.err != "" {
		return sample{Round: round, Op: op, Error: ji.err}
	}
	s := b.child(ctx, round, op, ji.childArgs(op), nil)
	if s.Error == "" {
		s.Error = ji.checkSample(s)
	}
	if op == opJIncrSet && s.Error == "" && !ji.checked {
		ji.checked = true
		c := ji.checkRestore(ctx, s.SetID, b.path("jincr-restore"), b.path("tmp"))
		c.What = "incremental set built from the journal, its chain restored, equals the live database"
		ji.info.Check = &c
		fmt.Fprintf(b.errOut, "incr-journal: %s: %s\n", c.What, c.Detail)
	}
	if s.SetID != "" {
		if err := backup.OpenCatalog(ji.catalog).Delete(context.Background(), s.SetID); err != nil && s.Error == "" {
			s.Error = fmt.Sprintf("delete the set: %v", err)
		}
	}
	return s
}

// childArgs are the arguments of the child that runs jincr-set or jincr-full.
func (ji *journalIncr) childArgs(op string) []string {
	args := []string{"--db", ji.root, "--catalog", ji.catalog}
	if op == opJIncrSet {
		args = append(args, "--incremental")
	}
	return args
}

// profiles runs jincr-set and jincr-full once more with profiles (--profile),
// deleting each set after it.
func (ji *journalIncr) profiles(b *bench, profile func(op string, args []string) sample) {
	if ji == nil || ji.err != "" {
		return
	}
	for _, op := range []string{opJIncrSet, opJIncrFull} {
		s := profile(op, ji.childArgs(op))
		if s.SetID == "" {
			continue
		}
		if err := backup.OpenCatalog(ji.catalog).Delete(context.Background(), s.SetID); err != nil {
			fmt.Fprintf(b.errOut, "profile %s: %v\n", op, err)
		}
	}
}

// checkSample compares what a set reports with the change.
func (ji *journalIncr) checkSample(s sample) string {
	if s.Op == opJIncrSet {
		s.Op = opIncrSet
	} else {
		s.Op = opIncrFull
	}
	return ji.incremental.checkSample(s)
}

// report adds the measurement's ratio and check to r.
func (ji *journalIncr) report(r *report) {
	if ji == nil {
		return
	}
	if ji.info.Check != nil {
		r.Checks = append(r.Checks, *ji.info.Check)
	}
	f, rf := r.stat(opJIncrSet), r.stat(opJIncrFull)
	if f.Runs == 0 || rf.Runs == 0 {
		return
	}
	q := ratio{Flowg: opJIncrSet, Reference: opJIncrFull, Time: div(f.Nanos, rf.Nanos), RSS: div(f.MaxRSSKiB, rf.MaxRSSKiB),
		Size: div(f.FileBytes, rf.FileBytes), Note: "continuous backup on: the incremental set is built from the journal"}
	q.Targets = []target{{"time ≤ 0.1×", q.Time <= 0.1}, {"output ≤ 0.1×", q.Size <= 0.1}}
	r.Ratios = append(r.Ratios, q)
}

// journalSet is the child side of jincr-set and jincr-full: the databases
// of --db (auth, config, logs) opened as a server opens them, continuous
// backup started on --catalog, and the set written with Catalog.Create,
// which alone is timed.
func journalSet(ctx context.Context, a opArgs, res *opResult) error {
	memlimit.ForStreaming(os.Getenv)
	if a.catalog == "" {
		return errNoCatalog
	}
	store, err := kv.OpenStore(kv.Dirs{Auth: filepath.Join(a.db, "auth"), Config: filepath.Join(a.db, "config"), Logs: filepath.Join(a.db, "logs")})
	if err != nil {
		return err
	}
	defer store.Close()
	cat := backup.OpenCatalog(a.catalog)
	cont, err := backup.StartContinuous(ctx, cat, store, journalOptions())
	if err != nil {
		return err
	}
	defer cont.Stop()
	db, release, err := store.Acquire(kv.Logs)
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	m, err := cat.Create(ctx, []backup.Source{{Name: benchDatabase, DB: db}}, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: "flowg-bench"},
		Incremental:  a.incremental,
	})
	end := time.Now()
	if err != nil {
		return err
	}
	e := m.Databases[benchDatabase]
	if a.incremental && e.Journal == nil {
		return fmt.Errorf("the incremental set was read from the database, not built from the journal: %s", e.NotFromJournal)
	}
	res.Nanos, res.StartUnixNs, res.EndUnixNs = end.Sub(start).Nanoseconds(), start.UnixNano(), end.UnixNano()
	res.Keys, res.LogicalBytes, res.FileBytes = e.Keys, e.LogicalBytes, e.Bytes
	res.SetID, res.Parent, res.Inventory, res.ContentSum = m.ID, m.Parent, e.InventoryKeys, e.ContentSum
	return nil
}
