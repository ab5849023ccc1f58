package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// opInfo is how the table names an operation.
var opInfo = []struct{ op, what string }{
	{opRefBackup, "reference: `Stream.Backup`, NumGo=1, to a file"},
	{opFlowgBackup, "`backup.Dump` to a file (flowg format, default compression)"},
	{opOnlineBackup, "`GET /api/v1/backup/logs` from `flowg serve`"},
	{opRefRestore, "reference: `db.Load(r, 1)` into a fresh DB, incl. close"},
	{opOfflineMerge, "`flowg admin restore`'s merge (the restore use case, no safety snapshot) into a copy of the dataset: rebuilt beside the database and swapped in"},
	{opFlowgMerge, "`backup.MergeFile` into a fresh DB, incl. close, exclusive: the merge in place an offline merge falls back to (mount point, foreign files, no room for a copy), at one reserved timestamp"},
	{opFlowgMergeTxn, "the same in transactions of 1000 keys, as a served database is merged (online restore)"},
	{opFlowgWipe, "`backup.WipeDir` into a fresh dir"},
	{opFlowgVerify, "`backup.VerifyFile`, checksums only"},
	{opFlowgVerifyLoad, "`backup.VerifyFile` with Load (bulk-loaded into a scratch DB)"},
	{opOnlineIngest, "`GET /api/v1/backup/logs` while clients ingest at full speed"},
	{opLocalSet, "`Catalog.Create` into a local catalog directory"},
	{opS3Set, "`Catalog.Create` into `s3://flowg-bench/bench` (MinIO, loopback)"},
	{opIncrFull, "`Catalog.Create`, full set, after 1% of records changed"},
	{opIncrSet, "`Catalog.Create` incremental on the full set taken before the change"},
}

// ownLogical lists the operations whose MB/s is of the logical bytes they
// report themselves rather than the dataset's: what an online backup under
// ingest holds grows with the ingest, and an incremental holds the changes.
var ownLogical = map[string]bool{opOnlineIngest: true, opLocalSet: true, opS3Set: true, opIncrSet: true, opIncrFull: true}

// rssTarget is issue 5's bound on the peak RSS of backup and wipe restore.
const rssTargetKiB = 256 << 10

// stat summarises one operation over the rounds.
type stat struct {
	Op        string  `json:"op"`
	Runs      int     `json:"runs"` // rounds that succeeded
	Nanos     int64   `json:"median_ns"`
	MinNanos  int64   `json:"min_ns"`
	MaxNanos  int64   `json:"max_ns"`
	WallNanos int64   `json:"median_wall_ns"`
	CPUNanos  int64   `json:"median_cpu_ns"`
	MaxRSSKiB int64   `json:"median_max_rss_kib"`
	FileBytes int64   `json:"median_file_bytes,omitempty"`
	MBps      float64 `json:"mb_per_s"` // logical bytes, 10^6 B/s
	NA        string  `json:"na,omitempty"`
	Error     string  `json:"error,omitempty"`
	// online-backup-ingest: medians over the rounds of the records/s with
	// ingest alone and during the backup, of each round's drop (1 - during
	// / alone), and of the ingested records the backup held.
	IngestAloneRPS  float64  `json:"median_ingest_alone_records_per_s,omitempty"`
	IngestDuringRPS float64  `json:"median_ingest_during_backup_records_per_s,omitempty"`
	IngestDrop      *float64 `json:"median_ingest_drop,omitempty"`
	IngestBackedUp  int64    `json:"median_ingest_records_backed_up,omitempty"`
}

// ratio compares a flowg operation with a reference one.
type ratio struct {
	Flowg     string  `json:"flowg"`
	Reference string  `json:"reference"`
	Time      float64 `json:"time"`
	Size      float64 `json:"size,omitempty"`
	RSS       float64 `json:"rss"`
	// Throughput is set instead of Time, Size and RSS for ingest (records/s
	// during the backup over records/s alone).
	Throughput float64 `json:"throughput,omitempty"`
	// PerByte compares time per logical byte (online-backup-ingest, whose
	// backup holds more than the dataset).
	PerByte float64  `json:"per_logical_byte,omitempty"`
	NA      string   `json:"na,omitempty"`
	Note    string   `json:"note,omitempty"`
	Targets []target `json:"targets,omitempty"`
}

