package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/memlimit"
	"github.com/flowg-backup/flowg/kv"
)

// opSetVerify is a catalog set followed by its verification, in one child
// process: Catalog.Create then Catalog.Verify (checksums and a load into a
// scratch database), as a scheduled backup with verification runs them.
const opSetVerify = "set-verify"

func init() { operations[opSetVerify] = setVerify }

// scaleOps are the operations of a scale run, in the order each dataset
// runs them: backups first, so the restores and the verify read this
// dataset's files.
var scaleOps = []string{opRefBackup, opFlowgBackup, opFlowgWipe, opFlowgVerifyLoad, opSetVerify, opRefRestore, opOfflineMerge, opFlowgMerge}

// scaleWhat names the operations in the scale table.
var scaleWhat = map[string]string{
	opRefBackup:       "reference: Badger `Stream.Backup`, NumGo=1",
	opFlowgBackup:     "backup (`backup.Dump`)",
	opFlowgWipe:       "wipe restore (`backup.WipeDir`)",
	opFlowgVerifyLoad: "verify: checksums + scratch load",
	opSetVerify:       "catalog set + verify (`Catalog.Create`, `Catalog.Verify`)",
	opRefRestore:      "reference: Badger `db.Load(r, 1)` + close",
	opOfflineMerge:    "offline merge restore into the populated database (`restore`, rebuilt beside)",
	opFlowgMerge:      "merge in place (`backup.MergeFile`, exclusive, into an empty database): the fallback",
}

// scaleRSSTargetKiB is issue 17's bound on each operation's peak RSS at
// every size (0: no bound, the references).
var scaleRSSTargetKiB = map[string]int64{
	opFlowgBackup: 256 << 10, opFlowgWipe: 256 << 10, opFlowgVerifyLoad: 256 << 10, opSetVerify: 256 << 10,
	opOfflineMerge: 512 << 10,
}

// scaleRow is one operation on one dataset.
type scaleRow struct {
	Records int    `json:"records"`
	Sample  sample `json:"sample"`
}

// scaleReport is what a scale run writes to WORK/scale-results.{md,json}.
type scaleReport struct {
	Command  string     `json:"command"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Commit   string     `json:"commit"`
	Machine  machine    `json:"machine"`
	Datasets []dataset  `json:"datasets"`
	Rows     []scaleRow `json:"rows"`
}

// runScale measures every scale operation once (or --runs times) on each
// dataset size, smallest first, and writes the per-record table.
func runScale(ctx context.Context, cfg config, out, errOut io.Writer) (failed bool, err error) {
	rep := scaleReport{Command: strings.TrimSpace("go run ./cmd/flowg-bench " + strings.Join(cfg.args, " ")),
		Started: time.Now().UTC(), Commit: gitCommit()}
	load := loadAverage()
	// Datasets first: a failed generation should not waste a long run.
	for _, n := range cfg.scaleRecords {
		ds, err := ensureDataset(cfg.work, n, cfg.seed, errOut)
		if err != nil {
			return false, err
		}
		rep.Datasets = append(rep.Datasets, ds)
	}
	for _, ds := range rep.Datasets {
		b, err := newBench(cfg, out, errOut)
		if err != nil {
			return false, err
		}
		b.ds, b.runDir = ds, filepath.Join(cfg.work, "run-scale")
		rows, err := b.scaleDataset(ctx)
		rep.Rows = append(rep.Rows, rows...)
		if err != nil {
			return false, err
		}
	}
	rep.Finished, rep.Machine = time.Now().UTC(), thisMachine(load)
	for _, r := range rep.Rows {
		if r.Sample.Error != "" {
			failed = true
		}
	}
	return failed, rep.write(out, cfg.work)
}

// scaleDataset runs the scale operations on b's dataset.
func (b *bench) scaleDataset(ctx context.Context) ([]scaleRow, error) {
	if err := os.RemoveAll(b.runDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(b.runDir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.runDir)
	var rows []scaleRow
	for r := range b.cfg.runs {
		for _, op := range scaleOps {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			s := b.measureScale(ctx, r, op)
			fmt.Fprintf(b.errOut, "%d records: ", b.ds.Records)
			b.progress(s)
			rows = append(rows, scaleRow{Records: b.ds.Records, Sample: s})
		}
	}
	return rows, nil
}

// measureScale runs one scale operation and checks what it did.
func (b *bench) measureScale(ctx context.Context, round int, op string) sample {
	if op != opSetVerify {
		return b.measure(ctx, round, op)
	}
	catalog := b.path("scale-catalog")
	os.RemoveAll(catalog)
	defer os.RemoveAll(catalog)
	s := b.child(ctx, round, op, []string{"--db", b.ds.Dir, "--tmp", b.path("tmp"), "--catalog", catalog}, nil)
	if s.Error == "" && s.Keys != b.ds.Keys {
		s.Error = fmt.Sprintf("%s handled %d keys, the dataset holds %d", op, s.Keys, b.ds.Keys)
	}
	return s
}

// setVerify is the child side of set-verify: a catalog set of the database
// opened read-only, then its verification with a scratch load under --tmp.
func setVerify(ctx context.Context, a opArgs, res *opResult) error {
	memlimit.ForStreaming(os.Getenv)
	if a.catalog == "" {
		return errNoCatalog
	}
	snap, err := kv.OpenSnapshot(a.db, a.tmp)
	if err != nil {
		return err
	}
	cat := backup.OpenCatalog(a.catalog)
	m, err := cat.Create(ctx, []backup.Source{{Name: benchDatabase, DB: snap.DB, Note: snap.Note}}, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: "flowg-bench"},
	})
	if cerr := snap.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if _, err := cat.Verify(ctx, m.ID, time.Now()); err != nil {
		return fmt.Errorf("verify set %s: %w", m.ID, err)
	}
	e := m.Databases[benchDatabase]
	res.Keys, res.LogicalBytes, res.FileBytes = e.Keys, e.LogicalBytes, e.Bytes
	res.SetID = m.ID
	return nil
}

func (r scaleReport) write(out io.Writer, work string) error {
	md := r.markdown()
	if _, err := io.WriteString(out, md); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "scale-results.md"), []byte(md), 0o600); err != nil {
		return fmt.Errorf("write scale-results.md: %w", err)
	}
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "scale-results.json"), append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("write scale-results.json: %w", err)
	}
	return nil
}
