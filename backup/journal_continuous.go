package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// TriggerContinuous marks the sets continuous backup takes as the base of
// a new journal chain.
const TriggerContinuous = "continuous"

// Defaults of ContinuousOptions.
const (
	DefaultContinuousInterval  = time.Second
	DefaultContinuousWatermark = time.Minute
	DefaultContinuousMaxBuffer = 64 << 20
	// DefaultContinuousCompactAfter is the age at which segments are merged.
	DefaultContinuousCompactAfter = 10 * time.Minute
)

// ErrContinuousTarget is returned when continuous backup is asked of a
// catalog it cannot write its journal to (an s3:// catalog without a
// staging directory).
var ErrContinuousTarget = errors.New("continuous backup cannot write its journal there")

// ErrJournalBusy is returned when another process writes the journal of
// the catalog: two servers never interleave their journals in one catalog.
var ErrJournalBusy = errors.New("the catalog's journal is in use")

// ContinuousOptions tune StartContinuous.
type ContinuousOptions struct {
	// Interval is how often captured changes are written as a segment.
	Interval time.Duration
	// Watermark is how often an idle database writes an empty segment,
	// which proves the journal covered it up to then.
	Watermark time.Duration
	// MaxBuffer bounds the bytes of changes held between two segments; past
	// it the capture drops them and the database's journal starts a new
	// chain from a new set rather than slow its writes down.
	MaxBuffer int64
	// CompactAfter is the age at which segments are merged into larger ones
	// (see journal_compact.go); 0 is the default, below 0 never.
	CompactAfter time.Duration
	// MaxChain is passed to the incremental sets a new chain starts from.
	MaxChain    int
	ToolVersion string
	Logger      *slog.Logger
	// ExcludeStreams leaves the streams matching these globs out of the
	// logs database's journal and of the sets its chains start from.
	ExcludeStreams []string
	// StagingDir is where segments wait on local disk before they are
	// shipped to an s3:// catalog (required for one; unused for a local
	// catalog, whose segments are written into it directly).
	StagingDir string
	// MaxStaged bounds the bytes of segments staged and not yet shipped,
	// per database; past it the chain ends and a new one starts from a
	// new set once the store is back.
	MaxStaged int64
	// Lease is the term of the lease on an s3:// catalog's journal (see
	// journal_lease.go).
	Lease time.Duration
}

func (o *ContinuousOptions) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultContinuousInterval
	}
	if o.Watermark <= 0 {
		o.Watermark = DefaultContinuousWatermark
	}
	if o.CompactAfter == 0 {
		o.CompactAfter = DefaultContinuousCompactAfter
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = DefaultContinuousMaxBuffer
	}
	if o.MaxStaged <= 0 {
		o.MaxStaged = DefaultContinuousMaxStaged
	}
	if o.Lease <= 0 {
		o.Lease = DefaultContinuousLease
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Continuous captures every commit of a server's databases and writes it
// to the catalog's journal (see journal_chain.go), so each database can be
// restored to any instant its journal covers (Catalog.RestorableAt).
type Continuous struct {
	journals []*dbJournal
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stop     chan struct{}
	once     sync.Once
	unlock   func() // the journal directory's lock (the staging directory's, and the lease, for s3://)
	// stageStop ends the stagers of an s3:// catalog, once the journals
	// staged their last segments; stageDone are closed when they are done.
	stageStop chan struct{}
	stageDone []chan struct{}
	detach    func() // stops the catalog building sets from the journal
}

// StartContinuous subscribes to every database of store, continues each
// database's journal chain in cat, or starts a new one from a set (an
// existing one that ends exactly where the database is, else a new one), and
// ships the changes every interval until Stop. It must run before the
// server accepts writes: nothing else may write to the databases meanwhile.
func StartContinuous(ctx context.Context, cat *Catalog, store *kv.Store, opts ContinuousOptions) (*Continuous, error) {
	opts.defaults()
	js, lease, unlock, err := claimJournal(ctx, cat, opts)
	if err != nil {
		return nil, err
	}
	subCtx, cancel := context.WithCancel(context.Background())
	c := &Continuous{cancel: cancel, stop: make(chan struct{}), unlock: unlock, stageStop: make(chan struct{})}
	var fresh []*dbJournal
	for _, name := range kv.Names {
		var stage *stager
		if s3j, ok := js.(*s3Journal); ok {
			if stage, err = newStager(filepath.Join(opts.StagingDir, string(name)), string(name), s3j, lease, opts.Logger.With("database", string(name))); err != nil {
				c.abort()
				return nil, fmt.Errorf("continuous backup of %s: %w", name, err)
			}
		}
		j, needsSet, err := openJournal(subCtx, cat, js, stage, store, name, opts)
		if err != nil {
			if j != nil {
				c.journals = append(c.journals, j)
			}
			c.abort()
			return nil, fmt.Errorf("continuous backup of %s: %w", name, err)
		}
		c.journals = append(c.journals, j)
		if needsSet {
			fresh = append(fresh, j)
		}
	}
	if len(fresh) > 0 {
		if err := newChains(ctx, cat, fresh, "", opts); err != nil {
			c.abort()
			return nil, fmt.Errorf("continuous backup: %w", err)
		}
	}
	c.attach(cat)
	for _, j := range c.journals {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			j.run(c.stop)
		}()
		if j.stage != nil {
			done := make(chan struct{})
			c.stageDone = append(c.stageDone, done)
			go j.stage.run(c.stageStop, done)
		}
	}
	return c, nil
}

