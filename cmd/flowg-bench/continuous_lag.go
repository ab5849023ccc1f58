package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
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

// The RPO of continuous backup is measured on every record committed in
// the window: its lag is the instant the segment holding it was first seen
// in the catalog (a listing every few milliseconds) minus the instant of its
// commit, as the journal's own time mark for it says (Badger hands a
// commit to the subscription right after it, before or about when the
// client gets its answer). Beside it, the lag from the server's stamp in
// the record's key (log/<stream>/<unix ns><seq>), taken before the commit.

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
	// StampP99 and StampMax count the lag from the server's stamp in the
	// record's key instead, taken before the commit: Badger's write
	// latency (a stall while a memtable is flushed) is in it.
	StampP99 float64 `json:"stamp_p99_s"`
	StampMax float64 `json:"stamp_max_s"`
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
// stopped and returns the lag of each log record committed within [from,
// to): from its commit (the time mark the journal wrote for it: the instant
// Badger handed the commit over, right after it) until the segment holding
// it was seen; and, beside it, from the server's stamp in its key (taken
// before the commit: Badger's own write latency included). Also how many
// ingested log records (stamped at or after since) the journal holds. A
// record of the window whose segment was never seen is an error: its lag
// is unknown.
func journalLags(ctx context.Context, dir string, seen map[string]time.Time, since, from, to time.Time) (*lagStats, error) {
	ships := newShipTimes(seen)
	var lags, stamped []float64
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
		records, marks, err := readSegment(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", path, err)
		}
		for _, rec := range records {
			if rec.stamp < since.UnixNano() {
				continue
			}
			journal++
			committed, ok := commitTime(marks, rec.version)
			if !ok {
				return nil, fmt.Errorf("segment %s: version %d has no time mark", path, rec.version)
			}
			if committed.Before(from) || !committed.Before(to) {
				continue
			}
			seg, ok := ships.of(rec.version)
			if !ok {
				return nil, fmt.Errorf("segment %s: version %d: no segment holding it was seen", path, rec.version)
			}
			lags = append(lags, seg.seen.Sub(committed).Seconds())
			stamped = append(stamped, float64(seg.seen.UnixNano()-rec.stamp)/1e9)
			held[seg.name] = seg.seen.Sub(seg.drained).Seconds()
		}
	}
	writes := make([]float64, 0, len(held))
	for _, w := range held {
		writes = append(writes, w)
	}
	st := summariseLags(lags, writes, journal)
	if len(stamped) > 0 {
		slices.Sort(stamped)
		st.StampP99, st.StampMax = percentile(stamped, 0.99), stamped[len(stamped)-1]
	}
	return st, nil
}

// logRecord is a log record of a segment: its version and the server's stamp.
type logRecord struct {
	version uint64
	stamp   int64
}

// timeMark is a segment's time mark: every change up to version was
// captured (handed over by Badger after its commit) by at.
type timeMark struct {
	version uint64
	at      time.Time
}

// commitTime is when the change of version v was captured: the time of the
// first mark at or above v (marks are in version order).
func commitTime(marks []timeMark, v uint64) (time.Time, bool) {
	i, _ := slices.BinarySearchFunc(marks, v, func(m timeMark, v uint64) int { return cmp.Compare(m.version, v) })
	if i == len(marks) {
		return time.Time{}, false
	}
	return marks[i].at, true
}

// readSegment returns the log records and the time marks of a journal
// segment (journal keys are the 8-byte version, then the database key; a
// key of 8 bytes alone is a time mark, its value the capture instant).
func readSegment(ctx context.Context, path string) ([]logRecord, []timeMark, error) {
	r, closer, err := backup.OpenReader(ctx, path, nil, backup.ReadOptions{Database: benchDatabase, ReuseBuffers: true})
	if err != nil {
		return nil, nil, err
	}
	defer closer.Close()
	var records []logRecord
	var marks []timeMark
	for {
		kvs, err := r.Next()
		if err == io.EOF {
			slices.SortFunc(marks, func(a, b timeMark) int { return cmp.Compare(a.version, b.version) })
			return records, marks, nil
		}
		if err != nil {
			return nil, nil, err
		}
		for _, kv := range kvs {
			switch {
			case len(kv.Key) == 8 && len(kv.Value) == 8:
				marks = append(marks, timeMark{binary.BigEndian.Uint64(kv.Key), time.Unix(0, int64(binary.BigEndian.Uint64(kv.Value)))})
			case len(kv.Key) > 8 && len(kv.Value) > 0: // not a delete
				if _, ts, ok := splitLogKey(kv.Key[8:]); ok {
					records = append(records, logRecord{binary.BigEndian.Uint64(kv.Key), ts})
				}
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
