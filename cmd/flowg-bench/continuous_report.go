package main

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Issue 14's targets.
const (
	rpoSlackLocal  = 250 * time.Millisecond // p99 lag ≤ interval + this, local catalog
	rpoSlackS3     = time.Second            // the same on MinIO
	ingestRatioMin = 0.95                   // records/s with continuous on / off
	restoreAtMax   = 1.3                    // restore --at / restore of the set alone
	rssAboveMaxKiB = 256 << 10              // peak RSS with continuous on − off
)

// continuousReport is the continuous group's part of results.json.
type continuousReport struct {
	Interval string      `json:"interval"`
	Seconds  float64     `json:"window_seconds"`
	Warmup   float64     `json:"warmup_seconds"`
	Changes  int         `json:"journal_changes"`
	BaseSet  string      `json:"base_set,omitempty"`
	Targets  []goal      `json:"targets"`
	Rounds   []contRound `json:"rounds"`
	Checks   []check     `json:"-"`
	cfg      continuousConfig
	byOp     map[string][]contRound
}

// goal is one figure with its target.
type goal struct {
	Figure   string  `json:"figure"`
	Measured string  `json:"measured"`
	Target   string  `json:"target"`
	Value    float64 `json:"value"`
	Limit    float64 `json:"limit"`
	Pass     bool    `json:"pass"`
	// NA says why the figure is missing (then Pass means nothing).
	NA string `json:"na,omitempty"`
}

func (c *continuous) report() *continuousReport {
	r := &continuousReport{Interval: c.cfg.interval.String(), Seconds: c.cfg.window().Seconds(), Warmup: c.cfg.warmup().Seconds(),
		Changes: c.rs.changes, BaseSet: c.rs.baseSet, Rounds: c.rounds, cfg: c.cfg, byOp: map[string][]contRound{}}
	for _, cr := range c.rounds {
		if cr.Error != "" {
			r.Checks = append(r.Checks, check{What: fmt.Sprintf("continuous: %s, round %d", cr.Op, cr.Round+1), Detail: cr.Error})
			continue
		}
		if cr.NA == "" {
			r.byOp[cr.Op] = append(r.byOp[cr.Op], cr)
		}
	}
	r.Targets = append(r.Targets,
		r.rpo(opContOn, "RPO, local catalog", rpoSlackLocal),
		r.ingest(), r.rss(), r.restore())
	s3 := r.rpo(opContOnS3, "RPO, MinIO on loopback", rpoSlackS3)
	if c.s3 == nil {
		s3.NA = "left out: " + c.s3NA
	}
	r.Targets = append(r.Targets, s3)
	return r
}

// rpo is the median over the rounds of each round's p99 lag.
func (r *continuousReport) rpo(op, what string, slack time.Duration) goal {
	limit := (r.cfg.interval + slack).Seconds()
	g := goal{Figure: what + ": lag of each ingested record from its commit until the segment holding it is in the catalog, p99 (p50)",
		Target: fmt.Sprintf("p99 ≤ interval + %s = %.2f s", slack, limit), Limit: limit}
	rounds := r.byOp[op]
	if len(rounds) == 0 {
		g.NA = r.why(op)
		return g
	}
	var p99, p50, metric, write []float64
	for _, cr := range rounds {
		p99, p50, metric = append(p99, cr.Lag.P99), append(p50, cr.Lag.P50), append(metric, cr.MetricMaxLag)
		write = append(write, cr.Lag.WriteP50)
	}
	g.Value, g.Pass = medianFloat(p99), medianFloat(p99) <= limit
	g.Measured = fmt.Sprintf("%.3f s (%.3f s); rounds %.3f–%.3f s; a segment written in %.3f s; gauge max %.3f s", g.Value, medianFloat(p50),
		slices.Min(p99), slices.Max(p99), medianFloat(write), medianFloat(metric))
	return g
}

// ingest pairs the rounds' records/s on and off.
func (r *continuousReport) ingest() goal {
	g := goal{Figure: "ingest throughput, continuous backup on / off (records/s)", Target: fmt.Sprintf("≥ %.2f×", ingestRatioMin), Limit: ingestRatioMin}
	on, off := r.paired(func(cr contRound) float64 { return cr.RecordsPerSec })
	if len(on) == 0 {
		g.NA = r.why(opContOn) + r.why(opContOff)
		return g
	}
	ratios := make([]float64, len(on))
	for i := range on {
		ratios[i] = on[i] / off[i]
	}
	g.Value = medianFloat(ratios)
	g.Pass = g.Value >= ingestRatioMin
	g.Measured = fmt.Sprintf("%.2f× (%.0f / %.0f records/s; rounds %.2f–%.2f×)", g.Value, medianFloat(on), medianFloat(off), slices.Min(ratios), slices.Max(ratios))
	return g
}

// rss pairs the rounds' peak RSS on and off.
func (r *continuousReport) rss() goal {
	g := goal{Figure: "server peak RSS under full ingest, continuous backup on − off", Target: "≤ +256 MiB", Limit: rssAboveMaxKiB}
	on, off := r.paired(func(cr contRound) float64 { return float64(cr.PeakRSSKiB) })
	if len(on) == 0 {
		g.NA = r.why(opContOn) + r.why(opContOff)
		return g
	}
	diffs := make([]float64, len(on))
	for i := range on {
		diffs[i] = on[i] - off[i]
	}
	g.Value = medianFloat(diffs)
	g.Pass = g.Value <= rssAboveMaxKiB
	g.Measured = fmt.Sprintf("%+.0f MiB (%.0f / %.0f MiB; rounds %+.0f to %+.0f MiB)", g.Value/1024, medianFloat(on)/1024, medianFloat(off)/1024,
		slices.Min(diffs)/1024, slices.Max(diffs)/1024)
	return g
}

