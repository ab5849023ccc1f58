package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// catalog it cannot write its journal to yet (an s3:// catalog).
var ErrContinuousTarget = errors.New("continuous backup needs a local catalog directory")

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
	unlock   func() // the journal directory's lock
	detach   func() // stops the catalog building sets from the journal
}

// StartContinuous subscribes to every database of store, continues each
// database's journal chain in cat, or starts a new one from a set (an
// existing one that ends exactly where the database is, else a new one), and
// ships the changes every interval until Stop. It must run before the
// server accepts writes: nothing else may write to the databases meanwhile.
func StartContinuous(ctx context.Context, cat *Catalog, store *kv.Store, opts ContinuousOptions) (*Continuous, error) {
	opts.defaults()
	dir, ok := cat.localDir()
	if !ok {
		return nil, fmt.Errorf("%w: %s is not one yet; give a local --backup-dir", ErrContinuousTarget, cat.Dir())
	}
	unlock, err := kv.LockDir(filepath.Join(dir, journalDirName))
	if errors.Is(err, kv.ErrLocked) {
		return nil, fmt.Errorf("%w: another flowg server writes its journal to %s; give each server its own --backup-dir", ErrJournalBusy, dir)
	}
	if err != nil {
		return nil, err
	}
	subCtx, cancel := context.WithCancel(context.Background())
	c := &Continuous{cancel: cancel, stop: make(chan struct{}), unlock: unlock}
	var fresh []*dbJournal
	for _, name := range kv.Names {
		j, needsSet, err := openJournal(subCtx, cat, dir, store, name, opts)
		if err != nil {
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
	}
	return c, nil
}

// abort undoes a start that failed half way.
func (c *Continuous) abort() {
	c.cancel()
	for _, j := range c.journals {
		<-j.subDone
		j.res.close()
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
	// OldestUnshipped is when the oldest change not yet in a segment was
	// captured; zero when every captured change was shipped.
	OldestUnshipped time.Time
}

// Status reports each database's journal.
func (c *Continuous) Status() []ContinuousStatus {
	out := make([]ContinuousStatus, 0, len(c.journals))
	for _, j := range c.journals {
		out = append(out, j.status())
	}
	return out
}
