package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// restoreSetup is the catalog restore-at and restore-set read: a server
// with --backup-continuous on a copy of the dataset took a set of it at
// start (the journal's base), then --journal-changes records were ingested
// and shipped, and the server stopped (shipping the rest).
type restoreSetup struct {
	root    string
	catalog string
	live    string // the server's logs database after it stopped
	baseSet string
	changes int // records ingested into the journal
	checked map[string]bool
	err     string
	na      string
}

// prepareRestore builds the catalog of the restores.
func prepareRestore(ctx context.Context, b *bench, c *continuous) *restoreSetup {
	rs := &restoreSetup{root: filepath.Join(c.root, "restore"), checked: map[string]bool{}}
	if b.online == nil || b.online.na != "" {
		rs.na = "no flowg server: " + b.online.na
		return rs
	}
	start := time.Now()
	if err := rs.setup(ctx, b, c.cfg); err != nil {
		rs.err = "setup: " + err.Error()
		fmt.Fprintf(b.errOut, "continuous: restore %s\n", rs.err)
		return rs
	}
	fmt.Fprintf(b.errOut, "continuous: set %s of the dataset, then a journal of %d ingested records (%.1f s)\n",
		rs.baseSet, rs.changes, time.Since(start).Seconds())
	return rs
}

func (rs *restoreSetup) setup(ctx context.Context, b *bench, cfg continuousConfig) error {
	dir := filepath.Join(rs.root, "server")
	rs.live, rs.catalog = filepath.Join(dir, "logs"), filepath.Join(dir, "backups")
	if err := kv.CopyDir(b.ds.Dir, rs.live); err != nil {
		return fmt.Errorf("copy the dataset: %w", err)
	}
	srv, err := b.online.startIn(ctx, dir, rs.live, "--backup-continuous", "--backup-continuous-interval", cfg.interval.String())
	if err != nil {
		return err
	}
	defer srv.stop()
	token, err := login(ctx, srv.base)
	if err != nil {
		return err
	}
	n, err := ingestRecords(ctx, srv.base, token, b.ingestLoad, b.cfg.ingestClients, cfg.changes)
	if err != nil {
		return err
	}
	rs.changes = n
	srv.stop()
	rs.baseSet, err = chainBase(filepath.Join(rs.catalog, "journal", benchDatabase))
	return err
}

