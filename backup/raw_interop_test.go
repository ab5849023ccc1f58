package backup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/flowg-backup/flowg/kv"
	"google.golang.org/protobuf/proto"
)

// Badger's meta bits as its raw backup stream carries them.
const (
	testBitDelete       = 1 << 0
	testBitValuePointer = 1 << 1
)

// rawBackupFixture is a database written with Badger's own API, keeping every
// version, and backed up with Badger's own DB.Backup(w, 0).
type rawBackupFixture struct {
	path string
	// live is the newest live version of each key: what a restore must give.
	live dbContent
}

func newRawBackupFixture(t *testing.T) rawBackupFixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "badger-src")
	db, err := badger.Open(kv.Options(dir).WithNumVersionsToKeep(math.MaxInt32))
	if err != nil {
		t.Fatal(err)
	}
	ttl := future(3 * time.Hour)
	bigA := strings.Repeat("A", 3<<20/2)
	for _, step := range []func(){
		func() {
			put(t, db, dbContent{"multi": {Value: "one"}, "deleted": {Value: "soon gone"}, "resurrected": {Value: "first life"}})
		},
		func() {
			put(t, db, dbContent{"multi": {Value: "two", UserMeta: 1}, "in-target-deleted-here": {Value: "x"}})
		},
		func() { del(t, db, "deleted", "resurrected", "in-target-deleted-here") },
		func() {
			put(t, db, dbContent{"multi": {Value: "three", UserMeta: 2}, "resurrected": {Value: "second life"}})
		},
		func() {
			put(t, db, dbContent{"ttl": {Value: "expires later", ExpiresAt: ttl}, "expired": {Value: "x", ExpiresAt: 1}})
		},
		func() {
			put(t, db, dbContent{"big": {Value: strings.Repeat("a", 3<<20/2)}, "meta": {Value: "m", UserMeta: 0x42}})
		},
		func() { put(t, db, dbContent{"big": {Value: bigA}}) },
	} {
		step()
	}
	path := filepath.Join(t.TempDir(), "badger.bak")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(f, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)
	return rawBackupFixture{path: path, live: dbContent{
		"multi":       {Value: "three", UserMeta: 2},
		"resurrected": {Value: "second life"},
		"ttl":         {Value: "expires later", ExpiresAt: ttl},
		"big":         {Value: bigA},
		"meta":        {Value: "m", UserMeta: 0x42},
	}}
}

// rawRecords reads a raw Badger stream and lists its records.
func rawRecords(t testing.TB, path string) []*pb.KV {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Header().Raw {
		t.Fatalf("%s is not read as a raw Badger stream", path)
	}
	var out []*pb.KV
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kvs...)
	}
}

