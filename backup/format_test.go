package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// sampleFile writes a small backup with n records split over several frames.
func sampleFile(t testing.TB, db string, n int, comp Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Database: db, Created: time.Unix(1700000000, 0).UTC(), ReadTs: 42, ToolVersion: "test", Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("v"), 300<<10/max(n, 1))
	for i := range n {
		key := fmt.Appendf(nil, "key-%05d", i)
		if err := w.Add(key, append(value, byte(i)), byte(i%3), uint64(i+1), uint64(i%2)*4102444800); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// forceFrames makes the writer cut a frame every few records so tests see
// several frame boundaries in a small file.
func manyFrames(t testing.TB, comp Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Database: "config", ReadTs: 7, Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if err := w.Add(fmt.Appendf(nil, "k%02d", i), bytes.Repeat([]byte{byte('a' + i)}, 20), 0, 1, 0); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			if err := w.flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(data []byte, opts ReadOptions) (Header, Summary, error) {
	return Verify(context.Background(), bytes.NewReader(data), VerifyOptions{ReadOptions: opts})
}

func TestWriter_RoundTrip(t *testing.T) {
	for _, comp := range []Compression{CompressionNone, CompressionZstd} {
		t.Run(string(comp), func(t *testing.T) {
			data := sampleFile(t, "logs", 500, comp)
			r, err := NewReader(bytes.NewReader(data), ReadOptions{Size: int64(len(data)), Database: "logs"})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header(); got.Database != "logs" || got.ReadTs != 42 || got.Compression != comp || got.Raw {
				t.Fatalf("header = %+v", got)
			}
			var i int
			for {
				kvs, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, kv := range kvs {
					if want := fmt.Sprintf("key-%05d", i); string(kv.Key) != want {
						t.Fatalf("record %d key = %q, want %q", i, kv.Key, want)
					}
					if kv.Version != uint64(i+1) || userMetaOf(kv.UserMeta) != byte(i%3) || kv.ExpiresAt != uint64(i%2)*4102444800 {
						t.Fatalf("record %d = %+v", i, kv)
					}
					i++
				}
			}
			if i != 500 || r.Summary().Keys != 500 || r.Summary().FileBytes != int64(len(data)) {
				t.Fatalf("read %d records, summary %+v, file %d bytes", i, r.Summary(), len(data))
			}
		})
	}
}

// TestReader_RecordsKeptAcrossFrames reads many more frames than a Reader
// decodes ahead, so their buffers are recycled: without ReuseBuffers every
// record must still hold its bytes after the whole file was read; with it,
// each frame's records until the next call.
func TestReader_RecordsKeptAcrossFrames(t *testing.T) {
	const records = 200
	value := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26), byte(i)}, 10) }
	for _, comp := range []Compression{CompressionNone, CompressionZstd} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Database: "config", Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		for i := range records {
			if err := w.Add(fmt.Appendf(nil, "k%03d", i), value(i), 0, 1, 0); err != nil {
				t.Fatal(err)
			}
			if i%2 == 1 {
				if err := w.flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for _, reuse := range []bool{false, true} {
			r, err := NewReader(bytes.NewReader(buf.Bytes()), ReadOptions{ReuseBuffers: reuse})
			if err != nil {
				t.Fatal(err)
			}
			var held [][]byte
			for i := 0; ; {
				kvs, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, kv := range kvs {
					if string(kv.Key) != fmt.Sprintf("k%03d", i) || !bytes.Equal(kv.Value, value(i)) {
						t.Fatalf("%s reuse=%v: record %d = %q=%q", comp, reuse, i, kv.Key, kv.Value)
					}
					if !reuse {
						held = append(held, kv.Value)
					}
					i++
				}
			}
			if got := r.Summary(); got.Keys != records || got.Frames != records/2 {
				t.Fatalf("%s reuse=%v: summary %+v, want %d records in %d frames", comp, reuse, got, records, records/2)
			}
			for i, v := range held {
				if !bytes.Equal(v, value(i)) {
					t.Fatalf("%s: record %d's value changed after later frames were read: %q", comp, i, v)
				}
			}
		}
	}
}

func TestReader_RejectsEveryTruncation(t *testing.T) {
	for _, comp := range []Compression{CompressionNone, CompressionZstd} {
		data := manyFrames(t, comp)
		for cut := 0; cut < len(data); cut++ {
			_, _, err := readAll(data[:cut], ReadOptions{})
			want := ErrTruncated
			if cut == 0 {
				want = ErrEmpty
			}
			if !errors.Is(err, want) {
				t.Fatalf("%s: cut at %d of %d: err = %v, want %v", comp, cut, len(data), err, want)
			}
		}
	}
}

