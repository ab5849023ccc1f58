package backup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// The benchmarks below measure the format and the dump loop on realistic log
// records (log-store keys, JSON values of about 250 bytes, half with a TTL).
// b.SetBytes is the records' logical size (keys plus values), so MB/s compare
// with cmd/flowg-bench; -benchmem shows allocations per pass over all records.
//
//	go test -run '^$' -bench . -benchmem ./backup/
//
// The end-to-end comparison with Badger's own backup and restore, on a real
// database of a million records, is cmd/flowg-bench.

// benchRecord is one generated log record.
type benchRecord struct {
	key, value []byte
	expiresAt  uint64
}

var benchCompressions = []Compression{CompressionNone, CompressionZstd}

// benchRecords returns n log records in key order and their logical size.
// The same n always gives the same keys and values; the TTL'd half expires a
// day from now.
func benchRecords(n int) ([]benchRecord, int64) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	streams := []string{"api-gateway", "auth", "billing", "checkout"}
	words := []string{"request", "handler", "finished", "retrying", "connection", "timeout", "cache", "miss",
		"database", "query", "slow", "committed", "worker", "queue", "payload", "validated", "token", "expired",
		"session", "order", "payment", "declined", "shipment", "inventory", "upstream", "latency", "snapshot"}
	levels := []string{"info", "info", "info", "debug", "warn", "error"}
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	expires := uint64(time.Now().Add(24 * time.Hour).Unix()) // live: a dump leaves expired records out
	recs := make([]benchRecord, 0, n)
	var logical int64
	for _, stream := range streams { // key order: stream, then time
		ts := base.UnixNano()
		for i := range n / len(streams) {
			ts += int64(r.IntN(200_000_000))
			key := binary.BigEndian.AppendUint64([]byte("log/"+stream+"/"), uint64(ts))
			key = binary.BigEndian.AppendUint64(key, uint64(i))
			v := fmt.Appendf(nil, `{"host":"%s-%05d","latency_ms":%.3f,"level":"%s","message":"`,
				stream, r.IntN(8), r.ExpFloat64()*40, levels[r.IntN(len(levels))])
			for w := range 6 + r.IntN(4) {
				if w > 0 {
					v = append(v, ' ')
				}
				v = append(v, words[r.IntN(len(words))]...)
			}
			v = append(v, ` user=`...)
			v = strconv.AppendInt(v, int64(r.IntN(100_000)), 10)
			v = fmt.Appendf(v, `","request_id":"%016x%016x","service":"%s","timestamp":"%s"}`,
				r.Uint64(), r.Uint64(), stream, time.Unix(0, ts).UTC().Format(time.RFC3339Nano))
			rec := benchRecord{key: key, value: v}
			if i%2 == 0 {
				rec.expiresAt = expires
			}
			recs = append(recs, rec)
			logical += int64(len(key) + len(v))
		}
	}
	return recs, logical
}

// benchFile writes recs as a backup file.
func benchFile(tb testing.TB, recs []benchRecord, comp Compression) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Database: "logs", Compression: comp})
	if err != nil {
		tb.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Add(rec.key, rec.value, 0, 1, rec.expiresAt); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkWriter writes 10,000 records (about 2.8 MB) to io.Discard.
func BenchmarkWriter(b *testing.B) {
	recs, logical := benchRecords(10_000)
	for _, comp := range benchCompressions {
		b.Run(string(comp), func(b *testing.B) {
			b.SetBytes(logical)
			b.ReportAllocs()
			var fileBytes int64
			for b.Loop() {
				w, err := NewWriter(io.Discard, Header{Database: "logs", Compression: comp})
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := w.Add(rec.key, rec.value, 0, 1, rec.expiresAt); err != nil {
						b.Fatal(err)
					}
				}
				sum, err := w.Close()
				if err != nil {
					b.Fatal(err)
				}
				fileBytes = sum.FileBytes
			}
			b.ReportMetric(float64(fileBytes)/float64(logical), "file/logical")
		})
	}
}

// BenchmarkReader reads and checks a file of 10,000 records to its end.
func BenchmarkReader(b *testing.B) {
	recs, logical := benchRecords(10_000)
	for _, comp := range benchCompressions {
		data := benchFile(b, recs, comp)
		b.Run(string(comp), func(b *testing.B) {
			b.SetBytes(logical)
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), ReadOptions{Size: int64(len(data))})
				if err != nil {
					b.Fatal(err)
				}
				var keys int
				for {
					kvs, err := r.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					keys += len(kvs)
				}
				if keys != len(recs) {
					b.Fatalf("read %d records, wrote %d", keys, len(recs))
				}
			}
		})
	}
}

// BenchmarkDump dumps a Badger database of 50,000 records (about 14 MB) on
// disk, opened with flowg's options, to io.Discard.
func BenchmarkDump(b *testing.B) {
	recs, logical := benchRecords(50_000)
	db, err := kv.Open(b.TempDir(), kv.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	wb := db.NewWriteBatch()
	for _, rec := range recs {
		e := badger.NewEntry(rec.key, rec.value)
		e.ExpiresAt = rec.expiresAt
		if err := wb.SetEntry(e); err != nil {
			b.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, comp := range benchCompressions {
		b.Run(string(comp), func(b *testing.B) {
			b.SetBytes(logical)
			b.ReportAllocs()
			for b.Loop() {
				_, sum, err := Dump(b.Context(), db, io.Discard, DumpOptions{Database: "logs", Compression: comp})
				if err != nil {
					b.Fatal(err)
				}
				if sum.Keys != uint64(len(recs)) {
					b.Fatalf("dumped %d keys, wrote %d", sum.Keys, len(recs))
				}
			}
		})
	}
}