// restore compares the medians of restore-at and restore-set.
func (r *continuousReport) restore() goal {
	g := goal{Figure: fmt.Sprintf("`admin restore --at latest` (set + journal of %d records) / `--set` alone, into an empty directory", r.Changes),
		Target: fmt.Sprintf("≤ %.1f×", restoreAtMax), Limit: restoreAtMax}
	at, set := r.byOp[opRestoreAt], r.byOp[opRestoreSet]
	if len(at) == 0 || len(set) == 0 {
		g.NA = r.why(opRestoreAt) + r.why(opRestoreSet)
		return g
	}
	secs := func(rounds []contRound, f func(contRound) float64) float64 {
		var xs []float64
		for _, cr := range rounds {
			xs = append(xs, f(cr))
		}
		return medianFloat(xs)
	}
	total := func(cr contRound) float64 { return cr.Seconds }
	ta, ts := secs(at, total), secs(set, total)
	g.Value = ta / ts
	g.Pass = g.Value <= restoreAtMax
	g.Measured = fmt.Sprintf("%.2f× (%.2f s / %.2f s)", g.Value, ta, ts)
	if rebuilt := secs(at, func(cr contRound) float64 { return cr.RebuiltSeconds }); rebuilt > 0 {
		g.Measured += fmt.Sprintf("; --at had rebuilt the database at the instant after %.2f s (set loaded, journal applied), then put it in place (moved as it is offline into an empty directory or with --wipe, else dumped and restored as a set)", rebuilt)
	}
	return g
}

// paired returns f of the continuous-on and -off rounds that both
// succeeded, round by round.
func (r *continuousReport) paired(f func(contRound) float64) (on, off []float64) {
	offBy := map[int]contRound{}
	for _, cr := range r.byOp[opContOff] {
		offBy[cr.Round] = cr
	}
	for _, cr := range r.byOp[opContOn] {
		if o, ok := offBy[cr.Round]; ok {
			on, off = append(on, f(cr)), append(off, f(o))
		}
	}
	return on, off
}

// why says why op has no successful round.
func (r *continuousReport) why(op string) string {
	for _, cr := range r.Rounds {
		if cr.Op == op && cr.NA != "" {
			return op + ": n/a: " + cr.NA + ". "
		}
		if cr.Op == op && cr.Error != "" {
			return op + ": failed: " + cr.Error + ". "
		}
	}
	if len(r.byOp[op]) == 0 {
		return op + ": not run. "
	}
	return ""
}

func (r *continuousReport) markdown() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n## Continuous backup (issue 14): local catalog, `--backup-continuous-interval %s`\n\n", r.Interval)
	fmt.Fprintf(&b, "Ingest rounds: a fresh `flowg serve` on a copy of the dataset, continuous backup off and on alternating (same flags otherwise), "+
		"the ingest clients at full speed; %.0f s warm-up, then %.0f s measured (records/s acknowledged; the server's VmHWM reset at its start). "+
		"The lag of a record is when the segment holding it first appeared in the catalog (listed every %s) minus its commit "+
		"(the journal's time mark for it: when Badger handed the commit over, right after it); every record committed in the window counts; "+
		"*from stamp* counts from the server's stamp in the record's key instead, taken before the commit (Badger's write latency included). The gauge is `%s` scraped every %s (both servers scraped). "+
		"Restores: the `flowg` process's wall time, the logs database only.\n\n",
		r.Warmup, r.Seconds, r.cfg.poll, lagMetric, metricsPeriod)
	b.WriteString("| figure | measured (median of rounds) | target | result |\n|---|---|---|---|\n")
	for _, g := range r.Targets {
		if g.NA != "" {
			fmt.Fprintf(&b, "| %s | n/a: %s | %s | n/a |\n", g.Figure, cell(strings.TrimSpace(g.NA)), g.Target)
			continue
		}
		result := "MISS"
		if g.Pass {
			result = "PASS"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.Figure, g.Measured, g.Target, result)
	}
	b.WriteString("\n| round | operation | records/s | peak RSS | lag p50 | p90 | p99 | max | records (segments) | segment write p50 / max | from stamp p99 / max | gauge max | time |\n")
	b.WriteString("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, cr := range r.Rounds {
		if cr.NA != "" || cr.Error != "" {
			fmt.Fprintf(&b, "| %d | %s | %s | | | | | | | | | | |\n", cr.Round+1, cr.Op, cell(strings.TrimSpace("n/a: "+cr.NA+" "+cr.Error)))
			continue
		}
		row := []string{fmt.Sprint(cr.Round + 1), cr.Op, num(cr.RecordsPerSec, "%.0f"), mib(cr.PeakRSSKiB << 10)}
		if l := cr.Lag; l != nil {
			row = append(row, fmt.Sprintf("%.3f s", l.P50), fmt.Sprintf("%.3f s", l.P90), fmt.Sprintf("%.3f s", l.P99), fmt.Sprintf("%.3f s", l.Max),
				fmt.Sprintf("%d (%d)", l.Records, l.Segments), fmt.Sprintf("%.3f / %.3f s", l.WriteP50, l.WriteMax),
				fmt.Sprintf("%.3f / %.3f s", l.StampP99, l.StampMax))
		} else {
			row = append(row, "", "", "", "", "", "", "")
		}
		row = append(row, num(cr.MetricMaxLag, "%.3f s"), num(cr.Seconds, "%.3f s"))
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	return b.String()
}

// num formats v, or nothing when it is 0 or not a number.
func num(v float64, format string) string {
	if v == 0 || math.IsNaN(v) {
		return ""
	}
	return fmt.Sprintf(format, v)
}
