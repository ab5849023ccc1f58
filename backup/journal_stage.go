package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// For an s3:// catalog, each segment is first written to a staging
// directory on local disk (fsync'd, as into a local catalog) and then
// shipped by an uploader, one at a time and in order, and deleted from
// the staging directory once the object store holds it. An object store
// that is down delays the upload, retried with a growing pause, never the
// capture: the segments wait on disk, up to a bound in bytes, and a
// restart ships them before anything new.
//
//	<staging>/<db>/<chain>/<segment>.seg
const (
	// DefaultContinuousMaxStaged bounds the bytes of segments staged and
	// not yet shipped, per database.
	DefaultContinuousMaxStaged = 1 << 30
	stageRetryFirst            = 200 * time.Millisecond
	stageRetryMax              = 5 * time.Second
)

// stagedSeg is one segment waiting in the staging directory.
type stagedSeg struct {
	chain  string
	name   segmentName
	size   int64
	oldest time.Time // when its oldest change was captured
}

// stager ships one database's staged segments to an s3:// catalog.
type stager struct {
	dir   string // <staging>/<db>
	db    string
	js    *s3Journal
	lease *journalLease
	log   *slog.Logger
	// shipped is told of each segment the store now holds.
	shipped func(stagedSeg)

	mu      sync.Mutex
	queue   []stagedSeg
	bytes   int64
	failing time.Time // when uploads started failing; zero when they work
	wake    chan struct{}
}

func newStager(dir, db string, js *s3Journal, lease *journalLease, log *slog.Logger) (*stager, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	return &stager{dir: dir, db: db, js: js, lease: lease, log: log, shipped: func(stagedSeg) {}, wake: make(chan struct{}, 1)}, nil
}

// chainDir is where the segments of chain are staged (created).
func (s *stager) chainDir(chain string) (string, error) {
	dir := filepath.Join(s.dir, chain)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("staging directory: %w", err)
	}
	return dir, nil
}

// load queues the segments a previous run staged and did not ship, chain
// by chain (oldest first) and in order; it removes the temporary files of
// writes cut short.
func (s *stager) load() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("staging directory: %w", err)
	}
	var found []stagedSeg
	for _, e := range entries {
		if !e.IsDir() || !ValidSetID(e.Name()) {
			continue
		}
		dir := filepath.Join(s.dir, e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("staging directory: %w", err)
		}
		for _, f := range files {
			if isTempName(f.Name()) {
				os.Remove(filepath.Join(dir, f.Name()))
				continue
			}
			name, ok := parseSegmentName(f.Name())
			info, err := f.Info()
			if !ok || err != nil {
				continue
			}
			found = append(found, stagedSeg{chain: e.Name(), name: name, size: info.Size(), oldest: name.from})
		}
		os.Remove(dir) // only when empty
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].chain != found[j].chain {
			return found[i].chain < found[j].chain
		}
		return found[i].name.seq < found[j].name.seq
	})
	s.mu.Lock()
	s.queue = append(found, s.queue...)
	for _, seg := range found {
		s.bytes += seg.size
	}
	s.mu.Unlock()
	return nil
}

// add queues a segment just staged and wakes the uploader.
func (s *stager) add(seg stagedSeg) {
	s.mu.Lock()
	s.queue = append(s.queue, seg)
	s.bytes += seg.size
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pending returns the bytes staged and not shipped, how many segments,
// and when the oldest change among them was captured.
func (s *stager) pending() (bytes int64, n int, oldest time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		oldest = s.queue[0].oldest
	}
	return s.bytes, len(s.queue), oldest
}

// healthy reports whether the last upload worked (or none failed yet).
func (s *stager) healthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing.IsZero()
}

// shipAll uploads the queue in order until it is empty or an upload fails.
func (s *stager) shipAll(ctx context.Context) error {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return nil
		}
		seg := s.queue[0]
		s.mu.Unlock()
		if !s.lease.held() {
			return errors.New("the journal's lease is not held (it could not be renewed, or another server took it over)")
		}
		if err := s.shipOne(ctx, seg); err != nil {
			return err
		}
		s.mu.Lock()
		s.queue = s.queue[1:]
		s.bytes -= seg.size
		s.mu.Unlock()
		s.shipped(seg)
	}
}

func (s *stager) shipOne(ctx context.Context, seg stagedSeg) error {
	dir := filepath.Join(s.dir, seg.chain)
	local := filepath.Join(dir, seg.name.String())
	if err := s.js.put(ctx, s.db, seg.chain, seg.name.String(), local); err != nil {
		return fmt.Errorf("ship journal segment %s of chain %s: %w", seg.name, seg.chain, err)
	}
	if err := os.Remove(local); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(dir)
}

// run uploads what is staged as it comes, retrying with a growing pause
// (from 200ms to 5s) while the store fails, until stop; then it tries once
// more, so a clean stop leaves nothing staged when the store is up.
func (s *stager) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	pause := time.Duration(0)
	for {
		var retry <-chan time.Time
		if pause > 0 {
			retry = time.After(pause)
		}
		select {
		case <-stop:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.shipAll(ctx); err != nil {
				_, n, _ := s.pending()
				s.log.Warn("continuous backup: staged segments not shipped at stop; the next start ships them first", "segments", n, "staging_dir", s.dir, "error", err)
			}
			cancel()
			return
		case <-s.wake:
		case <-retry:
		}
		err := s.shipAll(context.Background())
		s.mu.Lock()
		first, since := s.failing.IsZero(), s.failing
		switch {
		case err != nil && first:
			s.failing = time.Now()
		case err == nil:
			s.failing = time.Time{}
		}
		s.mu.Unlock()
		bytes, n, _ := s.pending()
		switch {
		case err != nil:
			if first {
				s.log.Warn("continuous backup: the object store does not take the journal's segments; they wait on local disk and are retried", "staged_segments", n, "staged_bytes", bytes, "error", err)
			}
			pause = min(max(2*pause, stageRetryFirst), stageRetryMax)
		case !since.IsZero():
			s.log.Info("continuous backup: the object store takes the journal's segments again; the journal caught up", "outage", time.Since(since).Round(time.Millisecond))
			pause = 0
		default:
			pause = 0
		}
	}
}
