package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// dbJournal ships one database's captured changes into its chain.
type dbJournal struct {
	name  kv.Name
	db    *badger.DB
	store *kv.Store
	cat   *Catalog
	js    journalStore
	// stage ships the segments of an s3:// catalog (nil for a local one);
	// lease is the journal's lease there (nil: a local catalog's lock).
	stage   *stager
	lease   *journalLease
	opts    ContinuousOptions
	log     *slog.Logger
	cap     *capture
	res     *resolver
	subDone <-chan error
	subCtx  context.Context
	dbGone  bool // the subscription ended with the database (closed)

	chainDir  string
	chainID   string
	seq       uint64
	since     uint64    // the newest version shipped
	from      time.Time // the instant shipped up to
	lastWrite time.Time
	// lastCompact is when the database's chains were last compacted.
	lastCompact time.Time
	reason      string // why the next chain starts (see openJournal)
	// needChain, when set, says why the chain ended: captured changes are
	// dropped until a new chain starts from a new set (tried again, not
	// before chainRetry, while the store cannot take it).
	needChain  string
	chainRetry time.Time
	// carry holds changes whose segment could not be written, for the next.
	carry drained
	// flushes are the requests of incremental sets built from the journal
	// (see journal_flush.go).
	flushes chan chan journalPosition

	mu          sync.Mutex // guards what status reads
	lastShipped time.Time
	carriedAt   time.Time // when the oldest carried change was captured
}

// status reports the journal for metrics; safe from any goroutine.
func (j *dbJournal) status() ContinuousStatus {
	j.mu.Lock()
	st := ContinuousStatus{Database: string(j.name), Chain: j.chainID, LastShipped: j.lastShipped, OldestUnshipped: j.carriedAt}
	cp := j.cap
	j.mu.Unlock()
	if oldest := cp.oldest(); !oldest.IsZero() && (st.OldestUnshipped.IsZero() || oldest.Before(st.OldestUnshipped)) {
		st.OldestUnshipped = oldest
	}
	if j.stage != nil {
		if bytes, n, oldest := j.stage.pending(); n > 0 {
			st.StagedBytes, st.StagedSegments = bytes, n
			if !oldest.IsZero() && (st.OldestUnshipped.IsZero() || oldest.Before(st.OldestUnshipped)) {
				st.OldestUnshipped = oldest
			}
		}
	}
	return st
}

// openJournal subscribes to database name and decides whether its newest
// chain continues: only when it ends exactly at the database's newest
// version, in the same epoch, and nothing committed since escaped the
// subscription. Otherwise needsSet is true and the chain's reason is set.
func openJournal(ctx context.Context, cat *Catalog, js journalStore, stage *stager, store *kv.Store, name kv.Name, opts ContinuousOptions) (*dbJournal, bool, error) {
	db, release, err := store.Acquire(name)
	if err != nil {
		return nil, false, err
	}
	// The server holds the database for its life; the journal reads it
	// through the same handle (see the note on online wipe restores in
	// docs: the journal of a swapped database ends).
	release()
	j := &dbJournal{name: name, db: db, store: store, cat: cat, js: js, opts: opts,
		log: opts.Logger.With("database", string(name)), cap: newCapture(opts.MaxBuffer, time.Now), stage: stage}
	if stage != nil {
		j.lease = stage.lease
		stage.shipped = j.shipped
	}
	j.cap.skip = streamSkipper(excludesFor(string(name), opts.ExcludeStreams))
	j.res, j.subCtx = newResolver(db), ctx
	at := j.res.pinnedAt()
	done, complete, err := j.cap.subscribe(ctx, db, at)
	if err != nil {
		j.res.close()
		return nil, false, err
	}
	j.subDone = done
	epoch, err := kv.Epoch(db)
	if err != nil {
		return j, false, err
	}
	if err := j.shipStaged(ctx); err != nil {
		return j, false, err
	}
	chains, err := readChainsIn(ctx, js, string(name))
	if err != nil {
		return j, false, err
	}
	for _, ch := range chains {
		if err := ch.removeLeftovers(ctx); err != nil {
			j.log.Warn("continuous backup: remove the leftovers of an interrupted write", "chain", ch.ID, "error", err)
		}
	}
	var reason string
	switch last := lastChain(chains); {
	case last == nil:
		reason = "the database has no journal yet"
	case !complete:
		reason = "a commit escaped the subscription while it started"
	case last.Epoch != epoch || at < last.upTo():
		reason = "the database was rebuilt (a wipe restore or a new directory): its versions start over"
	case last.problem != "":
		reason = "its last chain is broken: " + last.problem
	case at > last.upTo():
		reason = fmt.Sprintf("the database changed while the server was stopped (versions %d to %d: offline commands, or commits a crash kept from being shipped)", last.upTo()+1, at)
	default:
		if j.chainDir, err = j.segmentDir(last.ID); err != nil {
			return j, false, err
		}
		j.chainID, j.lastShipped = last.ID, last.end()
		j.seq, j.since, j.from = last.lastSeq(), last.upTo(), last.end()
		j.lastWrite = time.Now()
		j.log.Info("continuous backup: journal continues", "chain", last.ID, "segments", len(last.segs), "version", j.since)
		return j, false, nil
	}
	if base, ok := followableSet(cat, string(name), epoch, at); ok && complete {
		return j, false, j.startChain(base, time.Now(), reason+"; set "+base.ID+" ends exactly where the database is")
	}
	j.reason = reason
	return j, true, nil
}

