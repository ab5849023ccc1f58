package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/memlimit"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// Operation names, in the order a round runs them (before swapping pairs).
const (
	opRefBackup       = "ref-backup"
	opFlowgBackup     = "flowg-backup"
	opOnlineBackup    = "online-backup"
	opRefRestore      = "ref-restore"
	opFlowgMerge      = "flowg-merge"
	opFlowgMergeTxn   = "flowg-merge-txn"
	opOfflineMerge    = "offline-merge"
	opFlowgWipe       = "flowg-wipe"
	opFlowgVerify     = "flowg-verify"
	opFlowgVerifyLoad = "flowg-verify-load"
)

// tokenEnv carries the JWT to the online-backup child, out of sight of ps.
const tokenEnv = "FLOWG_BENCH_TOKEN"

// benchDatabase is the database name written into and expected from backups.
const benchDatabase = string(kv.Logs)

// opArgs are the flags of `flowg-bench op NAME`.
type opArgs struct {
	db          string // database to back up
	file        string // backup file written or read
	target      string // directory restored into (must not exist)
	tmp         string // scratch space
	url         string // online-backup: the download URL
	catalog     string // catalog sets: a directory or s3://bucket/prefix
	endpoint    string // s3-set: the S3 endpoint (plain HTTP)
	incremental bool   // incr-set: SetOptions.Incremental
	cpuProfile  string
	memProfile  string
}

// opResult is what a child prints on stdout: one JSON object.
type opResult struct {
	Op           string `json:"op"`
	Nanos        int64  `json:"ns"`
	Keys         uint64 `json:"keys,omitempty"`
	LogicalBytes uint64 `json:"logical_bytes,omitempty"`
	FileBytes    int64  `json:"file_bytes,omitempty"`
	// PeakRSSKiB is the child's own VmHWM at the end of the operation.
	PeakRSSKiB int64 `json:"vmhwm_kib,omitempty"`
	// StartUnixNs and EndUnixNs are when the timed part began and ended
	// (wall clock), so the harness can line it up with what it measures.
	StartUnixNs int64 `json:"start_unix_ns,omitempty"`
	EndUnixNs   int64 `json:"end_unix_ns,omitempty"`
	// Catalog sets: the set written, its parent, the live keys an
	// incremental set lists and the content hash of its records.
	SetID      string `json:"set_id,omitempty"`
	Parent     string `json:"parent,omitempty"`
	Inventory  uint64 `json:"inventory_keys,omitempty"`
	ContentSum string `json:"content_sum,omitempty"`
}

// operation performs one timed operation and fills in what it knows.
type operation func(ctx context.Context, a opArgs, res *opResult) error

var operations = map[string]operation{
	opRefBackup:       refBackup,
	opFlowgBackup:     flowgBackup,
	opOnlineBackup:    onlineDownload,
	opRefRestore:      refRestore,
	opFlowgMerge:      func(ctx context.Context, a opArgs, res *opResult) error { return flowgMerge(ctx, a, res, true) },
	opFlowgMergeTxn:   func(ctx context.Context, a opArgs, res *opResult) error { return flowgMerge(ctx, a, res, false) },
	opOfflineMerge:    offlineMerge,
	opFlowgWipe:       flowgWipe,
	opFlowgVerify:     func(ctx context.Context, a opArgs, res *opResult) error { return flowgVerify(ctx, a, res, false) },
	opFlowgVerifyLoad: func(ctx context.Context, a opArgs, res *opResult) error { return flowgVerify(ctx, a, res, true) },
	opLocalSet:        catalogSet,
	opS3Set:           catalogSet,
	opIncrSet:         catalogSet,
	opIncrFull:        catalogSet,
}

