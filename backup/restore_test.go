package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// restoreMode runs one restore of the file at path into the database in dir.
// db is the open database for a merge; a wipe closes it first, as the
// offline command does.
type restoreMode struct {
	name string
	run  func(t *testing.T, dir string, db *badger.DB, path string, opts RestoreOptions) (Result, error)
}

var restoreModes = []restoreMode{
	{"merge", func(t *testing.T, dir string, db *badger.DB, path string, opts RestoreOptions) (Result, error) {
		defer closeDB(t, db)
		return MergeFile(t.Context(), db, path, opts)
	}},
	{"wipe", func(t *testing.T, dir string, db *badger.DB, path string, opts RestoreOptions) (Result, error) {
		closeDB(t, db)
		return WipeDir(t.Context(), dir, path, WipeOptions{RestoreOptions: opts, Stamp: time.Now()})
	}},
	{"merge exclusive", func(t *testing.T, dir string, db *badger.DB, path string, opts RestoreOptions) (Result, error) {
		defer closeDB(t, db)
		opts.Exclusive = true
		return MergeFile(t.Context(), db, path, opts)
	}},
}

func future(d time.Duration) uint64 { return uint64(time.Now().Add(d).Unix()) }

// TestRestore_ContentAfterMergeAndWipe backs a database up, changes it, restores
// the backup and checks what the database then holds, in both modes: a merge
// puts back every key of the backup and keeps keys the backup lacks; a wipe
// leaves exactly the backup's keys.
func TestRestore_ContentAfterMergeAndWipe(t *testing.T) {
	ttl := future(2 * time.Hour)
	tests := []struct {
		name               string
		atBackup           dbContent
		deleteBeforeBackup []string
		afterBackup        dbContent
		deleteAfterBackup  []string
		wantMerge          dbContent
		wantWipe           dbContent
	}{
		{
			name:        "key updated after the backup gets the backup's value",
			atBackup:    dbContent{"a": {Value: "at backup"}, "b": {Value: "b"}},
			afterBackup: dbContent{"a": {Value: "written after the backup"}},
			wantMerge:   dbContent{"a": {Value: "at backup"}, "b": {Value: "b"}},
			wantWipe:    dbContent{"a": {Value: "at backup"}, "b": {Value: "b"}},
		},
		{
			name:        "key created after the backup is kept by merge and removed by wipe",
			atBackup:    dbContent{"a": {Value: "a"}},
			afterBackup: dbContent{"new": {Value: "created after the backup"}},
			wantMerge:   dbContent{"a": {Value: "a"}, "new": {Value: "created after the backup"}},
			wantWipe:    dbContent{"a": {Value: "a"}},
		},
		{
			name:              "key deleted after the backup comes back",
			atBackup:          dbContent{"a": {Value: "a"}, "b": {Value: "b"}},
			deleteAfterBackup: []string{"b"},
			wantMerge:         dbContent{"a": {Value: "a"}, "b": {Value: "b"}},
			wantWipe:          dbContent{"a": {Value: "a"}, "b": {Value: "b"}},
		},
		{
			name:               "key deleted before the backup stays deleted",
			atBackup:           dbContent{"a": {Value: "a"}, "gone": {Value: "deleted before the backup"}},
			deleteBeforeBackup: []string{"gone"},
			wantMerge:          dbContent{"a": {Value: "a"}},
			wantWipe:           dbContent{"a": {Value: "a"}},
		},
		{
			name:        "UserMeta survives",
			atBackup:    dbContent{"a": {Value: "a", UserMeta: 0x42}, "b": {Value: "b", UserMeta: 0xff}},
			afterBackup: dbContent{"a": {Value: "a", UserMeta: 0x01}},
			wantMerge:   dbContent{"a": {Value: "a", UserMeta: 0x42}, "b": {Value: "b", UserMeta: 0xff}},
			wantWipe:    dbContent{"a": {Value: "a", UserMeta: 0x42}, "b": {Value: "b", UserMeta: 0xff}},
		},
		{
			name:        "TTL survives, even over a later write without one",
			atBackup:    dbContent{"ttl": {Value: "expires", ExpiresAt: ttl}, "forever": {Value: "stays"}},
			afterBackup: dbContent{"ttl": {Value: "rewritten without a TTL"}},
			wantMerge:   dbContent{"ttl": {Value: "expires", ExpiresAt: ttl}, "forever": {Value: "stays"}},
			wantWipe:    dbContent{"ttl": {Value: "expires", ExpiresAt: ttl}, "forever": {Value: "stays"}},
		},
		{
			name:        "empty value survives",
			atBackup:    dbContent{"empty": {Value: ""}, "a": {Value: "a"}},
			afterBackup: dbContent{"empty": {Value: "not empty any more"}},
			wantMerge:   dbContent{"empty": {Value: ""}, "a": {Value: "a"}},
			wantWipe:    dbContent{"empty": {Value: ""}, "a": {Value: "a"}},
		},
		{
			name:        "backup of an empty database",
			atBackup:    dbContent{},
			afterBackup: dbContent{"later": {Value: "later"}},
			wantMerge:   dbContent{"later": {Value: "later"}},
			wantWipe:    dbContent{},
		},
		{
			name:        "many keys over several frames",
			atBackup:    generated("k", 3000, 1024, 1),
			afterBackup: merged(generated("k", 100, 1024, 2), dbContent{"z-new": {Value: "new"}}),
			wantMerge:   merged(generated("k", 3000, 1024, 1), dbContent{"z-new": {Value: "new"}}),
			wantWipe:    generated("k", 3000, 1024, 1),
		},
	}
	for _, mode := range restoreModes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "db")
				file := filepath.Join(t.TempDir(), "auth.db")
				db := openDiskDB(t, dir)
				put(t, db, tt.atBackup)
				if len(tt.deleteBeforeBackup) > 0 {
					del(t, db, tt.deleteBeforeBackup...)
				}
				dumpFile(t, db, "auth", file, DumpOptions{})
				put(t, db, tt.afterBackup)
				if len(tt.deleteAfterBackup) > 0 {
					del(t, db, tt.deleteAfterBackup...)
				}

				res, err := mode.run(t, dir, db, file, RestoreOptions{Database: "auth"})
				if err != nil {
					t.Fatalf("restore: %v", err)
				}
				want := tt.wantMerge
				if mode.name == "wipe" {
					want = tt.wantWipe
				}
				requireContent(t, "restored database", want.withoutVersions(), contentOfDir(t, dir).withoutVersions())
				if wantWritten := uint64(len(tt.atBackup) - len(tt.deleteBeforeBackup)); res.Written != wantWritten || res.Expired != 0 {
					t.Errorf("result: written %d, expired %d; want written %d, expired 0", res.Written, res.Expired, wantWritten)
				}
			})
		}
	}
}