// target is one of issue 5's targets and whether this run met it.
type target struct {
	What string `json:"what"`
	Met  bool   `json:"met"`
}

// report is what results.json holds.
type report struct {
	Command  string    `json:"command"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Commit   string    `json:"commit,omitempty"`
	Machine  machine   `json:"machine"`
	Dataset  dataset   `json:"dataset"`
	Runs     int       `json:"runs"`
	Stats    []stat    `json:"stats"`
	Ratios   []ratio   `json:"ratios"`
	// Ingest, S3 and Incremental describe how those measurements were made.
	Ingest      *ingestInfo `json:"ingest,omitempty"`
	S3          *s3Info     `json:"s3,omitempty"`
	Incremental *incrInfo   `json:"incremental,omitempty"`
	// Continuous is the continuous-backup group's figures and targets.
	Continuous *continuousReport `json:"continuous,omitempty"`
	// Checks are correctness checks made outside the timing.
	Checks  []check  `json:"checks,omitempty"`
	Samples []sample `json:"samples"`
}

// ingestInfo is how online-backup-ingest loads the server.
type ingestInfo struct {
	Clients        int     `json:"clients"`
	Batch          int     `json:"batch_records"`
	BatchBytes     int     `json:"batch_bytes"`
	AloneSeconds   float64 `json:"alone_seconds"`
	WarmupSeconds  float64 `json:"warmup_seconds"`
	DistinctBodies int     `json:"distinct_bodies"`
}

// s3Info is where s3-set writes.
type s3Info struct {
	Minio    string `json:"minio,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	URL      string `json:"url"`
	NA       string `json:"na,omitempty"`
	Error    string `json:"error,omitempty"`
}

type machine struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	OS     string `json:"os"`
	Go     string `json:"go"`
	MemGiB int64  `json:"mem_gib,omitempty"`
	// LoadStart and LoadEnd are the 1-minute load averages when the run
	// started and ended: other work on the machine inflates the times.
	LoadStart string `json:"load_start,omitempty"`
	LoadEnd   string `json:"load_end,omitempty"`
}