// runOp is the child side: `flowg-bench op NAME --db DIR --file F ...`.
func runOp(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(errOut, "flowg-bench op: name an operation")
		return exitUsage
	}
	name := args[0]
	fn, ok := operations[name]
	if !ok {
		fmt.Fprintf(errOut, "flowg-bench op: unknown operation %q\n", name)
		return exitUsage
	}
	var a opArgs
	fs := flag.NewFlagSet("flowg-bench op "+name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&a.db, "db", "", "database directory to back up")
	fs.StringVar(&a.file, "file", "", "backup file")
	fs.StringVar(&a.target, "target", "", "directory to restore into")
	fs.StringVar(&a.tmp, "tmp", "", "scratch directory")
	fs.StringVar(&a.url, "url", "", "online-backup: URL to download")
	fs.StringVar(&a.catalog, "catalog", "", "catalog sets: catalog directory or s3://bucket/prefix")
	fs.StringVar(&a.endpoint, "endpoint", "", "s3-set: S3 endpoint host:port (plain HTTP)")
	fs.BoolVar(&a.incremental, "incremental", false, "catalog sets: an incremental set on top of the newest one")
	fs.StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the operation")
	fs.StringVar(&a.memProfile, "memprofile", "", "write a heap profile (allocations of the whole operation) after it")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if a.cpuProfile != "" {
		f, err := os.Create(a.cpuProfile)
		if err != nil {
			fmt.Fprintf(errOut, "flowg-bench op %s: %v\n", name, err)
			return exitFailed
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(errOut, "flowg-bench op %s: %v\n", name, err)
			return exitFailed
		}
	}
	res := opResult{Op: name}
	start := time.Now()
	err := fn(ctx, a, &res)
	end := time.Now()
	if res.Nanos == 0 { // the operation did not time its own part
		res.Nanos = end.Sub(start).Nanoseconds()
		res.StartUnixNs, res.EndUnixNs = start.UnixNano(), end.UnixNano()
	}
	if a.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintf(errOut, "flowg-bench op %s: %v\n", name, err)
		return exitFailed
	}
	res.PeakRSSKiB = procStatusKiB(os.Getpid(), "VmHWM")
	if a.memProfile != "" {
		if err := writeHeapProfile(a.memProfile); err != nil {
			fmt.Fprintf(errOut, "flowg-bench op %s: %v\n", name, err)
			return exitFailed
		}
	}
	if err := json.NewEncoder(out).Encode(res); err != nil {
		return exitFailed
	}
	return exitOK
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// refBackup is FlowG's backup path: Badger's Stream.Backup with one
// goroutine, written straight to the file.
func refBackup(_ context.Context, a opArgs, res *opResult) error {
	db, err := kv.Open(a.db, kv.OpenOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	f, err := createFile(a.file)
	if err != nil {
		db.Close()
		return err
	}
	stream := db.NewStream()
	stream.NumGo = 1
	stream.LogPrefix = "flowg-bench.ref-backup"
	_, err = stream.Backup(f, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stream backup: %w", err)
	}
	res.FileBytes = fileSize(a.file)
	return nil
}

// flowgBackup is flowg's offline backup: a read-only snapshot dumped in the
// flowg format with its default compression.
func flowgBackup(ctx context.Context, a opArgs, res *opResult) error {
	memlimit.ForStreaming(os.Getenv)
	snap, err := kv.OpenSnapshot(a.db, a.tmp)
	if err != nil {
		return err
	}
	f, err := createFile(a.file)
	if err != nil {
		snap.Close()
		return err
	}
	_, sum, err := backup.Dump(ctx, snap.DB, f, backup.DumpOptions{Database: benchDatabase, ToolVersion: "flowg-bench"})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if cerr := snap.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	res.Keys, res.LogicalBytes, res.FileBytes = sum.Keys, sum.Bytes, sum.FileBytes
	return nil
}

// onlineDownload is the client side of online-backup: it downloads the
// backup from a running server into the file. The server's resources are
// measured by the harness.
func onlineDownload(ctx context.Context, a opArgs, res *opResult) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer jwt:"+os.Getenv(tokenEnv))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("download: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	f, err := createFile(a.file)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	res.FileBytes = n
	return nil
}

