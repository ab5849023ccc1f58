package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The continuous group measures issue 14's targets for `flowg serve
// --backup-continuous` on a local catalog, side by side in one run:
//
//   - continuous-off and continuous-on alternate: the same server (same
//     flags but --backup-continuous) on a fresh copy of the dataset, the
//     ingest clients posting at full speed; records/s and the server's peak
//     RSS over the measured window; with continuous on, the lag of every
//     record ingested in the window until the segment holding it appeared in
//     the catalog (see continuous_lag.go);
//   - restore-at and restore-set alternate: `flowg admin restore --at latest`
//     of a set of the dataset plus a journal of --journal-changes ingested
//     records, and `flowg admin restore --set` of that set alone, both into
//     an empty directory (see continuous_restore.go).
const (
	opContOff    = "continuous-off"
	opContOn     = "continuous-on"
	opContOnS3   = "continuous-on-s3"
	opRestoreAt  = "restore-at"
	opRestoreSet = "restore-set"
)

// continuousConfig is the continuous group's part of the command line.
type continuousConfig struct {
	seconds  float64       // measured window of an ingest round
	interval time.Duration // --backup-continuous-interval of the server
	changes  int           // records in the journal restore-at replays (0: records/10)
	poll     time.Duration // how often the catalog is listed for new segments
	// compactAfter is the server's --backup-continuous-compact-after (0:
	// its default, 10m, which a round never reaches).
	compactAfter time.Duration
}

func (c *continuousConfig) flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.seconds, "continuous-seconds", 10, "continuous: seconds of ingest measured per round, after a warm-up (--quick: 4)")
	fs.DurationVar(&c.interval, "continuous-interval", time.Second, "continuous: the server's --backup-continuous-interval")
	fs.IntVar(&c.changes, "journal-changes", 0, "continuous: records ingested into the journal restore-at replays (default: a tenth of --records)")
	fs.DurationVar(&c.compactAfter, "continuous-compact-after", 0, "continuous: the server's --backup-continuous-compact-after (default: the server's, 10m, never reached in a round); shorter shows what a compaction does to the lag")
	c.poll = 10 * time.Millisecond
}

// quick shortens the window of a --quick run unless the flag was given.
func (c *continuousConfig) quick(set map[string]bool) {
	if !set["continuous-seconds"] {
		c.seconds = 4
	}
}

func (c *continuousConfig) check(records int) error {
	switch {
	case c.seconds < 1 || c.seconds > 600:
		return fmt.Errorf("--continuous-seconds must be between 1 and 600")
	case c.interval < 10*time.Millisecond || c.interval > time.Minute:
		return fmt.Errorf("--continuous-interval must be between 10ms and 1m")
	case c.compactAfter != 0 && c.compactAfter < time.Second:
		return fmt.Errorf("--continuous-compact-after must be at least 1s")
	case c.changes < 0:
		return fmt.Errorf("--journal-changes must not be negative")
	}
	if c.changes == 0 {
		c.changes = max(records/10, 1)
	}
	return nil
}

// window, warm-up and tail of an ingest round: the tail keeps the clients
// ingesting after the window until the segments holding the window's
// records were seen (two intervals and a half second).
func (c continuousConfig) window() time.Duration {
	return time.Duration(c.seconds * float64(time.Second))
}
func (c continuousConfig) warmup() time.Duration { return max(2*c.interval, 2*time.Second) }
func (c continuousConfig) tail() time.Duration   { return 2*c.interval + 500*time.Millisecond }

// continuous is the state of the continuous group over the run.
type continuous struct {
	cfg    continuousConfig
	root   string // WORK/run/continuous
	rounds []contRound
	rs     *restoreSetup
	// s3 is the MinIO the continuous-on-s3 rounds ship to; when nil, s3NA
	// says why that row is left out.
	s3   *minioServer
	s3NA string
}