// TestMergeFile_WritesAtAFreshTimestamp restores files whose records carry
// versions far below and far above the target's: the restored value must win
// over every version the target held, and a write after the restore must win
// over the restored value.
func TestMergeFile_WritesAtAFreshTimestamp(t *testing.T) {
	for _, tc := range []struct {
		fileVersion uint64
		exclusive   bool
	}{{1, false}, {1 << 50, false}, {1, true}, {1 << 50, true}} {
		fileVersion := tc.fileVersion
		t.Run(fmt.Sprintf("file version %d, exclusive %v", fileVersion, tc.exclusive), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			file := filepath.Join(t.TempDir(), "config.db")
			writeFile(t, file, "config", []fileRecord{{key: "k", value: "from the backup", version: fileVersion}})
			db := openDiskDB(t, dir)
			defer closeDB(t, db)
			for i := range 20 {
				put(t, db, dbContent{"k": {Value: fmt.Sprintf("target write %d", i)}})
			}
			before := contentOf(t, db)["k"].Version

			if _, err := MergeFile(t.Context(), db, file, RestoreOptions{Database: "config", Exclusive: tc.exclusive}); err != nil {
				t.Fatal(err)
			}
			got := contentOf(t, db)["k"]
			if got.Value != "from the backup" || got.Version <= before {
				t.Fatalf("after merge k = %v; want the backup's value at a version above %d", got, before)
			}
			put(t, db, dbContent{"k": {Value: "written after the restore"}})
			if got := contentOf(t, db)["k"]; got.Value != "written after the restore" {
				t.Fatalf("a write after the restore lost against the restored value: k = %v", got)
			}
		})
	}
}

// fileRecord is one record of a hand-written backup file.
type fileRecord struct {
	key, value string
	userMeta   byte
	version    uint64
	expiresAt  uint64
}

