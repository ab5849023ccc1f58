package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// sample is one operation of one round.
type sample struct {
	Round     int    `json:"round"`
	Op        string `json:"op"`
	Nanos     int64  `json:"ns"`      // timed inside the child
	WallNanos int64  `json:"wall_ns"` // around the child, start-up included
	UserNanos int64  `json:"user_ns"`
	SysNanos  int64  `json:"sys_ns"`
	MaxRSSKiB int64  `json:"max_rss_kib"`
	RSSSource string `json:"rss_source"`
	// RusageMaxRSSKiB is the child's ru_maxrss. On Linux it is at least the
	// harness's own peak RSS, because Go starts children with a vfork-style
	// clone whose pre-exec address space (the parent's) counts towards it;
	// MaxRSSKiB is the child's VmHWM instead, which starts afresh at exec.
	RusageMaxRSSKiB int64  `json:"rusage_max_rss_kib"`
	FileBytes       int64  `json:"file_bytes,omitempty"`
	Keys            uint64 `json:"keys,omitempty"`
	LogicalBytes    uint64 `json:"logical_bytes,omitempty"`
	// NA says why the operation could not be measured (not a failure).
	NA    string `json:"na,omitempty"`
	Error string `json:"error,omitempty"`
	// Server* are set for online-backup.
	ServerBaseRSSKiB int64 `json:"server_base_rss_kib,omitempty"`
	ServerLifeRSSKiB int64 `json:"server_life_max_rss_kib,omitempty"`
	// StartUnixNs and EndUnixNs are when the child's timed part ran.
	StartUnixNs int64 `json:"start_unix_ns,omitempty"`
	EndUnixNs   int64 `json:"end_unix_ns,omitempty"`
	// Catalog sets (local-set, s3-set, incr-set, incr-full).
	SetID      string `json:"set_id,omitempty"`
	Parent     string `json:"parent,omitempty"`
	Inventory  uint64 `json:"inventory_keys,omitempty"`
	ContentSum string `json:"content_sum,omitempty"`
	// Ingest* are set for online-backup-ingest: the clients, their batch
	// size, the records per second acknowledged with ingest alone (before
	// and after the backup) and during the backup, every record
	// acknowledged in the round, and how many of them the backup holds.
	IngestClients   int     `json:"ingest_clients,omitempty"`
	IngestBatch     int     `json:"ingest_batch,omitempty"`
	IngestAloneRPS  float64 `json:"ingest_alone_records_per_s,omitempty"`
	IngestDuringRPS float64 `json:"ingest_during_backup_records_per_s,omitempty"`
	IngestRecords   uint64  `json:"ingest_records,omitempty"`
	IngestBackedUp  uint64  `json:"ingest_records_backed_up,omitempty"`
}

// bench is one run of the harness.
type bench struct {
	cfg    config
	self   string
	runDir string // WORK/run: backup files and restore targets
	ds     dataset
	online *online
	minio  *minioServer
	incr   *incremental
	cont   *continuous
	jincr  *journalIncr // incremental sets from the journal (incremental_journal.go)
	// ingestLoad is what the ingest clients send.
	ingestLoad *ingestLoad
	// setContent is the content hash of the first catalog set of the dataset.
	setContent string
	samples    []sample
	out        io.Writer
	errOut     io.Writer
	started    time.Time
	loadStart  string
}

func newBench(cfg config, out, errOut io.Writer) (*bench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	if err := os.MkdirAll(cfg.work, 0o700); err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	return &bench{cfg: cfg, self: self, runDir: filepath.Join(cfg.work, "run"), out: out, errOut: errOut}, nil
}