// contRound is one round of one operation of the group, with what the
// general sample has no room for.
type contRound struct {
	Round int    `json:"round"`
	Op    string `json:"op"`
	// Ingest rounds: records acknowledged in the window, per second; the
	// server's peak RSS in the window (VmHWM reset at its start) and over
	// its life.
	RecordsPerSec float64 `json:"records_per_s,omitempty"`
	Records       float64 `json:"records,omitempty"`
	PeakRSSKiB    int64   `json:"peak_rss_kib,omitempty"`
	LifeRSSKiB    int64   `json:"life_rss_kib,omitempty"`
	// continuous-on: the lag of every record of the window (see lagStats)
	// and the largest flowg_backup_continuous_lag_seconds scraped.
	Lag          *lagStats `json:"lag,omitempty"`
	MetricMaxLag float64   `json:"metric_max_lag_s,omitempty"`
	MetricP99Lag float64   `json:"metric_p99_lag_s,omitempty"`
	Scrapes      int       `json:"scrapes,omitempty"`
	// Restores: wall time of the flowg process and its peak RSS (VmHWM
	// polled every 20 ms).
	Seconds float64 `json:"seconds,omitempty"`
	// RebuiltSeconds is when restore-at had rebuilt the database at the
	// instant (the set loaded into a scratch database, the journal applied,
	// the result dumped), before the restore proper.
	RebuiltSeconds float64 `json:"rebuilt_seconds,omitempty"`
	Keys           uint64  `json:"keys,omitempty"`
	NA             string  `json:"na,omitempty"`
	Error          string  `json:"error,omitempty"`
}

// prepareContinuous builds the catalog the restores read (a set of the
// dataset and a journal of --journal-changes records).
func prepareContinuous(ctx context.Context, b *bench) *continuous {
	c := &continuous{cfg: b.cfg.continuous, root: b.path("continuous")}
	if err := os.MkdirAll(c.root, 0o700); err != nil {
		c.rs = &restoreSetup{err: err.Error()}
		return c
	}
	c.rs = prepareRestore(ctx, b, c)
	if b.online != nil && b.online.na == "" {
		c.prepareS3(ctx, b)
	} else {
		c.s3NA = "no flowg server"
	}
	return c
}

func (c *continuous) cleanup() {
	if c.s3 != nil {
		c.s3.stop()
	}
	os.RemoveAll(c.root)
}

// continuousOrder lists the group's operations of round r: off and on
// alternate which goes first, and so do the two restores.
func continuousOrder(r int, c *continuous) []string {
	ingest := []string{opContOff, opContOn}
	restores := []string{opRestoreSet, opRestoreAt}
	if r%2 == 1 {
		ingest = []string{opContOn, opContOff}
		restores = []string{opRestoreAt, opRestoreSet}
	}
	if c != nil && c.s3 != nil {
		ingest = append(ingest, opContOnS3)
	}
	return append(ingest, restores...)
}

// measure runs one operation of the group and returns it as a general
// sample (time and peak RSS) for the progress line and results.json.
func (c *continuous) measure(ctx context.Context, b *bench, round int, op string) sample {
	var cr contRound
	switch op {
	case opRestoreAt, opRestoreSet:
		cr = c.rs.measure(ctx, b, round, op)
	default:
		cr = c.measureIngest(ctx, b, round, op)
	}
	c.rounds = append(c.rounds, cr)
	s := sample{Round: round, Op: op, NA: cr.NA, Error: cr.Error, MaxRSSKiB: cr.PeakRSSKiB, Keys: cr.Keys}
	if cr.Seconds > 0 {
		s.Nanos = int64(cr.Seconds * 1e9)
	} else {
		s.Nanos = c.cfg.window().Nanoseconds()
	}
	if cr.Error == "" && cr.NA == "" {
		fmt.Fprintf(b.errOut, "            %s\n", cr.note())
	}
	return s
}

// note is the progress line's detail of a round.
func (cr contRound) note() string {
	var parts []string
	if cr.RecordsPerSec > 0 {
		parts = append(parts, fmt.Sprintf("%.0f records/s", cr.RecordsPerSec))
	}
	if l := cr.Lag; l != nil {
		parts = append(parts, fmt.Sprintf("lag p50 %.3f s p99 %.3f s max %.3f s over %d records in %d segments (written in %.3f s, at most %.3f s)",
			l.P50, l.P99, l.Max, l.Records, l.Segments, l.WriteP50, l.WriteMax))
	}
	if cr.Scrapes > 0 {
		parts = append(parts, fmt.Sprintf("metric lag max %.3f s (%d scrapes)", cr.MetricMaxLag, cr.Scrapes))
	}
	if cr.Seconds > 0 {
		parts = append(parts, fmt.Sprintf("%.3f s, %d keys", cr.Seconds, cr.Keys))
		if cr.RebuiltSeconds > 0 {
			parts = append(parts, fmt.Sprintf("rebuilt at the instant after %.3f s", cr.RebuiltSeconds))
		}
	}
	return strings.Join(parts, ", ")
}

// serverDir is where one round's server keeps its files.
func (c *continuous) serverDir(op string, round int) string {
	return filepath.Join(c.root, fmt.Sprintf("%s-%d", op, round))
}
