// Command flowg-bench measures flowg's backup and restore of the logs
// database side by side with the reference path FlowG uses today: Badger's
// Stream.Backup with one goroutine to back up, and db.Load(r, 1) to restore.
//
// It generates a deterministic, seeded dataset of realistic log records into
// a logs database opened with flowg's own Badger options (ZSTD tables), keyed
// as the log store keys them, half of them with a TTL. The dataset is built
// once per work directory and reused while its parameters match.
//
// Then, in one run, it performs every operation --runs times, alternating
// reference and flowg operations within each round (and swapping which one
// goes first every other round, so neither always meets a warmer cache):
//
//	ref-backup         Stream.Backup, NumGo=1, into a file (DB opened read-only)
//	flowg-backup       backup.Dump into a file (flowg format, default compression)
//	online-backup      GET /api/v1/backup/logs from a running `flowg serve`
//	ref-restore        db.Load(r, 1) into a fresh database, Close included
//	flowg-merge        backup.MergeFile into a fresh database, Close included, exclusive (the offline merge)
//	flowg-merge-txn    the same in transactions (how a served database is merged)
//	flowg-wipe         backup.WipeDir into a fresh directory
//	flowg-verify       backup.VerifyFile, checksums only
//	flowg-verify-load  backup.VerifyFile with Load (bulk-loaded into a scratch database on disk, as the CLI does)
//
// and, unless --only leaves them out:
//
//	online-backup-ingest  online-backup of a fresh copy of the dataset while --ingest-clients
//	                      goroutines post batches of --ingest-batch generated records to
//	                      POST /api/v1/streams/:stream/logs at full speed (loopback HTTP); the
//	                      records/s acknowledged during the backup are compared with ingest alone,
//	                      measured for --ingest-seconds, half before and half after the backup
//	local-set          Catalog.Create of the logs database into a local catalog directory
//	s3-set             the same into s3://flowg-bench/bench on a MinIO the harness starts on a
//	                   loopback port (a minio binary on PATH or in $(go env GOPATH)/bin; n/a without)
//	incr-set           Catalog.Create with Incremental, on a copy of the dataset whose 1% of records
//	                   changed (half updated, a quarter deleted, a quarter added) after a full set
//	incr-full          a full set of that same changed database
//	jincr-set          with continuous backup on (group incr-journal): an incremental set
//	                   built from the journal, after the same change (incremental_journal.go)
//	jincr-full         a full set of that served database, continuous backup on
//
// and the continuous group (continuous.go), whose own table gives each
// target of issue 14 with PASS or MISS:
//
//	continuous-off     --ingest-clients clients ingest into a fresh `flowg serve` for --continuous-seconds
//	continuous-on      the same server with --backup-continuous on a local catalog: records/s,
//	                   the server's peak RSS, and the lag of every ingested record until the
//	                   segment holding it appeared in the catalog (RPO)
//	restore-at         `flowg admin restore --at latest` into an empty directory: a set of the
//	                   dataset plus a journal of --journal-changes ingested records
//	restore-set        `flowg admin restore --set` of that set alone into an empty directory
//
// After the first incr-set, outside the timing, the incremental chain is
// restored (Catalog.Restorable, backup.WipeFrom) and compared with the live
// database record by record.
//
// Each offline operation runs in a child process (the harness re-executes
// itself as `flowg-bench op NAME ...`), so its peak RSS is its own. The child
// reports its VmHWM (/proc/self/status) when the operation ends: its
// getrusage ru_maxrss, also recorded, is no use on Linux, because Go starts
// children with a vfork-style clone and the kernel counts the parent's
// resident pages towards the child's maxrss. The child times the operation
// itself, database open and close and the file's fsync included, so process
// start-up is left out of the time column; the wall time around the child is
// kept too. For online-backup the peak RSS is the server's VmHWM, reset after
// login (clear_refs) and read after the download.
//
// It prints a markdown table of medians (time, MB/s of logical bytes, output
// size, peak RSS), the ratios flowg / reference for each pairing, and writes
// both with every raw sample to WORK/results.md and WORK/results.json.
//
// Usage:
//
//	go run ./cmd/flowg-bench [--records 1000000] [--runs 5] [--seed 1] [--work DIR] [--flowg PATH] [--quick] [--profile]
//	    [--only core,ingest,s3,incremental,continuous,incr-journal] [--ingest-clients 4] [--ingest-batch 256] [--ingest-seconds 4]
//	    [--continuous-seconds 10] [--continuous-interval 1s] [--journal-changes N]
//
// The harness is meant for Linux: peak RSS and the server's CPU time come from /proc.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit codes: 0 every operation ran (n/a allowed), 1 one failed, 2 bad usage.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// errReported is a usage error already printed by the flag package.
var errReported = errors.New("bad usage")

