package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
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

// segName is what the harness reads from a segment's name,
// SEQ[_LAST]-SINCE-UPTO-FROM-TO.seg: whether compaction wrote it (a run of
// segments, SEQ_LAST), its versions (since, upTo] and the end of its time
// range, when its changes were drained from the capture buffer.
type segName struct {
	compacted   bool
	since, upTo uint64
	drained     time.Time
}

func parseSegName(name string) (segName, bool) {
	base, ok := strings.CutSuffix(filepath.Base(name), ".seg")
	parts := strings.Split(base, "-")
	if !ok || len(parts) != 5 || strings.HasPrefix(base, ".") {
		return segName{}, false
	}
	var s segName
	var err1, err2, err3 error
	s.compacted = strings.Contains(parts[0], "_")
	s.since, err1 = strconv.ParseUint(parts[1], 16, 64)
	s.upTo, err2 = strconv.ParseUint(parts[2], 16, 64)
	s.drained, err3 = time.Parse(segmentTimeLayout, parts[4])
	return s, err1 == nil && err2 == nil && err3 == nil
}

// shipTimes tells when the change of a version was shipped: when the
// plain segment holding it was first seen, also once compaction merged
// that segment into a larger one.
type shipTimes struct {
	segs []seenSeg // plain segments, by upTo
}

type seenSeg struct {
	name string
	segName
	seen time.Time
}

func newShipTimes(seen map[string]time.Time) shipTimes {
	var st shipTimes
	for name, at := range seen {
		if sn, ok := parseSegName(name); ok && !sn.compacted {
			st.segs = append(st.segs, seenSeg{name, sn, at})
		}
	}
	slices.SortFunc(st.segs, func(a, b seenSeg) int { return cmp.Compare(a.upTo, b.upTo) })
	return st
}

// of returns the plain segment holding version v, if one was seen.
func (st shipTimes) of(v uint64) (seenSeg, bool) {
	i, _ := slices.BinarySearchFunc(st.segs, v, func(s seenSeg, v uint64) int { return cmp.Compare(s.upTo, v) })
	if i < len(st.segs) && st.segs[i].since < v && v <= st.segs[i].upTo {
		return st.segs[i], true
	}
	return seenSeg{}, false
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

// journalLags reads every segment in the journal after the server
// stopped and returns the lag of each log record the server stamped within
// [from, to), and how many ingested log records (stamped at or after
// since) the journal holds. A record of the window whose segment was never
// seen is an error: its lag is unknown.
func journalLags(ctx context.Context, dir string, seen map[string]time.Time, since, from, to time.Time) (*lagStats, error) {
	ships := newShipTimes(seen)
	var lags []float64
	var journal uint64
	held := map[string]float64{} // plain segments holding window records: their write time
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.seg"))
	if err != nil {
		return nil, err
	}
	for _, path := range files {
		if strings.HasPrefix(filepath.Base(path), ".") {
			continue // a temporary file
		}
		var missing error
		err := eachLogRecord(ctx, path, func(version uint64, stamp int64) {
			if stamp < since.UnixNano() {
				return
			}
			journal++
			if stamp < from.UnixNano() || stamp >= to.UnixNano() {
				return
			}
			seg, ok := ships.of(version)
			if !ok {
				missing = fmt.Errorf("version %d: no segment holding it was seen", version)
				return
			}
			lags = append(lags, float64(seg.seen.UnixNano()-stamp)/1e9)
			held[seg.name] = seg.seen.Sub(seg.drained).Seconds()
		})
		if err = errors.Join(err, missing); err != nil {
			return nil, fmt.Errorf("segment %s: %w", path, err)
		}
	}
	writes := make([]float64, 0, len(held))
	for _, w := range held {
		writes = append(writes, w)
	}
	return summariseLags(lags, writes, journal), nil
}

// eachLogRecord hands fn the version and the server's stamp of every log
// record a journal segment holds (journal keys are the 8-byte version, then
// the database key; a key of 8 bytes alone is a time mark).
func eachLogRecord(ctx context.Context, path string, fn func(version uint64, stamp int64)) error {
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
				fn(binary.BigEndian.Uint64(kv.Key), ts)
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
