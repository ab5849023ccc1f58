package backup

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4/pb"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden backup files in testdata/format")

// goldenFile writes a small fixed backup: a full file (format 1) or an
// incremental one (format 2, with key frames).
func goldenFile(t *testing.T, comp Compression, incremental bool) []byte {
	t.Helper()
	hdr := Header{Database: "config", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ReadTs: 77,
		ToolVersion: "golden", Compression: comp}
	if incremental {
		hdr.FormatVersion, hdr.SinceTs = FormatIncremental, 70
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, hdr)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		key := fmt.Appendf(nil, "pipelines/p%03d", i)
		if err := w.Add(key, fmt.Appendf(nil, `{"n":%d}`, i), byte(i%2), uint64(70+i%8), uint64(i%3)*1900000000); err != nil {
			t.Fatal(err)
		}
	}
	if incremental {
		for i := range 60 {
			if err := w.AddKey(fmt.Appendf(nil, "pipelines/p%03d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFormat_MatchesGoldenFiles pins the file format: a change in what the
// writer produces, or in what the reader accepts, breaks old backups and
// must be made on purpose (go test ./backup -run Golden -update).
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
			readGolden(t, want, tt.incremental)
		})
	}
}

// TestFormat_ReadsFilesOfEarlierWriters keeps files written by earlier
// versions of the writer readable: their frames still carry zstd's own
// checksum, which the writer has left out since it became redundant with
// the frames' CRC-32C.
func TestFormat_ReadsFilesOfEarlierWriters(t *testing.T) {
	for _, name := range []string{"full-zstd-checksum", "incremental-zstd-checksum"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "format", "legacy", name+".db"))
			if err != nil {
				t.Fatal(err)
			}
			readGolden(t, data, strings.HasPrefix(name, "incremental"))
		})
	}
}

// readGolden reads a golden file back record for record.
func readGolden(t *testing.T, data []byte, incremental bool) {
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
	if n != 40 || (incremental && (len(keys) != 60 || keys[59] != "pipelines/p059")) {
		t.Fatalf("read %d records and %d listed keys", n, len(keys))
	}
}