// abort undoes a start that failed half way.
func (c *Continuous) abort() {
	c.cancel()
	for _, j := range c.journals {
		if j.subDone != nil {
			<-j.subDone
			j.res.close()
		}
	}
	c.unlock()
}

// Stop ships what was captured, writes a last watermark of each database,
// and ends the subscriptions. Call it before the databases close.
func (c *Continuous) Stop() {
	c.once.Do(func() {
		c.detach()
		close(c.stop)
		c.wg.Wait()
		close(c.stageStop)
		for _, done := range c.stageDone {
			<-done
		}
		c.cancel()
		for _, j := range c.journals {
			if !j.dbGone {
				<-j.subDone
				j.res.close()
			}
		}
		c.unlock()
	})
}

// claimJournal makes this process the one writer of the catalog's journal:
// a lock on <catalog>/journal for a local catalog; for an s3:// one, the
// journal's lease (journal_lease.go) and a lock on the staging directory.
func claimJournal(ctx context.Context, cat *Catalog, opts ContinuousOptions) (journalStore, *journalLease, func(), error) {
	if dir, ok := cat.localDir(); ok {
		unlock, err := kv.LockDir(filepath.Join(dir, journalDirName))
		if errors.Is(err, kv.ErrLocked) {
			return nil, nil, nil, fmt.Errorf("%w: another flowg server writes its journal to %s; give each server its own --backup-dir", ErrJournalBusy, dir)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		return localJournal{root: dir}, nil, unlock, nil
	}
	s3, ok := cat.store.(*s3Store)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: %s", ErrContinuousTarget, cat.Dir())
	}
	if opts.StagingDir == "" {
		return nil, nil, nil, fmt.Errorf("%w: continuous backup to %s needs a staging directory on local disk", ErrContinuousTarget, cat.Dir())
	}
	unlockStage, err := kv.LockDir(opts.StagingDir)
	if errors.Is(err, kv.ErrLocked) {
		return nil, nil, nil, fmt.Errorf("%w: another flowg server stages its journal in %s; give each server its own --backup-continuous-staging-dir", ErrJournalBusy, opts.StagingDir)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("staging directory: %w", err)
	}
	if err := os.Chmod(opts.StagingDir, 0o700); err != nil {
		unlockStage()
		return nil, nil, nil, fmt.Errorf("staging directory: %w", err)
	}
	// Temporary files of compactions cut short (segments being merged are
	// written here before they are uploaded).
	if leftovers, err := filepath.Glob(filepath.Join(opts.StagingDir, ".tmp-*")); err == nil {
		for _, path := range leftovers {
			os.Remove(path)
		}
	}
	lease, err := acquireLease(ctx, s3, opts.Lease, opts.Logger)
	if err != nil {
		unlockStage()
		return nil, nil, nil, err
	}
	unlock := func() {
		lease.release()
		unlockStage()
	}
	return &s3Journal{s: s3, scratch: opts.StagingDir}, lease, unlock, nil
}

// localDir is the catalog's directory, for a catalog on this disk.
func (c *Catalog) localDir() (string, bool) {
	s, ok := c.store.(localStore)
	return s.dir, ok
}

// ContinuousStatus is where one database's journal stands, for metrics:
// the lag is time.Since(OldestUnshipped) when that is set, else 0.
type ContinuousStatus struct {
	Database string
	Chain    string
	// LastShipped is the instant up to which the journal covers the
	// database (advanced by watermarks too).
	LastShipped time.Time
	// OldestUnshipped is when the oldest change not yet in the catalog was
	// captured (not yet in a segment, or staged and not yet shipped to an
	// s3:// catalog); zero when every captured change was shipped.
	OldestUnshipped time.Time
	// StagedBytes and StagedSegments are what waits in the staging
	// directory for an s3:// catalog.
	StagedBytes    int64
	StagedSegments int
}

// Status reports each database's journal.
func (c *Continuous) Status() []ContinuousStatus {
	out := make([]ContinuousStatus, 0, len(c.journals))
	for _, j := range c.journals {
		out = append(out, j.status())
	}
	return out
}