// refRestore is FlowG's restore path: db.Load(r, 1) into a fresh database,
// closed before the clock stops.
func refRestore(_ context.Context, a opArgs, res *opResult) error {
	if err := mustNotExist(a.target); err != nil {
		return err
	}
	f, err := os.Open(a.file)
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := kv.Open(a.target, kv.OpenOptions{})
	if err != nil {
		return err
	}
	err = db.Load(f, 1)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	res.FileBytes = fileSize(a.file)
	return nil
}

// flowgMerge is flowg's merge restore into a fresh database, Close included:
// exclusive, as `flowg admin restore` merges, or in transactions, as a
// served database is merged.
func flowgMerge(ctx context.Context, a opArgs, res *opResult, exclusive bool) error {
	if err := mustNotExist(a.target); err != nil {
		return err
	}
	db, err := kv.Open(a.target, kv.OpenOptions{})
	if err != nil {
		return err
	}
	r, err := backup.MergeFile(ctx, db, a.file, backup.RestoreOptions{Database: benchDatabase, TmpDir: a.tmp, Exclusive: exclusive})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	res.Keys, res.LogicalBytes = r.Written, r.File.Bytes
	return nil
}

// offlineMerge is `flowg admin restore --only logs --no-safety-snapshot`
// from a.file into the populated database at a.target: the restore use
// case as the offline command runs it, with its memory policy (a merge
// rebuilt beside the database, unless it cannot be).
func offlineMerge(ctx context.Context, a opArgs, res *opResult) error {
	root := filepath.Dir(a.target)
	dirs := kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: a.target}
	req := restore.Request{Databases: []kv.Name{kv.Logs}, NoSafetySnapshot: true, SkipBackupCheck: true}
	if err := req.Validate(); err != nil {
		return err
	}
	memlimit.ForMerge(os.Getenv)
	rs, err := restore.Admit(ctx, req, restore.NewOffline(dirs, filepath.Join(root, "catalog")),
		restore.Options{By: "flowg-bench", TmpDir: a.tmp, OnBulkLoad: func() { memlimit.ForStreaming(os.Getenv) }})
	if err != nil {
		return err
	}
	defer rs.Close()
	out, err := rs.Run(ctx, restore.Sources{{Database: kv.Logs, Shown: a.file, Open: backup.FileOpener(a.file)}})
	if err != nil {
		return err
	}
	r := out.Results[0]
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, restore.NoteRebuiltBeside) }) {
		return fmt.Errorf("the merge was not rebuilt beside the database: %q", r.Notes)
	}
	res.Keys = r.Written
	return nil
}

// flowgWipe is flowg's wipe restore into a directory that does not exist yet.
func flowgWipe(ctx context.Context, a opArgs, res *opResult) error {
	memlimit.ForStreaming(os.Getenv)
	if err := mustNotExist(a.target); err != nil {
		return err
	}
	r, err := backup.WipeDir(ctx, a.target, a.file, backup.WipeOptions{
		RestoreOptions:  backup.RestoreOptions{Database: benchDatabase, TmpDir: a.tmp},
		DiscardPrevious: true,
	})
	if err != nil {
		return err
	}
	res.Keys, res.LogicalBytes = r.Written, r.File.Bytes
	return nil
}

// flowgVerify checks a flowg file: checksums only, or with a load into a
// scratch database kept in memory, as `flowg admin verify` does.
func flowgVerify(ctx context.Context, a opArgs, res *opResult, load bool) error {
	memlimit.ForStreaming(os.Getenv)
	opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: benchDatabase}, Load: load}
	_, sum, err := backup.VerifyFile(ctx, a.file, opts)
	if err != nil {
		return err
	}
	res.Keys, res.LogicalBytes, res.FileBytes = sum.Keys, sum.Bytes, sum.FileBytes
	return nil
}

func createFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	return f, nil
}

func mustNotExist(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore target %s already exists", dir)
	}
	return nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