func newReport(b *bench) report {
	r := report{
		Command:  "go run ./cmd/flowg-bench " + strings.Join(b.cfg.args, " "),
		Started:  b.started.UTC(),
		Finished: time.Now().UTC(),
		Commit:   gitCommit(),
		Machine:  thisMachine(b.loadStart),
		Dataset:  b.ds,
		Runs:     b.cfg.runs,
		Samples:  b.samples,
	}
	r.Command = strings.TrimSpace(r.Command)
	for _, info := range opInfo {
		r.Stats = append(r.Stats, summarise(info.op, b.samples, b.ds.LogicalBytes))
	}
	if b.ingestLoad != nil {
		ph := b.ingestPhases()
		r.Ingest = &ingestInfo{Clients: b.cfg.ingestClients, Batch: b.cfg.ingestBatch, BatchBytes: b.ingestLoad.bytes,
			AloneSeconds: ph.alone.Seconds(), WarmupSeconds: ph.warmup.Seconds(), DistinctBodies: ingestBodies}
	}
	if b.minio != nil {
		r.S3 = &s3Info{Minio: b.minio.bin, Endpoint: b.minio.addr, URL: b.minio.url(), NA: b.minio.na, Error: b.minio.err}
	}
	if b.incr != nil {
		info := b.incr.info
		r.Incremental = &info
		if info.Check != nil {
			r.Checks = append(r.Checks, *info.Check)
		}
	}
	if b.cont != nil {
		r.Continuous = b.cont.report()
		r.Checks = append(r.Checks, r.Continuous.Checks...)
	}
	pair := func(flowg, ref string, size bool, targets func(f, rf stat, q ratio) []target) {
		f, rf := r.stat(flowg), r.stat(ref)
		if f.Runs == 0 || rf.Runs == 0 {
			return
		}
		q := ratio{Flowg: flowg, Reference: ref,
			Time: div(f.Nanos, rf.Nanos), RSS: div(f.MaxRSSKiB, rf.MaxRSSKiB)}
		if size {
			q.Size = div(f.FileBytes, rf.FileBytes)
		}
		if targets != nil {
			q.Targets = targets(f, rf, q)
		}
		r.Ratios = append(r.Ratios, q)
	}
	pair(opFlowgBackup, opRefBackup, true, func(f, _ stat, q ratio) []target {
		return []target{
			{"time ≤ 0.5×", q.Time <= 0.5},
			{"output ≤ 0.25×", q.Size <= 0.25},
			{"RSS ≤ 256 MiB", f.MaxRSSKiB <= rssTargetKiB},
		}
	})
	pair(opFlowgWipe, opRefRestore, false, func(f, _ stat, q ratio) []target {
		return []target{{"time ≤ 0.5×", q.Time <= 0.5}, {"RSS ≤ 256 MiB", f.MaxRSSKiB <= rssTargetKiB}}
	})
	pair(opOfflineMerge, opRefRestore, false, func(f, _ stat, q ratio) []target {
		return []target{{"time ≤ 1.0×", q.Time <= 1.0}, {"RSS ≤ 512 MiB", f.MaxRSSKiB <= 2*rssTargetKiB}}
	})
	pair(opFlowgMerge, opRefRestore, false, nil)
	pair(opFlowgMergeTxn, opRefRestore, false, nil)
	pair(opOnlineBackup, opFlowgBackup, true, func(_, _ stat, q ratio) []target {
		return []target{{"time ≤ 1.5× (here without concurrent ingest)", q.Time <= 1.5}}
	})
	pair(opOnlineBackup, opRefBackup, true, nil)
	// The backup under ingest holds what was ingested before it started on
	// top of the dataset, so it is also compared per logical byte.
	pair(opOnlineIngest, opFlowgBackup, true, func(f, rf stat, q ratio) []target {
		perByte := rf.MBps / f.MBps
		return []target{{"time ≤ 1.5× (under full-speed ingest)", q.Time <= 1.5}, {"per logical byte ≤ 1.5×", perByte <= 1.5}}
	})
	if n := len(r.Ratios); n > 0 && r.Ratios[n-1].Flowg == opOnlineIngest {
		f, rf := r.stat(opOnlineIngest), r.stat(opFlowgBackup)
		r.Ratios[n-1].PerByte = rf.MBps / f.MBps
		r.Ratios[n-1].Note = fmt.Sprintf("per logical byte %.2f×: the backup held %d ingested records on top of the dataset's %d",
			r.Ratios[n-1].PerByte, f.IngestBackedUp, r.Dataset.Records)
	}
	if st := r.stat(opOnlineIngest); st.Runs > 0 {
		drop := *st.IngestDrop
		r.Ratios = append(r.Ratios, ratio{Flowg: "ingest during " + opOnlineIngest, Reference: "ingest alone",
			Throughput: 1 - drop,
			Note:       fmt.Sprintf("%.0f → %.0f records/s, drop %.1f%%", st.IngestAloneRPS, st.IngestDuringRPS, 100*drop),
			Targets:    []target{{"drop ≤ 20%", drop <= 0.20}}})
	}
	if st := r.stat(opS3Set); st.Runs == 0 && st.NA != "" {
		r.Ratios = append(r.Ratios, ratio{Flowg: opS3Set, Reference: opLocalSet, NA: st.NA})
	}
	pair(opS3Set, opLocalSet, true, nil)
	pair(opIncrSet, opIncrFull, true, func(_, _ stat, q ratio) []target {
		return []target{{"time ≤ 0.1×", q.Time <= 0.1}, {"output ≤ 0.1×", q.Size <= 0.1}}
	})
	b.jincr.report(&r)
	return r
}

func (r report) stat(op string) stat {
	for _, s := range r.Stats {
		if s.Op == op {
			return s
		}
	}
	return stat{Op: op}
}