// roundOrder lists the operations of round r: reference and flowg alternate,
// and every other round swaps which of a pair goes first. Backups come first
// in each round, so the restores read this round's files.
// The other groups (--only) follow the same rule.
func (b *bench) roundOrder(r int) []string {
	var order []string
	if b.cfg.only[groupCore] {
		backups := []string{opRefBackup, opFlowgBackup}
		restores := []string{opRefRestore, opOfflineMerge, opFlowgMerge, opFlowgMergeTxn, opFlowgWipe}
		if r%2 == 1 {
			backups = []string{opFlowgBackup, opRefBackup}
			restores = []string{opOfflineMerge, opRefRestore, opFlowgWipe, opFlowgMerge, opFlowgMergeTxn}
		}
		order = append(backups, opOnlineBackup)
		order = append(order, restores...)
		order = append(order, opFlowgVerify, opFlowgVerifyLoad)
	}
	if b.cfg.only[groupIngest] {
		order = append(order, opOnlineIngest)
	}
	if b.cfg.only[groupS3] {
		if r%2 == 0 {
			order = append(order, opLocalSet, opS3Set)
		} else {
			order = append(order, opS3Set, opLocalSet)
		}
	}
	if b.cfg.only[groupIncremental] {
		if r%2 == 0 {
			order = append(order, opIncrSet, opIncrFull)
		} else {
			order = append(order, opIncrFull, opIncrSet)
		}
	}
	if b.cfg.only[groupContinuous] {
		order = append(order, continuousOrder(r, b.cont)...)
	}
	if b.cfg.only[groupIncrJournal] {
		if r%2 == 0 {
			order = append(order, opJIncrSet, opJIncrFull)
		} else {
			order = append(order, opJIncrFull, opJIncrSet)
		}
	}
	return order
}

// run performs every round and writes the results. failed reports whether
// an operation failed (n/a is not a failure).
func (b *bench) run(ctx context.Context) (failed bool, err error) {
	b.started, b.loadStart = time.Now(), loadAverage()
	ds, err := ensureDataset(b.cfg.work, b.cfg.records, b.cfg.seed, b.errOut)
	if err != nil {
		return false, err
	}
	b.ds = ds
	if err := os.RemoveAll(b.runDir); err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Join(b.runDir, "tmp"), 0o700); err != nil {
		return false, err
	}
	defer os.RemoveAll(b.runDir)
	only := b.cfg.only
	if only[groupCore] || only[groupIngest] || only[groupContinuous] {
		b.online = prepareOnline(ctx, b.cfg, ds, b.errOut, only[groupCore])
		defer b.online.cleanup()
	}
	if only[groupIngest] || only[groupContinuous] {
		b.ingestLoad = newIngestLoad(b.cfg.seed, b.cfg.records, b.cfg.ingestBatch)
	}
	if only[groupS3] {
		b.minio = startMinio(ctx, b.cfg.work, b.errOut)
		defer b.minio.stop()
	}
	if only[groupIncremental] {
		b.incr = prepareIncremental(ctx, b)
	}
	if only[groupContinuous] {
		b.cont = prepareContinuous(ctx, b)
		defer b.cont.cleanup()
	}
	if only[groupIncrJournal] {
		b.jincr = prepareJournalIncr(ctx, b)
	}

	for r := range b.cfg.runs {
		for _, op := range b.roundOrder(r) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			s := b.measure(ctx, r, op)
			b.samples = append(b.samples, s)
			b.progress(s)
		}
	}
	if b.cfg.profile {
		b.profiles(ctx)
	}
	rep := newReport(b)
	if err := rep.write(b.out, b.cfg.work); err != nil {
		return false, err
	}
	for _, s := range b.samples {
		if s.Error != "" {
			failed = true
		}
	}
	for _, c := range rep.Checks {
		if !c.OK {
			failed = true
		}
	}
	return failed, nil
}

func (b *bench) progress(s sample) {
	switch {
	case s.Error != "":
		fmt.Fprintf(b.errOut, "round %d/%d %-20s FAILED: %s\n", s.Round+1, b.cfg.runs, s.Op, s.Error)
	case s.NA != "":
		fmt.Fprintf(b.errOut, "round %d/%d %-20s n/a: %s\n", s.Round+1, b.cfg.runs, s.Op, s.NA)
	default:
		fmt.Fprintf(b.errOut, "round %d/%d %-20s %7.3f s  %9s peak RSS  %s\n", s.Round+1, b.cfg.runs, s.Op,
			float64(s.Nanos)/1e9, mib(s.MaxRSSKiB<<10), outputNote(s))
	}
}

func outputNote(s sample) string {
	if s.FileBytes == 0 || !isBackup(s.Op) {
		return ""
	}
	return mib(s.FileBytes) + " written"
}

func isBackup(op string) bool {
	switch op {
	case opRefBackup, opFlowgBackup, opOnlineBackup, opOnlineIngest, opLocalSet, opS3Set, opIncrSet, opIncrFull, opJIncrSet, opJIncrFull:
		return true
	}
	return false
}

// paths of the files and directories of one run.
func (b *bench) path(name string) string { return filepath.Join(b.runDir, name) }