func lastChain(chains []chainState) *chainState {
	if len(chains) == 0 {
		return nil
	}
	return &chains[len(chains)-1]
}

// followableSet finds a usable set whose file of db was read at exactly
// version at in epoch: a chain can start from it without a new set.
func followableSet(cat *Catalog, db, epoch string, at uint64) (Manifest, bool) {
	sets, err := cat.List(context.Background())
	if err != nil {
		return Manifest{}, false
	}
	for _, s := range sets {
		entry, ok := s.Databases[db]
		if usable(s) && ok && entry.Format != FormatBadger && entry.Epoch == epoch && entry.ReadTs == at {
			return s.Manifest, true
		}
	}
	return Manifest{}, false
}

// newChains takes one set of the journals' databases and starts a chain of
// each from it; reason, when given, says why for all of them.
func newChains(ctx context.Context, cat *Catalog, journals []*dbJournal, reason string, opts ContinuousOptions) error {
	started := time.Now()
	sources := make([]Source, 0, len(journals))
	for _, j := range journals {
		// Held for the set, as every backup holds its database: a wipe
		// restore waits rather than close it under the dump.
		db, release, err := j.store.Acquire(j.name)
		if err != nil {
			return fmt.Errorf("take the set a journal chain starts from: %w", err)
		}
		defer release()
		if db != j.db {
			return fmt.Errorf("take the set a journal chain starts from: the %s database was replaced meanwhile", j.name)
		}
		sources = append(sources, Source{Name: string(j.name), DB: db})
	}
	m, err := cat.Create(ctx, sources, SetOptions{Trigger: TriggerContinuous, By: "continuous backup",
		WriteOptions: WriteOptions{ToolVersion: opts.ToolVersion, ExcludeStreams: opts.ExcludeStreams}, Incremental: true, MaxChain: opts.MaxChain})
	if err != nil {
		return fmt.Errorf("take the set a journal chain starts from: %w", err)
	}
	for _, j := range journals {
		why := reason
		if why == "" {
			why = j.reason
		}
		if err := j.startChain(m, started, why); err != nil {
			return err
		}
	}
	return nil
}

// startChain starts a chain from set base: changes above its read
// timestamp go into the chain's segments.
func (j *dbJournal) startChain(base Manifest, started time.Time, reason string) error {
	entry := base.Databases[string(j.name)]
	epoch, err := kv.Epoch(j.db)
	if err != nil {
		return err
	}
	info := journalChain{ID: NewSetID(started), Database: string(j.name), Epoch: epoch, BaseSet: base.ID,
		BaseReadTs: entry.ReadTs, BaseCreated: entry.Created.UTC(), Started: started.UTC(), Reason: reason}
	if info.BaseCreated.Before(info.Started) {
		info.Started = info.BaseCreated // an older set: nothing changed since it was read
	}
	if err := writeChain(context.Background(), j.js, info); err != nil {
		return err
	}
	dir, err := j.segmentDir(info.ID)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.chainDir, j.chainID, j.lastShipped, j.carriedAt = dir, info.ID, info.Started, time.Time{}
	j.mu.Unlock()
	j.seq, j.since, j.from, j.lastWrite = 0, info.BaseReadTs, info.Started, time.Now()
	j.carry, j.needChain = drained{}, ""
	j.log.Info("continuous backup: new journal chain", "chain", info.ID, "base_set", base.ID, "version", info.BaseReadTs, "reason", reason)
	return nil
}

// run ships every interval until stop, then once more with a watermark.
func (j *dbJournal) run(stop <-chan struct{}) {
	tick := time.NewTicker(j.opts.Interval)
	defer tick.Stop()
	pace := &pacer{}
	compactions := &aside{}
	defer compactions.wait()
	for {
		select {
		case <-stop:
			j.catchUp()
			j.shipLogged(true)
			return
		case err := <-j.subDone:
			// The server closes a database under the journal only to swap
			// in a restored one (a wipe restore): what was captured and not
			// shipped cannot be told apart any more, so the chain ends at
			// its last segment and a new one starts on the new database.
			j.dbGone = true
			j.log.Warn("continuous backup: the database was closed under the journal (a wipe restore replaced it); a new chain starts on the new one", "chain", j.chainID, "error", err)
			if !j.reopen(stop) {
				return
			}
		case <-tick.C:
			tick.Reset(pace.next(j.opts.Interval, j.timedShip()))
			compactions.start(j.compactLogged)
		case <-j.cap.half:
			j.shipLogged(false)
		case reply := <-j.flushes:
			reply <- j.flushNow()
		}
	}
}

