package backup

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// frameBoundaries returns the offset of every frame of a flowg file and of
// its trailer, walking the length fields.
func frameBoundaries(t testing.TB, data []byte) []int {
	t.Helper()
	off := headerFixedLen + int(binary.LittleEndian.Uint32(data[len(magic)+2:])) + 4
	var out []int
	for off < len(data) && data[off] == kindFrame {
		out = append(out, off)
		off += frameFixedLen + int(binary.LittleEndian.Uint32(data[off+1:]))
	}
	if off >= len(data) || data[off] != kindTrailer || len(data)-off != trailerLen {
		t.Fatalf("walking the frames of a good file did not end at its trailer (offset %d of %d)", off, len(data))
	}
	return append(out, off)
}

// TestRestore_RejectedFileLeavesTargetUnchanged feeds both restore modes
// files with every kind of defect, generated from one good file. Each must be
// refused with its sentinel, and the target must hold exactly what it held:
// every version of every key, delete markers included.
func TestRestore_RejectedFileLeavesTargetUnchanged(t *testing.T) {
	srcDir := filepath.Join(t.TempDir(), "src")
	src := openDiskDB(t, srcDir)
	put(t, src, generated("auth", 3000, 1024, 3))
	goodPath := filepath.Join(t.TempDir(), "auth.db")
	dumpFile(t, src, "auth", goodPath, DumpOptions{})
	configPath := filepath.Join(t.TempDir(), "config.db")
	dumpFile(t, src, "config", configPath, DumpOptions{})
	rawPath := filepath.Join(t.TempDir(), "raw.bak")
	dumpFile(t, src, "auth", rawPath, DumpOptions{Format: FormatBadger})
	closeDB(t, src)

	good := mustRead(t, goodPath)
	raw := mustRead(t, rawPath)
	bounds := frameBoundaries(t, good)
	if len(bounds) < 4 {
		t.Fatalf("the good file has %d frames; this test needs at least 3", len(bounds)-1)
	}
	trailer := bounds[len(bounds)-1]
	rawLists := rawListOffsets(raw)
	if len(rawLists) < 3 {
		t.Fatalf("the raw stream has %d lists; this test needs at least 3", len(rawLists))
	}
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x10
		return b
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	random := make([]byte, 64<<10)
	rand.New(rand.NewSource(9)).Read(random)

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"cut inside the magic", good[:5], ErrTruncated},
		{"cut inside the header", good[:20], ErrTruncated},
		{"cut at the first frame", good[:bounds[0]], ErrTruncated},
		{"cut at the second frame", good[:bounds[1]], ErrTruncated},
		{"cut at the last frame", good[:bounds[len(bounds)-2]], ErrTruncated},
		{"cut inside a frame header", good[:bounds[1]+5], ErrTruncated},
		{"cut inside frame data", good[:bounds[1]+(bounds[2]-bounds[1])/2], ErrTruncated},
		{"cut before the trailer", good[:trailer], ErrTruncated},
		{"cut inside the trailer", good[:trailer+20], ErrTruncated},
		{"cut inside the end marker", good[:len(good)-1], ErrTruncated},
		{"flipped byte in the header", flip(20), ErrChecksum},
		{"flipped byte in a frame's length", flip(bounds[1] + 2), ErrChecksum},
		{"frame length of 4 GiB", withUint32(good, bounds[1]+1, 0xffffffff), ErrCorrupt},
		{"frame length beyond the file", withUint32(good, bounds[1]+1, uint32(len(good))), ErrTruncated},
		{"flipped byte in the first frame's data", flip(bounds[0] + frameFixedLen + 10), ErrChecksum},
		{"flipped byte in the last frame's data", flip(trailer - 1), ErrChecksum},
		{"flipped byte in the trailer's key count", flip(trailer + 1), ErrChecksum},
		{"flipped byte in the trailer's SHA-256", flip(trailer + 30), ErrChecksum},
		{"flipped byte in the end marker", flip(len(good) - 1), ErrCorrupt},
		{"byte appended", append(bytes.Clone(good), 0), ErrCorrupt},
		{"file of another database", mustRead(t, configPath), ErrWrongDatabase},
		{"a key over Badger's 65000-byte limit", fileWithKeys(t, "auth", "auth-1", "auth-2"+strings.Repeat("x", maxKeyLen)), ErrCorrupt},
		{"a key under Badger's own prefix", fileWithKeys(t, "auth", badgerPrefix+"head", "auth-1"), ErrCorrupt},
		{"random bytes", random, ErrNotBackup},
		{"gzip-wrapped", gz.Bytes(), ErrCompressed},
		{"a saved JSON error answer", []byte(`{"error":"invalid or expired token","hint":"log in again"}` + "\n"), ErrNotBackup},
		{"a saved HTML error page", []byte("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"), ErrNotBackup},
		{"raw Badger stream cut inside its second list", raw[:rawLists[1]+100], ErrTruncated},
		{"raw Badger stream cut inside its second length", raw[:rawLists[1]+3], ErrTruncated},
		// A first list cut short cannot be told from foreign bytes.
		{"raw Badger stream cut inside its first list", raw[:rawLists[1]-1], ErrNotBackup},
		{"raw Badger stream cut inside its first length", raw[:4], ErrNotBackup},
	}
	for _, mode := range restoreModes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "db")
				db := openDiskDB(t, dir)
				put(t, db, dbContent{"auth-00001": {Value: "target", UserMeta: 3}, "only-in-target": {Value: "t"}})
				put(t, db, dbContent{"auth-00001": {Value: "target v2", ExpiresAt: future(time.Hour)}})
				del(t, db, "only-in-target")
				before := everyVersion(t, db)
				path := filepath.Join(t.TempDir(), "auth.db")
				if err := os.WriteFile(path, tt.data, 0o600); err != nil {
					t.Fatal(err)
				}

				res, err := mode.run(t, dir, db, path, RestoreOptions{Database: "auth", TmpDir: t.TempDir()})
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if !IsInputError(err) {
					t.Errorf("IsInputError(%v) = false", err)
				}
				if mode.name != "wipe" && res.Written != 0 {
					t.Errorf("result says %d records were written", res.Written)
				}
				if after := everyVersionOfDir(t, dir); !slices.Equal(before, after) {
					t.Fatalf("target changed:\nbefore %q\nafter  %q", before, after)
				}
				if left := siblings(t, dir); len(left) > 0 {
					t.Fatalf("left next to the target: %v", left)
				}
			})
		}
	}
}

// fileWithKeys writes a flowg file holding keys, in the order given,
// bypassing the writer's checks as a damaged or hostile file would.
func fileWithKeys(t testing.TB, database string, keys ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Database: database, Compression: CompressionZstd})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		w.cur.add([]byte(k), []byte("v"), 0, 1, 0)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withUint32 returns a copy of data with a little-endian v at off.
func withUint32(data []byte, off int, v uint32) []byte {
	b := bytes.Clone(data)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

// rawListOffsets returns where each list of a raw Badger stream starts.
func rawListOffsets(data []byte) []int {
	var out []int
	for off := 0; off+rawLengthPrefix <= len(data); off += rawLengthPrefix + int(binary.LittleEndian.Uint64(data[off:])) {
		out = append(out, off)
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