// config is what the command line asks for.
type config struct {
	records int
	runs    int
	seed    uint64
	work    string
	flowg   string
	quick   bool
	profile bool
	args    []string
	// only holds the measurement groups to run (see groups).
	only          map[string]bool
	ingestClients int
	ingestBatch   int
	ingestSeconds float64
	// continuous is the continuous-backup group's settings (continuous.go).
	continuous continuousConfig
	// scale runs the scale table instead of the rounds (see scale.go) on
	// each of scaleRecords.
	scale        bool
	scaleRecords []int
}

// Measurement groups, selected with --only.
const (
	groupCore        = "core"        // the backup and restore operations against the reference
	groupIngest      = "ingest"      // online-backup-ingest
	groupS3          = "s3"          // local-set and s3-set
	groupIncremental = "incremental" // incr-set and incr-full
	groupContinuous  = "continuous"  // continuous backup: RPO, ingest, RSS, restore --at (continuous.go)
)

var groups = []string{groupCore, groupIngest, groupS3, groupIncremental, groupContinuous, groupIncrJournal}

// ingestPhases are the durations of an online-backup-ingest round: a
// warm-up of a fifth of the alone period (at least half a second).
func (b *bench) ingestPhases() ingestPhases {
	alone := time.Duration(b.cfg.ingestSeconds * float64(time.Second))
	return ingestPhases{warmup: max(alone/5, 500*time.Millisecond), alone: alone}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes flowg-bench with args and returns the exit code. The tables go
// to out, progress and errors to errOut.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) > 0 && args[0] == "op" {
		return runOp(ctx, args[1:], out, errOut)
	}
	if len(args) > 0 && args[0] == "datasets" {
		return runDatasets(args[1:], errOut)
	}
	cfg, err := parseFlags(args, errOut)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(errOut, "flowg-bench: %v\n", err)
		}
		return exitUsage
	}
	b, err := newBench(cfg, out, errOut)
	if err != nil {
		fmt.Fprintf(errOut, "flowg-bench: %v\n", err)
		return exitFailed
	}
	run := b.run
	if cfg.scale {
		run = func(ctx context.Context) (bool, error) { return runScale(ctx, cfg, out, errOut) }
	}
	failed, err := run(ctx)
	if err != nil {
		fmt.Fprintf(errOut, "flowg-bench: %v\n", err)
		return exitFailed
	}
	if failed {
		fmt.Fprintln(errOut, "flowg-bench: some operations failed; see the table and results.json")
		return exitFailed
	}
	return exitOK
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	cfg := config{args: args}
	fs := flag.NewFlagSet("flowg-bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintln(errOut, "Usage: go run ./cmd/flowg-bench [--records N] [--runs N] [--seed N] [--work DIR] [--flowg PATH] [--quick] [--profile]")
		fmt.Fprintln(errOut, "         [--only core,ingest,s3,incremental,continuous,incr-journal] [--ingest-clients N] [--ingest-batch N] [--ingest-seconds S]")
		fmt.Fprintln(errOut, "         [--continuous-seconds S] [--continuous-interval D] [--journal-changes N]")
		fmt.Fprintln(errOut, "\nBenchmarks flowg's backup and restore of a generated logs database against Badger's")
		fmt.Fprintln(errOut, "Stream.Backup (NumGo=1) and db.Load(r, 1), alternating them in one run, each in a child process.")
		fmt.Fprintln(errOut, "\nFlags:")
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.records, "records", 1_000_000, "log records in the generated dataset")
	fs.IntVar(&cfg.runs, "runs", 5, "rounds; the table shows medians over them")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the dataset generator")
	fs.StringVar(&cfg.work, "work", filepath.Join(os.TempDir(), "flowg-bench"), "work directory: dataset (kept), backup files and results")
	fs.StringVar(&cfg.flowg, "flowg", "", "built flowg binary for online-backup (default: go build ./cmd/flowg into the work directory)")
	fs.BoolVar(&cfg.quick, "quick", false, "CI smoke run: 100,000 records and 3 rounds unless --records/--runs say otherwise")
	fs.BoolVar(&cfg.profile, "profile", false, "after the rounds, run each offline operation once more with CPU and heap profiles into WORK/profiles")
	only := fs.String("only", strings.Join(groups, ","), "measurement groups to run: core (backup/restore vs reference), ingest (online backup under ingest), s3 (S3 vs local catalog set), incremental, continuous (continuous backup: RPO, ingest, RSS, restore --at), incr-journal (incremental set built from the continuous-backup journal)")
	fs.IntVar(&cfg.ingestClients, "ingest-clients", 4, "ingest: client goroutines posting batches")
	fs.IntVar(&cfg.ingestBatch, "ingest-batch", 256, "ingest: records per request")
	fs.Float64Var(&cfg.ingestSeconds, "ingest-seconds", 4, "ingest: seconds of ingest alone per round, half before the backup, half after (--quick: 2)")
	cfg.continuous.flags(fs)
	fs.BoolVar(&cfg.scale, "scale", false, "scale run: every backup and restore once per dataset of --scale-records, with CPU-seconds and per-record time")
	scaleList := fs.String("scale-records", "1M,3M,10M", "scale run: comma-separated dataset sizes (k and M suffixes allowed)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errReported // the flag package printed it with the usage
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		if !set["records"] {
			cfg.records = 100_000
		}
		if !set["runs"] {
			cfg.runs = 3
		}
		if !set["ingest-seconds"] {
			cfg.ingestSeconds = 2
		}
		cfg.continuous.quick(set)
	}
	if cfg.scale {
		var err error
		if cfg.scaleRecords, err = parseRecordList(*scaleList); err != nil {
			return cfg, fmt.Errorf("--scale-records: %w", err)
		}
		if !set["runs"] {
			cfg.runs = 1
		}
	}
	switch {
	case cfg.records < 1:
		return cfg, fmt.Errorf("--records must be at least 1")
	case cfg.runs < 1:
		return cfg, fmt.Errorf("--runs must be at least 1")
	case cfg.ingestClients < 1 || cfg.ingestBatch < 1:
		return cfg, fmt.Errorf("--ingest-clients and --ingest-batch must be at least 1")
	case cfg.ingestSeconds < 0.2 || cfg.ingestSeconds > 600:
		return cfg, fmt.Errorf("--ingest-seconds must be between 0.2 and 600")
	}
	if err := cfg.continuous.check(cfg.records); err != nil {
		return cfg, err
	}
	cfg.only = map[string]bool{}
	for g := range strings.SplitSeq(*only, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !slices.Contains(groups, g) {
			return cfg, fmt.Errorf("--only: unknown group %q (groups: %s)", g, strings.Join(groups, ", "))
		}
		cfg.only[g] = true
	}
	if len(cfg.only) == 0 {
		return cfg, fmt.Errorf("--only names no group (groups: %s)", strings.Join(groups, ", "))
	}
	abs, err := filepath.Abs(cfg.work)
	if err != nil {
		return cfg, fmt.Errorf("--work: %w", err)
	}
	cfg.work = abs
	if cfg.flowg != "" {
		if cfg.flowg, err = filepath.Abs(cfg.flowg); err != nil {
			return cfg, fmt.Errorf("--flowg: %w", err)
		}
	}
	return cfg, nil
}