// TestRawBadgerBackup_RestoresNewestLiveVersionPerKey restores a file written
// by Badger's DB.Backup, which holds every version of a key, delete markers,
// expired entries and value-log pointers, in both modes.
func TestRawBadgerBackup_RestoresNewestLiveVersionPerKey(t *testing.T) {
	fx := newRawBackupFixture(t)

	// The fixture must hold what this test is about.
	versions := map[string]int{}
	var deletes, pointers int
	for _, kv := range rawRecords(t, fx.path) {
		versions[string(kv.Key)]++
		if len(kv.Meta) > 0 && kv.Meta[0]&testBitDelete != 0 {
			deletes++
		}
		if len(kv.Meta) > 0 && kv.Meta[0]&testBitValuePointer != 0 {
			pointers++
		}
	}
	if versions["multi"] < 3 || versions["resurrected"] < 2 || deletes < 3 || pointers < 1 {
		t.Fatalf("raw fixture: versions %v, %d delete markers, %d value pointers; want several of each", versions, deletes, pointers)
	}

	target := dbContent{
		"multi":                  {Value: "target's newer value"},
		"in-target-deleted-here": {Value: "target keeps it"},
		"deleted":                {Value: "target keeps it too"},
		"target-only":            {Value: "t", ExpiresAt: future(time.Hour)},
	}
	tests := []struct {
		mode restoreMode
		want dbContent
	}{
		// Delete markers never delete anything in a merge.
		{restoreModes[0], merged(target, fx.live)},
		{restoreModes[1], fx.live},
	}
	for _, tt := range tests {
		t.Run(tt.mode.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			db := openDiskDB(t, dir)
			put(t, db, target)
			res, err := tt.mode.run(t, dir, db, fx.path, RestoreOptions{Database: "config", TmpDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			requireContent(t, "restored database", tt.want, contentOfDir(t, dir).withoutVersions())
			if res.Written != uint64(len(fx.live)) {
				t.Errorf("written %d, want %d (one per live key)", res.Written, len(fx.live))
			}
			if !res.Header.Raw || !slices.Contains(res.Warnings, RawWarning) {
				t.Errorf("result: raw %v, warnings %q; want raw and the raw-stream warning", res.Header.Raw, res.Warnings)
			}
		})
	}

	t.Run("plan", func(t *testing.T) {
		p, err := PlanFile(t.Context(), nil, fx.path, RestoreOptions{Database: "config", TmpDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if p.Added != uint64(len(fx.live)) || !slices.Contains(p.Warn, RawWarning) {
			t.Fatalf("plan adds %d keys, warnings %q; want %d and the raw-stream warning", p.Added, p.Warn, len(fx.live))
		}
	})

	t.Run("verify", func(t *testing.T) {
		hdr, _, err := VerifyFile(t.Context(), fx.path, VerifyOptions{Load: true})
		if err != nil || !hdr.Raw {
			t.Fatalf("VerifyFile: raw %v, err %v", hdr.Raw, err)
		}
	})
}

// TestRawStream_FlowgWritesWhatBadgerLoads writes a raw stream with Dump and
// loads it with Badger's own DB.Load, as `badger restore` does.
func TestRawStream_FlowgWritesWhatBadgerLoads(t *testing.T) {
	content := merged(generated("k", 2000, 1024, 4), dbContent{
		"meta": {Value: "m", UserMeta: 0x42},
		"ttl":  {Value: "t", ExpiresAt: future(time.Hour)},
		"big":  {Value: strings.Repeat("b", 3<<20/2)},
	})
	src := openDiskDB(t, filepath.Join(t.TempDir(), "src"))
	put(t, src, content)
	path := filepath.Join(t.TempDir(), "log.db")
	dumpFile(t, src, "logs", path, DumpOptions{Format: FormatBadger})
	closeDB(t, src)

	dir := filepath.Join(t.TempDir(), "loaded")
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := db.Load(f, 16); err != nil {
		t.Fatalf("badger DB.Load: %v", err)
	}
	requireContent(t, "database loaded by Badger", content, contentOf(t, db).withoutVersions())
	closeDB(t, db)
}

// TestRawStream_FirstLengthLikeACompressorMagic restores a valid raw Badger
// stream whose first list happens to be 0x8b1f bytes long: its first two
// bytes are then gzip's magic number. Badger loads it; so must flowg.
func TestRawStream_FirstLengthLikeACompressorMagic(t *testing.T) {
	const gzipLike = 0x8b1f
	list := &pb.KVList{Kv: []*pb.KV{{Key: []byte("k"), Version: 1, UserMeta: []byte{0}}}}
	list.Kv[0].Value = bytes.Repeat([]byte("v"), gzipLike-proto.Size(list)-3)
	for proto.Size(list) != gzipLike {
		d := gzipLike - proto.Size(list)
		list.Kv[0].Value = list.Kv[0].Value[:len(list.Kv[0].Value)+d]
	}
	body, err := proto.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	data := binary.LittleEndian.AppendUint64(nil, uint64(len(body)))
	data = append(data, body...)
	if data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("fixture starts % x, want gzip's 1f 8b", data[:2])
	}
	path := filepath.Join(t.TempDir(), "badger.bak")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	bdb, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Load(bytes.NewReader(data), 16); err != nil {
		t.Fatalf("Badger's own DB.Load refuses the fixture: %v", err)
	}
	closeDB(t, bdb)

	db := openDiskDB(t, filepath.Join(t.TempDir(), "db"))
	defer closeDB(t, db)
	if _, err := MergeFile(t.Context(), db, path, RestoreOptions{Database: "logs", TmpDir: t.TempDir()}); err != nil {
		t.Fatalf("MergeFile refuses a valid raw Badger stream: %v", err)
	}
	if got := contentOf(t, db)["k"].Value; got != string(list.Kv[0].Value) {
		t.Fatalf("restored value is %d bytes, want %d", len(got), len(list.Kv[0].Value))
	}
}
