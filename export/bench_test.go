package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// BenchmarkImport_LogsFile measures an import of a logs export of
// FLOWG_BENCH_RECORDS records (default 1,000,000) into an empty database
// and again into the same one (nothing changes), with the time of one
// read-and-check pass alone: an import reads its file twice (check, then
// merge). Run it alone, once:
//
//	go test -run '^$' -bench BenchmarkImport_LogsFile -benchtime 1x ./export/
func BenchmarkImport_LogsFile(b *testing.B) {
	records := 1_000_000
	if v := os.Getenv("FLOWG_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("FLOWG_BENCH_RECORDS: %v", err)
		}
		records = n
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "logs.jsonl")
	size := writeLogsFile(b, path, records)
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	ctx := context.Background()
	for b.Loop() {
		db, err := kv.Open(filepath.Join(b.TempDir(), "logs"), kv.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		hold := HoldEach(func(kv.Name) (*badger.DB, func(), error) { return db, func() {}, nil })

		start := time.Now()
		in, _ := open()
		if _, err := CheckFile(ctx, in, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		in.Close()
		check := time.Since(start)

		start = time.Now()
		rep, err := Run(ctx, Request{Open: open, Hold: hold})
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		start = time.Now()
		again, err := Run(ctx, Request{Open: open, Hold: hold})
		if err != nil {
			b.Fatal(err)
		}
		second := time.Since(start)
		if rep.Changes[KindLog].Added != uint64(records) || again.Changes[KindLog].Unchanged != uint64(records) {
			b.Fatalf("added %d, then unchanged %d; want %d", rep.Changes[KindLog].Added, again.Changes[KindLog].Unchanged, records)
		}
		db.Close()

		// The flow before Run, for comparison: a check, then Import as a
		// dry run to decide on the safety copy, then Import (each of
		// which checks the file again first): five reads.
		old, err := kv.Open(filepath.Join(b.TempDir(), "logs"), kv.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		in, _ = open()
		if _, err := CheckFile(ctx, in, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		in.Close()
		dbs := map[kv.Name]*badger.DB{kv.Logs: old}
		if _, err := Import(ctx, open, dbs, ImportOptions{DryRun: true}); err != nil {
			b.Fatal(err)
		}
		if _, err := Import(ctx, open, dbs, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		before := time.Since(start)
		old.Close()

		b.ReportMetric(before.Seconds(), "five-pass-import-s")
		b.ReportMetric(float64(rep.Passes), "passes")
		b.ReportMetric(check.Seconds(), "check-pass-s")
		b.ReportMetric(first.Seconds(), "import-s")
		b.ReportMetric(second.Seconds(), "reimport-s")
		b.ReportMetric(float64(size)/(1<<20), "file-MiB")
		b.Logf("%d records, %.0f MiB: one check pass %s; import (%d passes) %s; again, nothing changed, %s; the former five-pass import %s",
			records, float64(size)/(1<<20), check.Round(time.Millisecond), rep.Passes, first.Round(time.Millisecond), second.Round(time.Millisecond),
			before.Round(time.Millisecond))
	}
}

// writeLogsFile writes an export of n log records of stream app, each
// with a few fields, and returns its size.
func writeLogsFile(b *testing.B, path string, n int) int64 {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for i := range n {
		t := t0.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
		fmt.Fprintf(w, `{"v":1,"kind":"log","stream":"app","time":%q,"seq":"%d","fields":{"id":"r-%d","level":"info","msg":"request %d served","status":200}}`+"\n",
			t, 1_000_000_000+i, i, i)
	}
	if err := WriteEnd(w, uint64(n)); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