// ingestRecords posts batches with clients goroutines until at least n
// records were acknowledged, and returns how many.
func ingestRecords(ctx context.Context, base, token string, load *ingestLoad, clients, n int) (int, error) {
	batches := int64((n + load.records - 1) / load.records)
	var next atomic.Int64
	errs := make(chan error, clients)
	client := newIngestClient(clients)
	for range clients {
		go func() {
			for i := next.Add(1) - 1; i < batches; i = next.Add(1) - 1 {
				if err := postBatch(ctx, client, base, token, &load.batches[i%int64(len(load.batches))]); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range clients {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return int(batches) * load.records, first
}

// chainBase reads the base set of the only chain of a database's journal.
func chainBase(dir string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "chain.json"))
	if err != nil || len(paths) != 1 {
		return "", fmt.Errorf("the journal at %s holds %d chains, one was expected (%v)", dir, len(paths), err)
	}
	body, err := os.ReadFile(paths[0])
	if err != nil {
		return "", err
	}
	var ch struct {
		BaseSet string `json:"base_set"`
	}
	if err := json.Unmarshal(body, &ch); err != nil || ch.BaseSet == "" {
		return "", fmt.Errorf("%s names no base set (%v)", paths[0], err)
	}
	return ch.BaseSet, nil
}

// measure runs `flowg admin restore` of the logs database into an empty
// directory: --at latest (restore-at) or --set of the journal's base
// (restore-set). The first time, outside the timing, the result is
// compared with the server's database after it stopped (restore-at) or
// the dataset (restore-set).
func (rs *restoreSetup) measure(ctx context.Context, b *bench, round int, op string) contRound {
	cr := contRound{Round: round, Op: op, NA: rs.na, Error: rs.err}
	if cr.NA != "" || cr.Error != "" {
		return cr
	}
	target := filepath.Join(rs.root, "target-"+op)
	os.RemoveAll(target)
	defer os.RemoveAll(target)
	logs := filepath.Join(target, "logs")
	args := []string{"admin", "restore", "--backup-dir", rs.catalog, "--only", benchDatabase,
		"--log-dir", logs, "--auth-dir", filepath.Join(target, "auth"), "--config-dir", filepath.Join(target, "config"),
		"--catalog-dir", filepath.Join(target, "catalog")}
	if op == opRestoreAt {
		args = append(args, "--at", "latest")
	} else {
		args = append(args, "--set", rs.baseSet)
	}
	// restore --at names the instant once the database is rebuilt from
	// the set and the journal, before the restore proper starts.
	secs, rebuilt, hwm, err := runMeasured(ctx, b.online.bin, args, []string{"TMPDIR=" + b.path("tmp")}, "restoring "+benchDatabase+" to its state at")
	if err != nil {
		cr.Error = err.Error()
		return cr
	}
	cr.Seconds, cr.PeakRSSKiB, cr.RebuiltSeconds = secs, hwm, rebuilt
	if perf, err := exec.LookPath("perf"); err == nil && b.cfg.profile && round == 0 {
		// Once more, outside the timing, under perf.
		os.RemoveAll(target)
		out := filepath.Join(b.cfg.work, "profiles", op+".perf.data")
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err == nil {
			pargs := append([]string{"record", "-q", "-F", "499", "-g", "-e", "cpu-clock", "-o", out, "--", b.online.bin}, args...)
			if _, _, _, err := runMeasured(ctx, perf, pargs, []string{"TMPDIR=" + b.path("tmp")}, ""); err != nil {
				fmt.Fprintf(b.errOut, "perf record: %v\n", err)
			} else {
				fmt.Fprintf(b.errOut, "            profile: perf report -i %s --no-children\n", out)
			}
		}
	}
	if rs.checked[op] {
		return cr
	}
	rs.checked[op] = true
	want := b.ds.Dir
	if op == opRestoreAt {
		want = rs.live
	}
	if cr.Keys, err = sameDatabases(want, logs); err != nil {
		cr.Error = fmt.Sprintf("the restored database differs from %s: %v", want, err)
	}
	return cr
}

// runMeasured runs a command and returns its wall time, when a line of its
// output first held marker (0 if never), and its peak RSS (VmHWM, read
// every 20 ms while it runs: the last reading before it exits is the peak
// within 20 ms of its end).
func runMeasured(ctx context.Context, bin string, args, env []string, marker string) (float64, float64, int64, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &markedOutput{marker: []byte(marker)}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	out.start = start
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var hwm int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			secs := time.Since(start).Seconds()
			if err != nil {
				return 0, 0, 0, fmt.Errorf("flowg %s %s: %v: %s", args[0], args[1], err, lastLine(out.String()))
			}
			return secs, out.seconds(), hwm, nil
		case <-tick.C:
			hwm = max(hwm, procStatusKiB(cmd.Process.Pid, "VmHWM"))
		}
	}
}

// markedOutput keeps a command's output and notes when marker first
// appeared in it.
type markedOutput struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker []byte
	start  time.Time
	at     time.Duration
}

func (m *markedOutput) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf.Write(p)
	if m.at == 0 && len(m.marker) > 0 && bytes.Contains(m.buf.Bytes(), m.marker) {
		m.at = time.Since(m.start)
	}
	return len(p), nil
}

func (m *markedOutput) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.String()
}

func (m *markedOutput) seconds() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.at.Seconds()
}

// newIngestClient is an HTTP client keeping a connection per ingest client.
func newIngestClient(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
}