// writeFile writes records, in the order given, into a flowg file at path.
func writeFile(t testing.TB, path, database string, recs []fileRecord) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Database: database, Created: time.Now().UTC(), ReadTs: 1, ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Add([]byte(r.key), []byte(r.value), r.userMeta, max(r.version, 1), r.expiresAt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRestore_SkipsAndCountsExpiredRecords restores a hand-written file whose
// records' TTLs have already run out: they are counted, never written, and a
// key the target holds under an expired record's name is left alone by merge.
func TestRestore_SkipsAndCountsExpiredRecords(t *testing.T) {
	now := time.Now()
	inHour := uint64(now.Add(time.Hour).Unix())
	recs := []fileRecord{
		{key: "a-live", value: "live"},
		{key: "b-expired-1970", value: "old", expiresAt: 1},
		{key: "c-expired-a-minute-ago", value: "old", expiresAt: uint64(now.Add(-time.Minute).Unix())},
		{key: "d-live-ttl", value: "ttl", expiresAt: inHour},
		{key: "e-expired-in-target", value: "backup's", expiresAt: 2},
	}
	target := dbContent{"e-expired-in-target": {Value: "target's"}, "z-target-only": {Value: "t"}}
	wantMerge := dbContent{
		"a-live":              {Value: "live"},
		"d-live-ttl":          {Value: "ttl", ExpiresAt: inHour},
		"e-expired-in-target": {Value: "target's"},
		"z-target-only":       {Value: "t"},
	}
	wantWipe := dbContent{"a-live": {Value: "live"}, "d-live-ttl": {Value: "ttl", ExpiresAt: inHour}}

	for _, mode := range restoreModes {
		t.Run(mode.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			file := filepath.Join(t.TempDir(), "log.db")
			writeFile(t, file, "logs", recs)
			db := openDiskDB(t, dir)
			put(t, db, target)
			res, err := mode.run(t, dir, db, file, RestoreOptions{Database: "logs"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Expired != 3 || res.Written != 2 {
				t.Errorf("result: expired %d, written %d; want expired 3, written 2", res.Expired, res.Written)
			}
			want := wantMerge
			if mode.name == "wipe" {
				want = wantWipe
			}
			requireContent(t, "restored database", want, contentOfDir(t, dir).withoutVersions())
		})
	}

	t.Run("Now decides what has expired", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "log.db")
		writeFile(t, file, "logs", recs)
		db := openDiskDB(t, filepath.Join(t.TempDir(), "db"))
		defer closeDB(t, db)
		later := func() time.Time { return now.Add(2 * time.Hour) }
		res, err := MergeFile(t.Context(), db, file, RestoreOptions{Database: "logs", Now: later})
		if err != nil {
			t.Fatal(err)
		}
		if res.Expired != 4 || res.Written != 1 {
			t.Errorf("two hours later: expired %d, written %d; want expired 4, written 1", res.Expired, res.Written)
		}
	})
}

// TestDump_LeavesOutDeletedAndExpiredKeys checks what a backup file holds:
// the newest live version of each key, and nothing of deleted or expired keys.
func TestDump_LeavesOutDeletedAndExpiredKeys(t *testing.T) {
	db := openDiskDB(t, filepath.Join(t.TempDir(), "db"))
	defer closeDB(t, db)
	put(t, db, dbContent{"deleted": {Value: "x"}, "kept": {Value: "v1"}, "expired": {Value: "x", ExpiresAt: 1}})
	put(t, db, dbContent{"kept": {Value: "v2"}})
	del(t, db, "deleted")
	file := filepath.Join(t.TempDir(), "auth.db")
	sum := dumpFile(t, db, "auth", file, DumpOptions{})

	got := readFileRecords(t, file)
	want := []string{`"kept"="v2"`}
	if !slices.Equal(got, want) || sum.Keys != 1 {
		t.Fatalf("file holds %v (summary %d keys); want %v", got, sum.Keys, want)
	}
}

// readFileRecords lists the records of a backup file as key=value strings.
func readFileRecords(t testing.TB, path string) []string {
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
	var out []string
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range kvs {
			out = append(out, fmt.Sprintf("%q=%q", kv.Key, kv.Value))
		}
	}
}

