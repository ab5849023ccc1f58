package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowg-backup/flowg/backup"
)

// The RPO of continuous backup is measured on every record ingested in the
// window: its lag is the instant the segment holding it was first seen in
// the catalog (a listing every few milliseconds) minus the instant the
// server stamped it, which is in its key (log/<stream>/<unix ns><seq>) and
// comes before its commit and its acknowledgement. So the lag is an upper
// bound of "acknowledged until shipped", by the request's own time and the
// listing period.

// lagStats summarises the lags of a round, in seconds.
type lagStats struct {
	Records  int     `json:"records"`  // records of the window found in segments
	Segments int     `json:"segments"` // segments holding them
	P50      float64 `json:"p50_s"`
	P90      float64 `json:"p90_s"`
	P99      float64 `json:"p99_s"`
	Max      float64 `json:"max_s"`
	// Journal is every ingested record in the journal, window or not; it
	// must be at least the records acknowledged.
	Journal uint64 `json:"journal_records"`
	// WriteP50 and WriteMax are, over the segments holding records of the
	// window, the time from the drain of the capture buffer (the end of
	// the segment's time range, in its name) until the segment was seen:
	// what encoding, compressing and syncing it took. The rest of a lag is
	// the wait for the drain.
	WriteP50 float64 `json:"write_p50_s"`
	WriteMax float64 `json:"write_max_s"`
}

// segmentTimeLayout is the layout of the times in a segment's name.
const segmentTimeLayout = "20060102T150405.000000000Z"

// segmentDrained reads the end of a segment's time range from its name
// (SEQ-SINCE-UPTO-FROM-TO.seg): the instant its changes were drained.
func segmentDrained(name string) (time.Time, bool) {
	base, ok := strings.CutSuffix(filepath.Base(name), ".seg")
	i := strings.LastIndexByte(base, '-')
	if !ok || i < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(segmentTimeLayout, base[i+1:])
	return t, err == nil
}

// percentile is the nearest-rank p-quantile (0 < p ≤ 1) of sorted values:
// the smallest value at or above which a fraction p of them lie.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// summariseLags sorts lags and writes (one per segment) and summarises them.
func summariseLags(lags, writes []float64, journal uint64) *lagStats {
	slices.Sort(lags)
	slices.Sort(writes)
	st := &lagStats{Records: len(lags), Segments: len(writes), Journal: journal}
	if len(lags) > 0 {
		st.P50, st.P90, st.P99, st.Max = percentile(lags, 0.5), percentile(lags, 0.9), percentile(lags, 0.99), lags[len(lags)-1]
	}
	if len(writes) > 0 {
		st.WriteP50, st.WriteMax = percentile(writes, 0.5), writes[len(writes)-1]
	}
	return st
}

// segmentPoller lists a database's journal every period and remembers when
// each segment (chain/name.seg) was first seen.
type segmentPoller struct {
	dir    string
	mu     sync.Mutex
	seen   map[string]time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

func startPoller(dir string, period time.Duration) *segmentPoller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &segmentPoller{dir: dir, seen: map[string]time.Time{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			p.list()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *segmentPoller) list() {
	chains, _ := os.ReadDir(p.dir)
	for _, ch := range chains {
		if !ch.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(p.dir, ch.Name()))
		now := time.Now()
		p.mu.Lock()
		for _, f := range files {
			// Segments are written under a temporary name (".tmp-*")
			// and renamed: only the final name is shipped.
			if name := ch.Name() + "/" + f.Name(); strings.HasSuffix(name, ".seg") && !strings.HasPrefix(f.Name(), ".") {
				if _, ok := p.seen[name]; !ok {
					p.seen[name] = now
				}
			}
		}
		p.mu.Unlock()
	}
}

// stop lists once more and returns when each segment was first seen.
func (p *segmentPoller) stop() map[string]time.Time {
	p.cancel()
	<-p.done
	p.list()
	return p.seen
}

// journalLags reads every segment seen and returns the lag of each log
// record the server stamped within [from, to), and how many ingested log
// records (stamped at or after since) the journal holds. A record of the
// window in a segment never seen is an error: its lag is unknown.
func journalLags(ctx context.Context, dir string, seen map[string]time.Time, since, from, to time.Time) (*lagStats, error) {
	var lags, writes []float64
	var journal uint64
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		shipped := seen[name]
		n := len(lags)
		err := eachLogKey(ctx, filepath.Join(dir, filepath.FromSlash(name)), func(stamp int64) {
			if stamp < since.UnixNano() {
				return
			}
			journal++
			if stamp >= from.UnixNano() && stamp < to.UnixNano() {
				lags = append(lags, float64(shipped.UnixNano()-stamp)/1e9)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", name, err)
		}
		if len(lags) > n {
			drained, ok := segmentDrained(name)
			if !ok {
				return nil, fmt.Errorf("segment %s: no time range in its name", name)
			}
			writes = append(writes, shipped.Sub(drained).Seconds())
		}
	}
	return summariseLags(lags, writes, journal), nil
}

// eachLogKey hands fn the stamp of every log record a journal segment
// holds (journal keys are the 8-byte version, then the database key; a key
// of 8 bytes alone is a time mark).
func eachLogKey(ctx context.Context, path string, fn func(stamp int64)) error {
	r, closer, err := backup.OpenReader(ctx, path, nil, backup.ReadOptions{Database: benchDatabase, ReuseBuffers: true})
	if err != nil {
		return err
	}
	defer closer.Close()
	for {
		kvs, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if len(kv.Key) <= 8 || len(kv.Value) == 0 {
				continue // a time mark, or a delete
			}
			if _, ts, ok := splitLogKey(kv.Key[8:]); ok {
				fn(ts)
			}
		}
	}
}

// lagMetric is the gauge scraped from GET /metrics.
const lagMetric = "flowg_backup_continuous_lag_seconds"

// parseLagMetric returns the largest value of the lag gauge over the
// databases in a Prometheus text exposition, and whether it was there.
func parseLagMetric(body []byte) (float64, bool) {
	best, found := 0.0, false
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, lagMetric+"{") && !strings.HasPrefix(line, lagMetric+" ") {
			continue
		}
		f := strings.Fields(line[strings.LastIndexByte(line, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		best, found = max(best, v), true
	}
	return best, found
}

// scraper reads the lag gauge every period.
type scraper struct {
	mu      sync.Mutex
	samples []timedValue
	cancel  context.CancelFunc
	done    chan struct{}
}

type timedValue struct {
	at time.Time
	v  float64
}

func startScraper(base string, period time.Duration) *scraper {
	ctx, cancel := context.WithCancel(context.Background())
	s := &scraper{cancel: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
			resp, err := client.Do(req)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			if v, ok := parseLagMetric(body); ok {
				s.mu.Lock()
				s.samples = append(s.samples, timedValue{time.Now(), v})
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// stop ends the scraping and returns the values read within [from, to).
func (s *scraper) stop(from, to time.Time) []float64 {
	s.cancel()
	<-s.done
	var out []float64
	for _, tv := range s.samples {
		if !tv.at.Before(from) && tv.at.Before(to) {
			out = append(out, tv.v)
		}
	}
	return out
}