// reopen subscribes to the database that replaced the closed one and
// starts a new chain on it, retrying every interval until stop; it reports
// whether the journal goes on.
func (j *dbJournal) reopen(stop <-chan struct{}) bool {
	tick := time.NewTicker(j.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return false
		case reply := <-j.flushes:
			refuseFlush(reply)
			continue
		case <-tick.C:
		}
		if err := j.resubscribe(); err != nil {
			j.log.Error("continuous backup: restart on the new database", "error", err)
			continue
		}
		return true
	}
}

func (j *dbJournal) resubscribe() error {
	db, release, err := j.store.Acquire(j.name)
	if err != nil {
		return err
	}
	release()
	cp := newCapture(j.opts.MaxBuffer, time.Now)
	cp.skip = streamSkipper(excludesFor(string(j.name), j.opts.ExcludeStreams))
	res := newResolver(db)
	done, _, err := cp.subscribe(j.subCtx, db, res.pinnedAt())
	if err != nil {
		res.close()
		return err
	}
	// The resolver of the closed database is dropped, not closed: its
	// read transactions died with it.
	j.mu.Lock()
	j.db, j.cap, j.res, j.subDone, j.dbGone = db, cp, res, done, false
	j.mu.Unlock()
	return newChains(context.Background(), j.cat, []*dbJournal{j}, "the database was replaced by a wipe restore: its versions start over", j.opts)
}

// catchUp waits, briefly, until every commit made so far was delivered.
func (j *dbJournal) catchUp() {
	txn := j.db.NewTransaction(false)
	newest := txn.ReadTs()
	txn.Discard()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		j.cap.mu.Lock()
		seen := j.cap.newest
		j.cap.mu.Unlock()
		if seen >= newest {
			return
		}
	}
}

func (j *dbJournal) shipLogged(final bool) {
	if err := j.ship(final); err != nil {
		j.log.Error("continuous backup: ship", "chain", j.chainID, "error", err)
	}
}

// ship writes what was captured since the last segment as the next one;
// an idle database writes an empty one once per watermark period, and at
// the end.
func (j *dbJournal) ship(final bool) error {
	d := j.cap.drain()
	if d.overflow && j.needChain == "" {
		j.endChain(fmt.Sprintf("the capture buffer passed its %d-byte bound", j.opts.MaxBuffer))
	}
	if j.needChain != "" {
		_ = j.res.resolve(nil, d.newest) // nothing of it is kept: the pin may move on
		return j.restartChain()
	}
	d.ops = append(j.carry.ops, keepAbove(d.ops, j.since)...)
	d.marks = append(j.carry.marks, keepMarksAbove(d.marks, j.since)...)
	idle := len(d.ops) == 0 && len(d.marks) == 0
	if idle && !final && time.Since(j.lastWrite) < j.opts.Watermark {
		return nil
	}
	if err := j.res.resolve(d.ops, d.newest); err != nil {
		j.endChain("a delete could not be told from an empty value: " + err.Error())
		return j.restartChain()
	}
	if j.stage != nil {
		if staged, _, _ := j.stage.pending(); staged >= j.opts.MaxStaged {
			j.endChain(fmt.Sprintf("more than the %d-byte bound of segments waited in the staging directory %s for the object store", j.opts.MaxStaged, j.stage.dir))
			return j.restartChain()
		}
	}
	name := segmentName{seq: j.seq + 1, last: j.seq + 1, since: j.since, upTo: max(j.since, d.newest), from: j.from, to: d.at.UTC()}
	if name.to.Before(name.from) {
		name.to = name.from // the clock went back
	}
	j.inFlight(d.marks)
	if err := writeSegment(j.chainDir, string(j.name), name, d.ops, d.marks, j.opts.ToolVersion, j.cat.keys); err != nil {
		if opsBytes(d.ops) > j.opts.MaxBuffer {
			// Held back too long (a full disk): memory stays bounded, the
			// chain ends here and a new one starts once writing works.
			j.endChain(fmt.Sprintf("segments could not be written while more than the %d-byte bound piled up", j.opts.MaxBuffer))
			return errors.Join(err, j.restartChain())
		}
		j.carry = drained{ops: d.ops, marks: d.marks}
		j.mu.Lock()
		if j.carriedAt.IsZero() && len(d.marks) > 0 {
			j.carriedAt = d.marks[0].time
		}
		j.mu.Unlock()
		return err
	}
	j.carry = drained{}
	j.seq, j.since, j.from, j.lastWrite = name.seq, name.upTo, name.to, time.Now()
	j.mu.Lock()
	if j.stage == nil {
		j.lastShipped = name.to
	}
	j.carriedAt = time.Time{}
	j.mu.Unlock()
	if j.stage != nil {
		j.staged(name, d.marks)
	}
	return nil
}