// summarise takes the medians of op's successful samples.
func summarise(op string, samples []sample, logical uint64) stat {
	st := stat{Op: op}
	var times, walls, cpus, rss, files, logicals, backedUp []int64
	var alone, during, drops []float64
	failures := 0
	for _, s := range samples {
		if s.Op != op {
			continue
		}
		switch {
		case s.NA != "":
			st.NA = s.NA
			continue
		case s.Error != "":
			failures++
			if st.Error == "" {
				st.Error = s.Error
			}
			continue
		}
		times = append(times, s.Nanos)
		walls = append(walls, s.WallNanos)
		cpus = append(cpus, s.UserNanos+s.SysNanos)
		rss = append(rss, s.MaxRSSKiB)
		files = append(files, s.FileBytes)
		logicals = append(logicals, int64(s.LogicalBytes))
		if s.Op == opOnlineIngest {
			alone, during = append(alone, s.IngestAloneRPS), append(during, s.IngestDuringRPS)
			drops = append(drops, 1-s.IngestDuringRPS/s.IngestAloneRPS)
			backedUp = append(backedUp, int64(s.IngestBackedUp))
		}
	}
	if failures > 0 {
		st.Error = fmt.Sprintf("%d of %d rounds failed; first: %s", failures, failures+len(times), st.Error)
	}
	st.Runs = len(times)
	if st.Runs == 0 {
		return st
	}
	st.Nanos, st.WallNanos, st.CPUNanos = median(times), median(walls), median(cpus)
	st.MinNanos, st.MaxNanos = slices.Min(times), slices.Max(times)
	st.MaxRSSKiB, st.FileBytes = median(rss), median(files)
	if ownLogical[op] {
		logical = uint64(median(logicals))
	}
	st.MBps = float64(logical) / 1e6 / (float64(st.Nanos) / 1e9)
	if len(drops) > 0 {
		st.IngestAloneRPS, st.IngestDuringRPS = medianFloat(alone), medianFloat(during)
		drop := medianFloat(drops)
		st.IngestDrop = &drop
		st.IngestBackedUp = median(backedUp)
	}
	return st
}

// medianFloat is median for float64s.
func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// median of xs (the lower middle for an even count, so it is a real sample).
func median(xs []int64) int64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func div(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// write prints the markdown to out and saves it and the JSON under work.
func (r report) write(out io.Writer, work string) error {
	md := r.markdown()
	if _, err := io.WriteString(out, md); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "results.md"), []byte(md), 0o600); err != nil {
		return fmt.Errorf("write results.md: %w", err)
	}
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "results.json"), append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("write results.json: %w", err)
	}
	return nil
}