func TestReader_RejectsEveryByteFlip(t *testing.T) {
	for _, comp := range []Compression{CompressionNone, CompressionZstd} {
		data := manyFrames(t, comp)
		for i := range data {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(data)
				bad[i] ^= mask
				if _, _, err := readAll(bad, ReadOptions{Size: int64(len(bad))}); err == nil || !IsInputError(err) {
					t.Fatalf("%s: byte %d ^ %#x: err = %v, want an input error", comp, i, mask, err)
				}
			}
		}
	}
}

func TestReader_RejectsBadInputs(t *testing.T) {
	good := manyFrames(t, CompressionZstd)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	random := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(random)
	// 4 GiB length fields in the header, in a frame, and as a raw list prefix.
	hugeHeader := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeHeader[len(magic)+2:], 0xffffffff)
	hdrEnd := frameStart(t, good)
	hugeFrame := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeFrame[hdrEnd+1:], 0xffffffff)
	hugeRaw := binary.LittleEndian.AppendUint64(nil, 4<<30)
	hugeRaw = append(hugeRaw, 1, 2, 3)

	tests := []struct {
		name string
		data []byte
		opts ReadOptions
		want error
	}{
		{"empty", nil, ReadOptions{}, ErrEmpty},
		{"random", random, ReadOptions{}, ErrNotBackup},
		{"gzip-wrapped", gz.Bytes(), ReadOptions{}, ErrCompressed},
		{"wrong database", good, ReadOptions{Database: "auth"}, ErrWrongDatabase},
		{"4 GiB header length", hugeHeader, ReadOptions{}, ErrCorrupt},
		{"4 GiB frame length", hugeFrame, ReadOptions{}, ErrCorrupt},
		{"4 GiB raw list length", hugeRaw, ReadOptions{}, ErrNotBackup},
		{"trailing garbage", append(bytes.Clone(good), 0), ReadOptions{}, ErrCorrupt},
		{"text", []byte("config.db"), ReadOptions{}, ErrNotBackup},
		{"short text", []byte("auth"), ReadOptions{}, ErrNotBackup},
		{"future version", futureVersion(t, good), ReadOptions{}, ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(tt.data, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// frameStart returns the offset of the first frame in a flowg file.
func frameStart(t testing.TB, data []byte) int {
	n := binary.LittleEndian.Uint32(data[len(magic)+2:])
	return headerFixedLen + int(n) + 4
}

// futureVersion rewrites the version of a file's header, with a valid CRC.
func futureVersion(t testing.TB, data []byte) []byte {
	bad := bytes.Clone(data)
	binary.LittleEndian.PutUint16(bad[len(magic):], FormatIncremental+1)
	end := frameStart(t, bad) - 4
	binary.LittleEndian.PutUint32(bad[end:], crc32Castagnoli(bad[len(magic):end]))
	return bad
}

func FuzzReader(f *testing.F) {
	f.Add(manyFrames(f, CompressionNone))
	f.Add(manyFrames(f, CompressionZstd))
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 3))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = readAll(data, ReadOptions{})
		_, _, _ = readAll(data, ReadOptions{Size: int64(len(data))})
	})
}

// TestReader_SavedErrorAnswerIsNamed: curl without --fail saves a server's
// error answer under the backup's name; the reader says so, quoting it.
func TestReader_SavedErrorAnswerIsNamed(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{`{"error":"invalid or expired token","hint":"log in again"}`, `error answer, "invalid or expired token": the download failed`},
		{"<html><head><title>502</title></head></html>", "error answer, an HTML page"},
	} {
		_, err := NewReader(strings.NewReader(tt.file), ReadOptions{})
		if !errors.Is(err, ErrNotBackup) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--fail") {
			t.Errorf("%.30q: err %v, want ErrNotBackup saying %q and --fail", tt.file, err, tt.want)
		}
	}
}

func TestWriter_RefusesAKeyBadgerCannotHold(t *testing.T) {
	w, err := NewWriter(io.Discard, Header{Database: "config", Compression: CompressionZstd})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Add(bytes.Repeat([]byte("k"), maxKeyLen+1), []byte("v"), 0, 1, 0)
	if err == nil || !strings.Contains(err.Error(), "65000-byte limit") {
		t.Fatalf("Add of a %d-byte key: err = %v, want the key-size limit", maxKeyLen+1, err)
	}
}