// TestRestore_LargeValuesFromTheValueLogRestoreIntact restores values larger
// than Badger's value threshold, which the source keeps in its value log. A
// wipe bulk-loads them with StreamWriter, where a value-pointer bit carried
// over from the source would make them come back empty or garbled.
func TestRestore_LargeValuesFromTheValueLogRestoreIntact(t *testing.T) {
	big := generated("big", 3, 3<<20/2, 7) // 1.5 MiB values
	big["big-00002"] = storedRecord{Value: strings.Repeat("z", 3<<20), UserMeta: 9, ExpiresAt: future(time.Hour)}
	content := merged(big, generated("small", 200, 100, 8))

	srcDir := filepath.Join(t.TempDir(), "src")
	src := openDiskDB(t, srcDir)
	if threshold := src.Opts().ValueThreshold; threshold >= 3<<20/2 {
		t.Fatalf("value threshold %d: the large values of this test would not go to the value log", threshold)
	}
	put(t, src, content)
	file := filepath.Join(t.TempDir(), "log.db")
	dumpFile(t, src, "logs", file, DumpOptions{})
	closeDB(t, src)
	if vlog := vlogBytes(t, srcDir); vlog < 3<<20 {
		t.Fatalf("source value log holds %d bytes; the large values are not in it", vlog)
	}

	for _, mode := range restoreModes {
		t.Run(mode.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			db := openDiskDB(t, dir)
			put(t, db, dbContent{"big-00000": {Value: "small now"}})
			if _, err := mode.run(t, dir, db, file, RestoreOptions{Database: "logs"}); err != nil {
				t.Fatal(err)
			}
			requireContent(t, "restored database", content, contentOfDir(t, dir).withoutVersions())
		})
	}
}

// vlogBytes sums the sizes of the value log files in dir.
func vlogBytes(t testing.TB, dir string) int64 {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestWipeDir_PreviousDatabase checks where the database a wipe replaces goes.
func TestWipeDir_PreviousDatabase(t *testing.T) {
	backedUp := dbContent{"a": {Value: "backup"}}
	old := dbContent{"a": {Value: "old"}, "b": {Value: "old only"}}
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name      string
		prepare   func(t *testing.T, dir string)
		discard   bool
		wantAside bool
	}{
		{"previous database kept aside", func(t *testing.T, dir string) { createDB(t, dir, old) }, false, true},
		{"previous database discarded on request", func(t *testing.T, dir string) { createDB(t, dir, old) }, true, false},
		{"missing directory is created", func(t *testing.T, dir string) {}, false, false},
		{"missing parent directories are created", func(t *testing.T, dir string) {}, false, false},
		{"empty directory is filled", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config.db")
			src := openDiskDB(t, filepath.Join(t.TempDir(), "src"))
			put(t, src, backedUp)
			dumpFile(t, src, "config", file, DumpOptions{})
			closeDB(t, src)
			dir := filepath.Join(t.TempDir(), "data", "config")
			if strings.Contains(tt.name, "parent") {
				dir = filepath.Join(t.TempDir(), "x", "y", "config")
			}
			tt.prepare(t, dir)

			res, err := WipeDir(t.Context(), dir, file, WipeOptions{RestoreOptions: RestoreOptions{Database: "config"}, DiscardPrevious: tt.discard, Stamp: stamp})
			if err != nil {
				t.Fatal(err)
			}
			requireContent(t, "restored database", backedUp, contentOfDir(t, dir).withoutVersions())
			wantAside := ""
			if tt.wantAside {
				wantAside = dir + ".before-restore-20260102T030405Z"
			}
			if res.SetAside != wantAside {
				t.Fatalf("SetAside = %q, want %q", res.SetAside, wantAside)
			}
			var wantSiblings []string
			if wantAside != "" {
				wantSiblings = []string{filepath.Base(wantAside)}
				requireContent(t, "database set aside", old, contentOfDir(t, wantAside).withoutVersions())
			}
			if got := siblings(t, dir); !slices.Equal(got, wantSiblings) {
				t.Fatalf("next to %s: %v, want %v", dir, got, wantSiblings)
			}
		})
	}
}