var (
	refFile    = "ref-backup.badger"
	flowgFile  = "flowg-backup.db"
	onlineFile = "online-backup.db"
)

// childArgs returns the flags of op's child process.
func (b *bench) childArgs(op string) []string {
	tmp := b.path("tmp")
	switch op {
	case opRefBackup:
		return []string{"--db", b.ds.Dir, "--file", b.path(refFile)}
	case opFlowgBackup:
		return []string{"--db", b.ds.Dir, "--file", b.path(flowgFile), "--tmp", tmp}
	case opRefRestore:
		return []string{"--file", b.path(refFile), "--target", b.path("ref-restore")}
	case opFlowgMerge, opFlowgMergeTxn, opOfflineMerge:
		return []string{"--file", b.path(flowgFile), "--target", b.path(op), "--tmp", tmp}
	case opFlowgWipe:
		return []string{"--file", b.path(flowgFile), "--target", b.path("flowg-wipe"), "--tmp", tmp}
	case opFlowgVerify, opFlowgVerifyLoad:
		return []string{"--file", b.path(flowgFile), "--tmp", tmp}
	}
	return nil
}

// restoreTarget is the directory op restores into ("" for other operations).
func (b *bench) restoreTarget(op string) string {
	switch op {
	case opRefRestore:
		return b.path("ref-restore")
	case opFlowgMerge, opFlowgMergeTxn, opOfflineMerge:
		return b.path(op)
	case opFlowgWipe:
		return b.path("flowg-wipe")
	}
	return ""
}

// measure runs op once and checks what it produced.
func (b *bench) measure(ctx context.Context, round int, op string) sample {
	switch op {
	case opOnlineIngest:
		return b.online.measureIngest(ctx, b, round)
	case opLocalSet, opS3Set:
		return b.measureSet(ctx, round, op)
	case opIncrSet, opIncrFull:
		return b.incr.measure(ctx, b, round, op)
	case opContOff, opContOn, opContOnS3, opRestoreAt, opRestoreSet:
		return b.cont.measure(ctx, b, round, op)
	case opJIncrSet, opJIncrFull:
		return b.jincr.measure(ctx, b, round, op)
	}
	if op == opOnlineBackup {
		s := b.online.measure(ctx, b, round)
		if s.Error == "" && s.NA == "" {
			s.Error = b.checkFile(b.path(onlineFile), &s)
		}
		return s
	}
	if target := b.restoreTarget(op); target != "" {
		defer removeTarget(target)
		if err := b.prepareTarget(op, target); err != nil {
			return sample{Op: op, Round: round, Error: err.Error()}
		}
	}
	s := b.child(ctx, round, op, b.childArgs(op), nil)
	if s.Error != "" {
		return s
	}
	s.Error = b.check(s)
	return s
}

// prepareTarget empties op's restore target; the offline merge's is then a
// copy of the dataset (every key held, every key overwritten).
func (b *bench) prepareTarget(op, target string) error {
	removeTarget(target)
	if op != opOfflineMerge {
		return nil
	}
	if err := kv.CopyDir(b.ds.Dir, target); err != nil {
		return fmt.Errorf("copy the dataset to merge into: %w", err)
	}
	return nil
}

// removeTarget removes a restore target and what a wipe restore leaves next
// to it (staging or set-aside directories).
func removeTarget(dir string) {
	os.RemoveAll(dir)
	siblings, _ := filepath.Glob(dir + ".*")
	for _, s := range siblings {
		os.RemoveAll(s)
	}
}

// check compares what an operation reports with the dataset, so a fast but
// wrong operation is not mistaken for a fast one.
func (b *bench) check(s sample) string {
	want := b.ds.Keys
	switch s.Op {
	case opFlowgBackup, opFlowgMerge, opFlowgMergeTxn, opOfflineMerge, opFlowgWipe, opFlowgVerify, opFlowgVerifyLoad, opLocalSet, opS3Set:
		if s.Keys != want {
			return fmt.Sprintf("%s handled %d keys, the dataset holds %d", s.Op, s.Keys, want)
		}
	case opRefBackup:
		if s.FileBytes < int64(b.ds.LogicalBytes) {
			return fmt.Sprintf("ref-backup wrote %d bytes, less than the dataset's %d logical bytes", s.FileBytes, b.ds.LogicalBytes)
		}
	}
	return ""
}

