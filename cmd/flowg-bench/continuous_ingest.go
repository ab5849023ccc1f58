package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// metricsPeriod is how often GET /metrics is scraped during an ingest round
// (with continuous backup off too, so both servers answer the same load).
const metricsPeriod = 50 * time.Millisecond

// measureIngest runs one ingest round: a fresh copy of the dataset served
// by `flowg serve` (with --backup-continuous for continuous-on), the ingest
// clients posting at full speed; after the warm-up the server's peak RSS is
// reset and the window measured; the clients go on for a tail so the
// window's records are shipped, then the server is stopped (SIGTERM: it
// ships the rest) and the journal read for the lags.
func (c *continuous) measureIngest(ctx context.Context, b *bench, round int, op string) contRound {
	cr := contRound{Round: round, Op: op}
	o := b.online
	if o.na != "" {
		cr.NA = o.na
		return cr
	}
	dir := c.serverDir(op, round)
	defer os.RemoveAll(dir)
	logs := filepath.Join(dir, "logs")
	if err := kv.CopyDir(b.ds.Dir, logs); err != nil {
		cr.Error = fmt.Sprintf("copy the dataset for the server: %v", err)
		return cr
	}
	extra, journal, err := c.serverFlags(op, dir)
	if err != nil {
		cr.NA = err.Error()
		return cr
	}
	started := time.Now()
	srv, err := o.startIn(ctx, dir, logs, extra...)
	if err != nil {
		cr.Error = err.Error()
		return cr
	}
	defer srv.stop()
	token, err := login(ctx, srv.base)
	if err != nil {
		cr.Error = err.Error()
		return cr
	}
	var poll *segmentPoller
	if journal != "" {
		poll = startPoller(journal, c.cfg.poll)
	}
	scr := startScraper(srv.base, metricsPeriod)
	in := startIngest(ctx, srv.base, token, b.ingestLoad, b.cfg.ingestClients)
	stopped := false
	defer func() {
		if !stopped {
			in.stop()
			scr.stop(time.Time{}, time.Time{})
			if poll != nil {
				poll.stop()
			}
		}
	}()
	if err := pause(ctx, c.cfg.warmup()); err != nil {
		cr.Error = err.Error()
		return cr
	}
	pid := srv.cmd.Process.Pid
	reset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	from := time.Now()
	perf := c.startPerf(b, pid, op, round)
	werr := pause(ctx, c.cfg.window())
	perf()
	to := time.Now()
	hwm := procStatusKiB(pid, "VmHWM")
	if werr == nil {
		werr = pause(ctx, c.cfg.tail())
	}
	ingestErr := in.stop()
	scraped := scr.stop(from, to)
	stopped = true
	life := srv.stop()
	var seen map[string]time.Time
	if poll != nil {
		seen = poll.stop()
	}
	switch {
	case werr != nil:
		cr.Error = werr.Error()
		return cr
	case ingestErr != nil:
		cr.Error = ingestErr.Error()
		return cr
	case srv.err != nil && !isTerminated(srv.err):
		cr.Error = fmt.Sprintf("flowg serve: %v: %s", srv.err, srv.lastLog())
		return cr
	}
	cr.Records = in.records(from.UnixNano(), to.UnixNano())
	cr.RecordsPerSec = cr.Records / to.Sub(from).Seconds()
	cr.LifeRSSKiB = life
	cr.PeakRSSKiB = life
	if reset && hwm > 0 {
		cr.PeakRSSKiB = hwm
	}
	if len(scraped) > 0 {
		slices.Sort(scraped)
		cr.Scrapes, cr.MetricMaxLag, cr.MetricP99Lag = len(scraped), scraped[len(scraped)-1], percentile(scraped, 0.99)
	}
	if journal == "" {
		return cr
	}
	if op == opContOnS3 {
		// The segments are objects in the bucket: read a copy of them.
		journal = filepath.Join(dir, "journal-copy")
		if err := c.downloadJournal(ctx, dir, journal); err != nil {
			cr.Error = fmt.Sprintf("download the journal: %v", err)
			return cr
		}
	}
	lag, err := journalLags(ctx, journal, seen, started, from, to)
	if err != nil {
		cr.Error = fmt.Sprintf("read the journal: %v", err)
		return cr
	}
	cr.Lag = lag
	if acked := in.total(); lag.Journal < acked {
		cr.Error = fmt.Sprintf("the journal holds %d ingested records after the server stopped, %d were acknowledged", lag.Journal, acked)
	} else if lag.Records == 0 {
		cr.Error = "no record of the window was found in the journal"
	}
	return cr
}

// serverFlags are the extra flags of op's server and the directory of its
// logs database's journal ("" with continuous backup off).
func (c *continuous) serverFlags(op, dir string) ([]string, string, error) {
	on := []string{"--backup-continuous", "--backup-continuous-interval", c.cfg.interval.String()}
	if c.cfg.compactAfter > 0 {
		on = append(on, "--backup-continuous-compact-after", c.cfg.compactAfter.String())
	}
	switch op {
	case opContOn:
		return on, filepath.Join(dir, "backups", "journal", benchDatabase), nil
	case opContOnS3:
		return c.s3Flags(on, dir)
	}
	return nil, "", nil
}

// isTerminated says whether a server's exit error is the SIGTERM (or kill)
// it was stopped with rather than a failure.
func isTerminated(err error) bool {
	var ee interface{ ExitCode() int }
	return errors.As(err, &ee) && ee.ExitCode() == -1
}

// startPerf records the server's CPU profile (perf record, user space, call
// graphs) during the window when --profile is given and perf is installed,
// into WORK/profiles/OP-ROUND.perf.data; the returned func waits for it.
func (c *continuous) startPerf(b *bench, pid int, op string, round int) func() {
	perf, err := exec.LookPath("perf")
	if !b.cfg.profile || err != nil {
		return func() {}
	}
	dir := filepath.Join(b.cfg.work, "profiles")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%d.perf.data", op, round+1))
	cmd := exec.Command(perf, "record", "-q", "-F", "499", "-g", "-e", "cpu-clock", "-p", fmt.Sprint(pid), "-o", out,
		"--", "sleep", fmt.Sprintf("%.3f", c.cfg.window().Seconds()))
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(b.errOut, "perf record: %v\n", err)
		return func() {}
	}
	return func() {
		if err := cmd.Wait(); err != nil {
			fmt.Fprintf(b.errOut, "perf record: %v\n", err)
			return
		}
		fmt.Fprintf(b.errOut, "            server profile: perf report -i %s --no-children\n", out)
	}
}