func (r report) markdown() string {
	var b bytes.Buffer
	ds := r.Dataset
	fmt.Fprintf(&b, "\n## flowg-bench: backup and restore of the logs database\n\n")
	fmt.Fprintf(&b, "`%s` — %s", r.Command, r.Finished.Format("2006-01-02 15:04 MST"))
	if r.Commit != "" {
		fmt.Fprintf(&b, ", commit %s", r.Commit)
	}
	fmt.Fprintf(&b, "\n\nMachine: %s, %d CPUs, %s, %s.", r.Machine.CPU, r.Machine.CPUs, r.Machine.OS, r.Machine.Go)
	if r.Machine.MemGiB > 0 {
		fmt.Fprintf(&b, " %d GiB RAM (page cache warm: every file is read right after it is written).", r.Machine.MemGiB)
	}
	if r.Machine.LoadStart != "" {
		fmt.Fprintf(&b, " Load average (1 min) %s at the start, %s at the end.", r.Machine.LoadStart, r.Machine.LoadEnd)
	}
	fmt.Fprintf(&b, "\n\nDataset: %d log records in %d streams (seed %d), %.1f MB of keys and values, %s on disk with ZSTD tables, %d records (%.0f%%) with a TTL.\n\n",
		ds.Records, ds.Streams, ds.Seed, float64(ds.LogicalBytes)/1e6, mib(ds.DiskBytes),
		ds.TTLRecords, 100*float64(ds.TTLRecords)/float64(max(ds.Records, 1)))
	fmt.Fprintf(&b, "Medians over %d rounds, reference and flowg alternating. *time* is measured inside a child process per operation "+
		"(database open and close and the file's fsync included, process start-up not; *wall* includes it); "+
		"*CPU* is user + system (online-backup: the server's); MB/s is logical bytes (keys + values) per second; "+
		"*peak RSS* is the child's VmHWM at the end of the operation (its ru_maxrss would include the harness's own RSS, "+
		"as Go's vfork-style start counts the parent's pages; both are in results.json); online-backup's is the server's VmHWM, "+
		"reset after login and read after the download.\n\n", r.Runs)
	if r.Ingest != nil || r.S3 != nil || r.Incremental != nil {
		b.WriteString("Measured in the same rounds: ")
		var parts []string
		if in := r.Ingest; in != nil {
			parts = append(parts, fmt.Sprintf("*online-backup-ingest* downloads the backup (as online-backup) from a server on a fresh copy of the dataset "+
				"while %d client goroutines post batches of %d generated records (%.0f KiB of JSON) to `POST /api/v1/streams/:stream/logs` over loopback HTTP, "+
				"one request after the other each, at full speed; the backup holds the dataset plus what was ingested before it started, "+
				"its MB/s is of its own logical bytes, its CPU and peak RSS are the server's (ingest included)",
				in.Clients, in.Batch, float64(in.BatchBytes)/1024))
		}
		if r.S3 != nil {
			parts = append(parts, "*local-set* and *s3-set* write the logs database as a catalog set (`Catalog.Create`, flowg format, default compression), "+
				"the database opened read-only, the catalog opened and the set's manifest written inside the timing; "+
				"S3 is a MinIO started by the harness on a loopback port, its data on the same disk, sharing the CPUs")
		}
		if in := r.Incremental; in != nil {
			parts = append(parts, fmt.Sprintf("*incr-full* and *incr-set* run on a copy of the dataset of which, after a full set, 1%% of the records changed "+
				"(every 100th in key order: %d updated, %d deleted, and %d new records added); incr-set is `SetOptions{Incremental: true}` on that full set "+
				"(deleted after each round, so every round builds on the same full set); MB/s is of the records each set holds",
				in.Updated, in.Deleted, in.Added))
		}
		b.WriteString(strings.Join(parts, ". ") + ".\n\n")
	}

	b.WriteString("| operation | what | time | range | wall | CPU | MB/s | output | peak RSS |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, info := range opInfo {
		s := r.stat(info.op)
		if s.Runs == 0 && s.NA == "" && s.Error == "" {
			continue // not selected (--only)
		}
		if s.Runs == 0 {
			why := s.NA
			label := "n/a"
			if s.Error != "" {
				why, label = s.Error, "failed"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | | | | | | |\n", info.op, info.what, label+": "+cell(why))
			continue
		}
		output := "—"
		if isBackup(info.op) {
			output = mib(s.FileBytes)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s–%s | %s | %s | %.1f | %s | %s |\n", info.op, info.what,
			secs(s.Nanos), secs(s.MinNanos), secs(s.MaxNanos), secs(s.WallNanos), secs(s.CPUNanos),
			s.MBps, output, mib(s.MaxRSSKiB<<10))
	}
	var base []int64
	for _, s := range r.Samples {
		if s.Op == opOnlineBackup && s.NA == "" && s.Error == "" && s.ServerBaseRSSKiB > 0 {
			base = append(base, s.ServerBaseRSSKiB)
		}
	}
	if len(base) > 0 {
		fmt.Fprintf(&b, "\nonline-backup: the server's RSS just before the download was %s (median); its peak RSS above includes that.\n",
			mib(median(base)<<10))
	}
	for _, s := range r.Stats {
		if s.Runs > 0 && s.Error != "" {
			fmt.Fprintf(&b, "\n%s: %s\n", s.Op, cell(s.Error))
		}
	}
	if st := r.stat(opOnlineIngest); st.Runs > 0 && r.Ingest != nil {
		fmt.Fprintf(&b, "\n| ingest, %d clients × %d records per request | records/s (median) | MB/s of JSON |\n", r.Ingest.Clients, r.Ingest.Batch)
		b.WriteString("|---|--:|--:|\n")
		perRecord := float64(r.Ingest.BatchBytes) / float64(r.Ingest.Batch)
		fmt.Fprintf(&b, "| alone, %.1f s per round (half before the backup, half after; after a %.1f s warm-up) | %.0f | %.1f |\n",
			r.Ingest.AloneSeconds, r.Ingest.WarmupSeconds, st.IngestAloneRPS, st.IngestAloneRPS*perRecord/1e6)
		fmt.Fprintf(&b, "| during online-backup-ingest (%s median) | %.0f | %.1f |\n", secs(st.Nanos), st.IngestDuringRPS, st.IngestDuringRPS*perRecord/1e6)
		fmt.Fprintf(&b, "\nIngest throughput drop during the backup: %.1f%% (median of the rounds' 1 − during/alone; records counted pro rata of each request's time inside the window). "+
			"The backup held %d ingested records on top of the dataset (median).\n", 100**st.IngestDrop, st.IngestBackedUp)
	}
	for _, c := range r.Checks {
		mark := "✗ FAILED"
		if c.OK {
			mark = "✓"
		}
		fmt.Fprintf(&b, "\nCheck, outside the timing: %s — %s: %s\n", c.What, mark, cell(c.Detail))
	}

	b.WriteString("\n| flowg / reference | time | output | peak RSS | issue 5 targets |\n")
	b.WriteString("|---|--:|--:|--:|---|\n")
	for _, q := range r.Ratios {
		if q.NA != "" {
			fmt.Fprintf(&b, "| %s / %s | n/a (%s) | | | |\n", q.Flowg, q.Reference, cell(q.NA))
			continue
		}
		if q.Throughput > 0 {
			fmt.Fprintf(&b, "| %s / %s | — | — | — | records/s %.2f× (%s): %s |\n", q.Flowg, q.Reference, q.Throughput, q.Note, marks(q.Targets))
			continue
		}
		size := "—"
		if q.Size > 0 {
			size = fmt.Sprintf("%.2f×", q.Size)
		}
		ts := marks(q.Targets)
		if q.Note != "" {
			ts += " (" + q.Note + ")"
		}
		fmt.Fprintf(&b, "| %s / %s | %.2f× | %s | %.2f× | %s |\n", q.Flowg, q.Reference, q.Time, size, q.RSS, ts)
	}
	if len(r.Ratios) == 0 {
		b.WriteString("| (no pairing measured) | | | | |\n")
	}
	if r.Continuous != nil {
		b.WriteString(r.Continuous.markdown())
	}
	return b.String()
}

// marks lists targets with ✓ or ✗.
func marks(targets []target) string {
	var ts []string
	for _, t := range targets {
		mark := "✗"
		if t.Met {
			mark = "✓"
		}
		ts = append(ts, t.What+" "+mark)
	}
	return strings.Join(ts, " · ")
}

func secs(ns int64) string { return fmt.Sprintf("%.3f s", float64(ns)/1e9) }

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func thisMachine(loadStart string) machine {
	m := machine{CPU: "unknown CPU", CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(),
		LoadStart: loadStart, LoadEnd: loadAverage()}
	if body, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(body), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(value)
				break
			}
		}
	}
	if kib := procMemTotalKiB(); kib > 0 {
		m.MemGiB = (kib + 1<<19) >> 20
	}
	return m
}

// loadAverage is the 1-minute load average ("" if unknown).
func loadAverage() string {
	body, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(body)); len(f) > 0 {
		return f[0]
	}
	return ""
}

func procMemTotalKiB() int64 {
	body, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kib int64
	for line := range strings.SplitSeq(string(body), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kib); err == nil {
			return kib
		}
	}
	return 0
}

// gitCommit is the short commit of the working tree, with "+changes" when it
// has uncommitted changes ("" outside git).
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		commit += "+changes"
	}
	return commit
}