// checkFile verifies a downloaded backup (checksums only, outside the timing)
// and fills in its keys.
func (b *bench) checkFile(path string, s *sample) string {
	if err := verifyDownload(path, s); err != "" {
		return err
	}
	if s.Keys != b.ds.Keys {
		return fmt.Sprintf("the downloaded backup holds %d keys, the dataset %d", s.Keys, b.ds.Keys)
	}
	return ""
}

// verifyDownload verifies a downloaded backup (checksums only) and fills in
// its keys and logical bytes.
func verifyDownload(path string, s *sample) string {
	_, sum, err := backup.VerifyFile(context.Background(), path, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: benchDatabase}})
	if err != nil {
		return fmt.Sprintf("the downloaded backup does not verify: %v", err)
	}
	s.Keys, s.LogicalBytes = sum.Keys, sum.Bytes
	return ""
}

// child runs `flowg-bench op NAME args...` and measures it.
func (b *bench) child(ctx context.Context, round int, op string, args []string, env []string) sample {
	s := sample{Round: round, Op: op}
	cmd := exec.CommandContext(ctx, b.self, append([]string{"op", op}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	s.WallNanos = time.Since(start).Nanoseconds()
	if ps := cmd.ProcessState; ps != nil {
		s.UserNanos, s.SysNanos = ps.UserTime().Nanoseconds(), ps.SystemTime().Nanoseconds()
		s.RusageMaxRSSKiB = maxRSSKiB(ps)
	}
	if err != nil {
		s.Error = fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))
		return s
	}
	var res opResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		s.Error = fmt.Sprintf("unreadable child output %q: %v", lastLine(stdout.String()), err)
		return s
	}
	s.Nanos, s.Keys, s.LogicalBytes, s.FileBytes = res.Nanos, res.Keys, res.LogicalBytes, res.FileBytes
	s.StartUnixNs, s.EndUnixNs = res.StartUnixNs, res.EndUnixNs
	s.SetID, s.Parent, s.Inventory, s.ContentSum = res.SetID, res.Parent, res.Inventory, res.ContentSum
	s.MaxRSSKiB, s.RSSSource = res.PeakRSSKiB, "child VmHWM"
	if s.MaxRSSKiB == 0 {
		s.MaxRSSKiB, s.RSSSource = s.RusageMaxRSSKiB, "child rusage (includes the harness's RSS)"
	}
	return s
}

// profiles runs each offline operation once more with CPU and allocation
// profiles; these runs are not in the table.
func (b *bench) profiles(ctx context.Context) {
	dir := filepath.Join(b.cfg.work, "profiles")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(b.errOut, "profiles: %v\n", err)
		return
	}
	profile := func(op string, args []string) sample {
		args = append(args,
			"--cpuprofile", filepath.Join(dir, op+".cpu.pprof"),
			"--memprofile", filepath.Join(dir, op+".allocs.pprof"))
		s := b.child(ctx, -1, op, args, nil)
		if s.Error != "" {
			fmt.Fprintf(b.errOut, "profile %s: %s\n", op, s.Error)
		} else {
			fmt.Fprintf(b.errOut, "profile %-18s %7.3f s  %s/%s.{cpu,allocs}.pprof\n", op, float64(s.Nanos)/1e9, dir, op)
		}
		return s
	}
	for _, op := range []string{opRefBackup, opFlowgBackup, opRefRestore, opOfflineMerge, opFlowgMerge, opFlowgMergeTxn, opFlowgWipe, opFlowgVerify, opFlowgVerifyLoad} {
		if !b.cfg.only[groupCore] {
			break // --only leaves the core operations out
		}
		target := b.restoreTarget(op)
		if target != "" {
			if err := b.prepareTarget(op, target); err != nil {
				fmt.Fprintf(b.errOut, "profile %s: %v\n", op, err)
				continue
			}
		}
		profile(op, b.childArgs(op))
		if target != "" {
			removeTarget(target)
		}
	}
	if in := b.incr; in != nil && in.err == "" {
		for _, op := range []string{opIncrSet, opIncrFull} {
			s := profile(op, in.childArgs(b, op))
			if err := in.dropSet(op, s.SetID); err != nil {
				fmt.Fprintf(b.errOut, "profile %s: %v\n", op, err)
			}
		}
	}
	b.jincr.profiles(b, profile)
}

// lastLine returns the last non-empty line of s, for error messages.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "(no output)"
}
