package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}, {0.01, 1}, {0.11, 2}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if !math.IsNaN(percentile(nil, 0.5)) {
		t.Error("the percentile of nothing is a number")
	}
	st := summariseLags([]float64{0.3, 0.1, 0.2}, []float64{0.05, 0.02}, 7)
	if st.P50 != 0.2 || st.Max != 0.3 || st.Records != 3 || st.Segments != 2 || st.WriteP50 != 0.02 || st.WriteMax != 0.05 || st.Journal != 7 {
		t.Errorf("summariseLags = %+v", *st)
	}
}

func TestParseLagMetric(t *testing.T) {
	body := []byte(`# HELP flowg_backup_continuous_lag_seconds Seconds since ...
# TYPE flowg_backup_continuous_lag_seconds gauge
flowg_backup_continuous_lag_seconds{database="auth"} 0
flowg_backup_continuous_lag_seconds{database="logs"} 0.734
flowg_backup_continuous_lag_seconds_other{database="logs"} 99
flowg_backup_continuous_last_shipped_timestamp_seconds{database="logs"} 1.7e+09
`)
	if v, ok := parseLagMetric(body); !ok || v != 0.734 {
		t.Errorf("parseLagMetric = %v, %v; want 0.734, true", v, ok)
	}
	if _, ok := parseLagMetric([]byte("go_goroutines 12\n")); ok {
		t.Error("a server without continuous backup has a lag")
	}
}

func TestSegmentNamesAndShipTimes(t *testing.T) {
	plain := "C/00000003-00000000000003e8-00000000000007d0-20261206T064725.000000000Z-20261206T064726.123456789Z.seg"
	sn, ok := parseSegName(plain)
	want := time.Date(2026, 12, 6, 6, 47, 26, 123456789, time.UTC)
	if !ok || sn.compacted || sn.since != 1000 || sn.upTo != 2000 || !sn.drained.Equal(want) {
		t.Errorf("parseSegName(plain) = %+v, %v", sn, ok)
	}
	compacted := "C/00000001_00000003-0000000000000001-00000000000007d0-20261206T064720.000000000Z-20261206T064726.123456789Z.seg"
	if sn, ok := parseSegName(compacted); !ok || !sn.compacted || sn.since != 1 {
		t.Errorf("parseSegName(compacted) = %+v, %v", sn, ok)
	}
	for _, bad := range []string{"C/.tmp-123.seg", "C/chain.json", "C/x-y.seg", "C/1-zz-2-3-4.seg"} {
		if _, ok := parseSegName(bad); ok {
			t.Errorf("parseSegName(%q) read a name", bad)
		}
	}
	t0 := time.Unix(100, 0)
	ships := newShipTimes(map[string]time.Time{
		plain: t0.Add(2 * time.Second),
		"C/00000002-0000000000000001-00000000000003e8-20261206T064720.000000000Z-20261206T064725.000000000Z.seg": t0.Add(time.Second),
		compacted: t0.Add(time.Hour), // merged later: never the ship time
	})
	for _, c := range []struct {
		v    uint64
		want time.Time
		ok   bool
	}{{1, time.Time{}, false}, {2, t0.Add(time.Second), true}, {1000, t0.Add(time.Second), true}, {1001, t0.Add(2 * time.Second), true}, {2000, t0.Add(2 * time.Second), true}, {2001, time.Time{}, false}} {
		seg, ok := ships.of(c.v)
		if ok != c.ok || (ok && !seg.seen.Equal(c.want)) {
			t.Errorf("version %d: shipped %v, %v; want %v, %v", c.v, seg.seen, ok, c.want, c.ok)
		}
	}
}

func TestCommitTimeIsTheFirstMarkAtOrAboveTheVersion(t *testing.T) {
	t0 := time.Unix(100, 0)
	marks := []timeMark{{3, t0}, {7, t0.Add(time.Second)}, {9, t0.Add(2 * time.Second)}}
	for _, c := range []struct {
		v    uint64
		want time.Time
		ok   bool
	}{{1, t0, true}, {3, t0, true}, {4, t0.Add(time.Second), true}, {9, t0.Add(2 * time.Second), true}, {10, time.Time{}, false}} {
		got, ok := commitTime(marks, c.v)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("commitTime(%d) = %v, %v; want %v, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func TestContinuousFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--quick", "--only", "continuous"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.continuous
	if c.seconds != 4 || c.interval != time.Second || c.changes != 10_000 || !cfg.only[groupContinuous] || len(cfg.only) != 1 {
		t.Errorf("--quick --only continuous: %+v, only %v", c, cfg.only)
	}
	if cfg, err = parseFlags([]string{"--records", "500", "--journal-changes", "7", "--continuous-interval", "200ms"}, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	if c := cfg.continuous; c.changes != 7 || c.interval != 200*time.Millisecond || c.seconds != 10 || !cfg.only[groupContinuous] {
		t.Errorf("explicit flags: %+v, only %v", c, cfg.only)
	}
	for _, bad := range [][]string{{"--continuous-interval", "1ms"}, {"--continuous-seconds", "0.5"}, {"--journal-changes", "-1"}} {
		if _, err := parseFlags(bad, &strings.Builder{}); err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
}

// TestContinuousTargets checks the PASS and MISS of each target on rounds
// made up for it, and that off and on are paired round by round.
func TestContinuousTargets(t *testing.T) {
	c := &continuous{cfg: continuousConfig{interval: time.Second, seconds: 4, poll: 10 * time.Millisecond},
		rs: &restoreSetup{changes: 100, baseSet: "S"}}
	add := func(round int, op string, cr contRound) {
		cr.Round, cr.Op = round, op
		c.rounds = append(c.rounds, cr)
	}
	for r, lag := range []float64{1.1, 1.2, 1.4} {
		add(r, opContOff, contRound{RecordsPerSec: 1000, PeakRSSKiB: 500 << 10})
		add(r, opContOn, contRound{RecordsPerSec: 960 - 20*float64(r), PeakRSSKiB: (700 + 100*int64(r)) << 10, Lag: &lagStats{P99: lag, P50: 0.5}})
		add(r, opRestoreAt, contRound{Seconds: 3})
		add(r, opRestoreSet, contRound{Seconds: 2})
	}
	add(3, opContOn, contRound{Error: "boom"})
	rep := c.report()
	want := map[string]struct {
		value float64
		pass  bool
	}{
		"RPO, local":        {1.2, true},        // median of 1.1, 1.2, 1.4 ≤ 1.25
		"ingest throughput": {0.94, false},      // median of 0.96, 0.94, 0.92
		"server peak RSS":   {300 << 10, false}, // median of +200, +300, +400 MiB
		"`admin restore":    {1.5, false},
	}
	got := map[string]goal{}
	for _, g := range rep.Targets {
		for k := range want {
			if strings.HasPrefix(g.Figure, k) {
				got[k] = g
			}
		}
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || math.Abs(g.Value-w.value) > 1e-9 || g.Pass != w.pass || g.NA != "" {
			t.Errorf("%s: %+v, want value %v pass %v", k, g, w.value, w.pass)
		}
	}
	if len(rep.Checks) != 1 || !strings.Contains(rep.Checks[0].Detail, "boom") {
		t.Errorf("a failed round is not a failed check: %+v", rep.Checks)
	}
	md := rep.markdown()
	if !strings.Contains(md, "| PASS |") || !strings.Contains(md, "| MISS |") {
		t.Errorf("the table lacks PASS or MISS:\n%s", md)
	}
}