// TestWipeFrom_HoldKeepsTheNewDatabaseLocked: a caller holding the target
// (as flowg admin restore does) keeps the restored database from other
// processes after the swap too, until it releases what Hold was given.
func TestWipeFrom_HoldKeepsTheNewDatabaseLocked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.db")
	src := openDiskDB(t, filepath.Join(t.TempDir(), "src"))
	put(t, src, dbContent{"a": {Value: "backup"}})
	dumpFile(t, src, "config", file, DumpOptions{})
	closeDB(t, src)
	dir := filepath.Join(t.TempDir(), "config")
	createDB(t, dir, dbContent{"a": {Value: "old"}})
	unlockTarget, err := kv.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}

	var held []func()
	res, err := WipeFrom(t.Context(), dir, FileOpener(file), WipeOptions{RestoreOptions: RestoreOptions{Database: "config"},
		Hold: func(unlock func()) { held = append(held, unlock) }})
	if err != nil {
		unlockTarget()
		t.Fatal(err)
	}
	if len(held) != 1 {
		t.Fatalf("Hold was given %d unlocks, want 1", len(held))
	}
	if db, err := kv.Open(dir, kv.OpenOptions{}); !errors.Is(err, kv.ErrLocked) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("open of the restored database while held: err = %v, want ErrLocked", err)
	}
	held[0]()
	unlockTarget() // its lock went aside with the previous database
	requireContent(t, "restored database", dbContent{"a": {Value: "backup"}}, contentOfDir(t, dir).withoutVersions())
	requireContent(t, "previous database", dbContent{"a": {Value: "old"}}, contentOfDir(t, res.SetAside).withoutVersions())
}

// TestWipeDir_MountPointIsRefusedBeforeTheBuild: a mount point cannot be
// renamed, so the swap would fail after the whole load and leave the
// staging directory behind. /proc stands for a mounted volume: it is a mount
// point on every Linux machine, and nothing may be created beside it.
func TestWipeDir_MountPointIsRefusedBeforeTheBuild(t *testing.T) {
	const mounted = "/proc"
	if !kv.IsMountPoint(mounted) {
		t.Fatalf("kv.IsMountPoint(%s) = false, want true", mounted)
	}
	if plain := t.TempDir(); kv.IsMountPoint(plain) {
		t.Fatalf("kv.IsMountPoint(%s) = true for a plain directory", plain)
	}
	file := filepath.Join(t.TempDir(), "config.db")
	src := openDiskDB(t, filepath.Join(t.TempDir(), "src"))
	put(t, src, dbContent{"a": {Value: "backup"}})
	dumpFile(t, src, "config", file, DumpOptions{})
	closeDB(t, src)

	opened := false
	open := func(ctx context.Context) (io.ReadCloser, int64, error) {
		opened = true
		return FileOpener(file)(ctx)
	}
	_, err := WipeFrom(t.Context(), mounted, open, WipeOptions{RestoreOptions: RestoreOptions{Database: "config"}})
	if !errors.Is(err, kv.ErrMountPoint) || !strings.Contains(err.Error(), "restore into a directory inside the mount") {
		t.Fatalf("wipe onto %s: err = %v, want ErrMountPoint saying what to do", mounted, err)
	}
	if opened {
		t.Fatal("the backup file was read before the mount point was refused")
	}
}

