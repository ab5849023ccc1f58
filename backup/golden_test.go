package backup

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/flowg-backup/flowg/kv"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden backup files in testdata/format")

// goldenDB returns a database in memory holding 60 records pipelines/p000
// to p059, with fixed versions (p000-p039 above 70, the others at or below
// it), user metadata and expiry times far ahead, loaded with Badger's
// StreamWriter so that their versions are exactly these.
func goldenDB(t *testing.T) *badger.DB {
	t.Helper()
	db, err := badger.Open(kv.Options("").WithInMemory(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sw := db.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		t.Fatal(err)
	}
	buf := z.NewBuffer(1<<20, "golden")
	defer buf.Release()
	for i := range 60 {
		version := uint64(71 + i%8)
		if i >= 40 {
			version = uint64(i - 39)
		}
		badger.KVToBuffer(&pb.KV{Key: fmt.Appendf(nil, "pipelines/p%03d", i), Value: fmt.Appendf(nil, `{"n":%d}`, i),
			UserMeta: []byte{byte(i % 2)}, Version: version, ExpiresAt: uint64(i%3) * 4102444800, StreamId: 1}, buf)
	}
	if err := sw.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	return db
}

// goldenFile dumps goldenDB: a full file (format 1, 60 records) or an
// incremental one since version 70 (format 2: the 40 records above it, then
// key frames listing all 60 keys).
func goldenFile(t *testing.T, comp Compression, incremental bool) []byte {
	t.Helper()
	opts := DumpOptions{Database: "config", Compression: comp, ToolVersion: "golden", Workers: 1,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	if incremental {
		opts.SinceTs = 70
	}
	var buf bytes.Buffer
	if _, _, err := Dump(context.Background(), goldenDB(t), &buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFormat_MatchesGoldenFiles pins the file format through Dump, the only
// writer of backups: a change in what it produces, or in what the reader
// accepts, breaks old backups and must be made on purpose (go test ./backup
// -run Golden -update).
func TestFormat_MatchesGoldenFiles(t *testing.T) {
	for _, tt := range []struct {
		name        string
		comp        Compression
		incremental bool
	}{
		{"full-none", CompressionNone, false},
		{"full-zstd", CompressionZstd, false},
		{"incremental-zstd", CompressionZstd, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", "format", tt.name+".db")
			got := goldenFile(t, tt.comp, tt.incremental)
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (create it with -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("the writer's output differs from %s (%d bytes, want %d): the format changed", path, len(got), len(want))
			}
			if tt.incremental {
				readGolden(t, want, 40, 60)
			} else {
				readGolden(t, want, 60, 0)
			}
		})
	}
}

// TestFormat_ReadsFilesOfEarlierWriters keeps files written by earlier
// versions of the writer readable: those whose frames still carry zstd's
// own checksum, which the writer has left out since it became redundant with
// the frames' CRC-32C, and the golden files the writer produced before they
// were pinned through Dump (40 records, versions 70 to 77, an incremental
// listing 60 keys), and the incremental file whose key frames did not yet
// carry each key's expiry.
func TestFormat_ReadsFilesOfEarlierWriters(t *testing.T) {
	for _, name := range []string{"full-zstd-checksum", "incremental-zstd-checksum", "full-none", "full-zstd", "incremental-zstd", "incremental-zstd-keys-without-expiry"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "format", "legacy", name+".db"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "incremental") {
				readGolden(t, data, 40, 60)
			} else {
				readGolden(t, data, 40, 0)
			}
		})
	}
}

// readGolden reads a golden file back record for record: records
// pipelines/p000 on, then, in an incremental file, listed keys.
func readGolden(t *testing.T, data []byte, records, listed int) {
	t.Helper()
	var keys []string
	r, err := NewReader(bytes.NewReader(data), ReadOptions{Size: int64(len(data)), Database: "config",
		ContentSum: true, Inventory: func(kvs []*pb.KV) error {
			for _, kv := range kvs {
				keys = append(keys, string(kv.Key))
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range kvs {
			if want := fmt.Sprintf("pipelines/p%03d", n); string(kv.Key) != want || string(kv.Value) != fmt.Sprintf(`{"n":%d}`, n) {
				t.Fatalf("record %d = %q %q, want key %q", n, kv.Key, kv.Value, want)
			}
			n++
		}
	}
	if n != records || len(keys) != listed || (listed > 0 && keys[listed-1] != fmt.Sprintf("pipelines/p%03d", listed-1)) {
		t.Fatalf("read %d records and %d listed keys", n, len(keys))
	}
}