// TestPlanFile_CountsWhatARestoreWouldChange compares a file with a target
// holding one key of every kind, checks the counts, that nothing was written,
// and that a merge and a wipe then do what the plan said.
func TestPlanFile_CountsWhatARestoreWouldChange(t *testing.T) {
	ttl := future(time.Hour)
	// The file, sorted by key as every flowg file is.
	recs := []fileRecord{
		{key: "added-1", value: "new"},
		{key: "added-2", value: "new", expiresAt: ttl},
		{key: "changed-meta", value: "same", userMeta: 2},
		{key: "changed-ttl", value: "same", expiresAt: ttl},
		{key: "changed-value", value: "backup"},
		{key: "expired-also-in-target", value: "x", expiresAt: 1},
		{key: "expired-only-in-file", value: "x", expiresAt: 1},
		{key: "same-1", value: "same"},
		{key: "same-2", value: "same", userMeta: 5, expiresAt: ttl},
	}
	target := dbContent{
		"a-removed":              {Value: "target only"},
		"changed-meta":           {Value: "same", UserMeta: 1},
		"changed-ttl":            {Value: "same"},
		"changed-value":          {Value: "target"},
		"expired-also-in-target": {Value: "target"},
		"m-removed":              {Value: "target only"},
		"same-1":                 {Value: "same"},
		"same-2":                 {Value: "same", UserMeta: 5, ExpiresAt: ttl},
		"z-removed":              {Value: "target only"},
	}
	want := Plan{Added: 2, Changed: 3, Same: 2, Expired: 2, Removed: 4}
	file := filepath.Join(t.TempDir(), "config.db")
	writeFile(t, file, "config", recs)

	t.Run("against a database", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		db := openDiskDB(t, dir)
		put(t, db, target)
		before := everyVersion(t, db)
		p, err := PlanFile(t.Context(), db, file, RestoreOptions{Database: "config"})
		if err != nil {
			t.Fatal(err)
		}
		if got := countsOf(p); got != countsOf(want) {
			t.Fatalf("plan %s, want %s", got, countsOf(want))
		}
		if p.File.Keys != uint64(len(recs)) {
			t.Errorf("plan file keys = %d, want %d", p.File.Keys, len(recs))
		}
		if after := everyVersion(t, db); !slices.Equal(before, after) {
			t.Fatalf("PlanFile wrote to the database:\nbefore %v\nafter  %v", before, after)
		}

		var added []string
		res, err := MergeFile(t.Context(), db, file, RestoreOptions{Database: "config", Added: func(k []byte) { added = append(added, string(k)) }})
		if err != nil {
			t.Fatal(err)
		}
		closeDB(t, db)
		if res.Added != p.Added || !slices.Equal(added, []string{"added-1", "added-2"}) {
			t.Errorf("merge added %d keys %v; the plan said %d", res.Added, added, p.Added)
		}
		if res.Written != p.Added+p.Changed+p.Same || res.Expired != p.Expired {
			t.Errorf("merge wrote %d and skipped %d; the plan said %d and %d", res.Written, res.Expired, p.Added+p.Changed+p.Same, p.Expired)
		}

		before2 := len(contentOfDir(t, dir))
		if _, err := WipeDir(t.Context(), dir, file, WipeOptions{RestoreOptions: RestoreOptions{Database: "config"}}); err != nil {
			t.Fatal(err)
		}
		if after := len(contentOfDir(t, dir)); uint64(before2-after) != p.Removed {
			t.Errorf("wipe removed %d keys, the plan said %d", before2-after, p.Removed)
		}
	})

	t.Run("against no database", func(t *testing.T) {
		p, err := PlanFile(t.Context(), nil, file, RestoreOptions{Database: "config"})
		if err != nil {
			t.Fatal(err)
		}
		want := Plan{Added: 7, Expired: 2}
		if got := countsOf(p); got != countsOf(want) {
			t.Fatalf("plan %s, want %s", got, countsOf(want))
		}
	})

	t.Run("refuses a bad file", func(t *testing.T) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "config.db")
		if err := os.WriteFile(cut, data[:len(data)-10], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := PlanFile(t.Context(), nil, cut, RestoreOptions{Database: "config"}); !errors.Is(err, ErrTruncated) {
			t.Fatalf("err = %v, want %v", err, ErrTruncated)
		}
	})
}

func countsOf(p Plan) string {
	return fmt.Sprintf("added %d, overwritten %d, unchanged %d, expired %d, removed %d", p.Added, p.Changed, p.Same, p.Expired, p.Removed)
}

// TestFindFile_AcceptsBothNamesOfTheLogsFile checks the file names restore
// looks for in a backup directory.
func TestFindFile_AcceptsBothNamesOfTheLogsFile(t *testing.T) {
	tests := []struct {
		name  string
		db    string
		files []string
		want  string // "" for ErrMissingFile
	}{
		{"log.db, as the offline backup names it", "logs", []string{"log.db"}, "log.db"},
		{"logs.db, as the online download names it", "logs", []string{"logs.db"}, "logs.db"},
		{"log.db preferred over logs.db", "logs", []string{"log.db", "logs.db"}, "log.db"},
		{"auth.db", "auth", []string{"auth.db", "log.db"}, "auth.db"},
		{"config.db missing", "config", []string{"auth.db", "log.db"}, ""},
		{"a directory is not a file", "config", []string{"config.db/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				var err error
				if strings.HasSuffix(f, "/") {
					err = os.Mkdir(filepath.Join(dir, f), 0o700)
				} else {
					err = os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := FindFile(dir, tt.db)
			if tt.want == "" {
				if !errors.Is(err, ErrMissingFile) {
					t.Fatalf("FindFile = %q, %v; want %v", got, err, ErrMissingFile)
				}
				return
			}
			if err != nil || got != filepath.Join(dir, tt.want) {
				t.Fatalf("FindFile = %q, %v; want %q", got, err, filepath.Join(dir, tt.want))
			}
		})
	}
}
