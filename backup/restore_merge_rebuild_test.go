package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// rebuildFixture is a closed database and a flowg file that overlap: keys
// only the database holds (before, between and after the file's), keys
// both hold, keys only the file holds, user meta, TTLs, a value large
// enough for the value log, a deleted key, a reserved key on each side
// and a record of the file already expired.
type rebuildFixture struct {
	dir, file string
}

func newRebuildFixture(t *testing.T) rebuildFixture {
	t.Helper()
	root := t.TempDir()
	f := rebuildFixture{dir: filepath.Join(root, "db"), file: filepath.Join(root, "config.db")}
	future := uint64(time.Now().Add(48 * time.Hour).Unix())
	big := strings.Repeat("v", 2<<20)
	db := openDiskDB(t, f.dir)
	held := dbContent{"a-only-db": {Value: "db"}, "m-both": {Value: "db old"}, "m-both-meta": {Value: "db", UserMeta: 3},
		"n-only-db-ttl": {Value: "db", ExpiresAt: future}, "p-expired-in-file": {Value: "db stays"}, "q-big-both": {Value: big},
		"z-only-db": {Value: "db"}, "!flowg!held": {Value: "flowg's own"}, "d-deleted": {Value: "gone"}}
	for i := range 3000 { // enough for several buffers of the bulk writer's
		held[fmt.Sprintf("k-%05d", 2*i)] = storedRecord{Value: strings.Repeat("x", 1500)}
	}
	put(t, db, held)
	del(t, db, "d-deleted")
	closeDB(t, db)

	recs := []fileRecord{{key: "!flowg!file", value: "skipped"}, {key: "b-only-file", value: "file", userMeta: 7},
		{key: "d-deleted", value: "back from the file"}}
	for i := range 3000 {
		recs = append(recs, fileRecord{key: fmt.Sprintf("k-%05d", 3*i), value: strings.Repeat("f", 1200)})
	}
	recs = append(recs, fileRecord{key: "m-both", value: "file new", expiresAt: future}, fileRecord{key: "m-both-meta", value: "file", userMeta: 9},
		fileRecord{key: "p-expired-in-file", value: "expired", expiresAt: uint64(time.Now().Add(-time.Hour).Unix())},
		fileRecord{key: "q-big-both", value: big + "file"}, fileRecord{key: "y-only-file", value: "file"})
	for i := range recs {
		recs[i].version = uint64(10 + i)
	}
	writeFile(t, f.file, "config", recs)
	return f
}

// copyOf copies the closed database in dir beside it.
func (f rebuildFixture) copyOf(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := kv.CopyDir(f.dir, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func prepareFile(t *testing.T, path string, opts RestoreOptions) *Prepared {
	t.Helper()
	opts.Database = "config"
	p, err := Prepare(t.Context(), FileOpener(path), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestBuildMerged_HoldsWhatAMergeInPlaceHolds: the database rebuilt
// beside holds exactly what an exclusive merge into the database itself
// leaves (keys, values, user meta, TTLs), counts the same, and leaves the
// database it read untouched.
func TestBuildMerged_HoldsWhatAMergeInPlaceHolds(t *testing.T) {
	f := newRebuildFixture(t)
	inPlace := f.copyOf(t)
	var addedInPlace, addedBeside []string
	db := openDiskDB(t, inPlace)
	merged, err := MergeFile(t.Context(), db, f.file, RestoreOptions{Database: "config", Exclusive: true,
		Added: func(k []byte) { addedInPlace = append(addedInPlace, string(k)) }})
	if err != nil {
		t.Fatal(err)
	}
	want := contentOf(t, db)
	closeDB(t, db)

	before := everyVersionOfDir(t, f.dir)
	staged := filepath.Join(t.TempDir(), "staged")
	p := prepareFile(t, f.file, RestoreOptions{Added: func(k []byte) { addedBeside = append(addedBeside, string(k)) }})
	built, err := p.BuildMerged(t.Context(), MergeInto{From: f.dir, Staged: staged})
	if err != nil {
		t.Fatal(err)
	}
	requireContent(t, "the database rebuilt beside", want.withoutVersions(), contentOfDir(t, staged).withoutVersions())
	if built.Written != 3006 || built.Written != merged.Written || built.Expired != merged.Expired || built.Added != merged.Added {
		t.Errorf("rebuilt: written %d, expired %d, added %d; in place: %d, %d, %d (want 3006 written)",
			built.Written, built.Expired, built.Added, merged.Written, merged.Expired, merged.Added)
	}
	if fmt.Sprint(addedBeside) != fmt.Sprint(addedInPlace) {
		t.Errorf("keys added: rebuilt %q, in place %q", addedBeside, addedInPlace)
	}
	// Kept: a-, n-, z-only-db, p-expired-in-file, !flowg!held and the
	// 2000 k- keys the file lacks.
	if built.Kept != 2005 {
		t.Errorf("kept %d keys of the database, want 2005", built.Kept)
	}
	if after := everyVersionOfDir(t, f.dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the database read changed:\nbefore %q\nafter  %q", before, after)
	}
}

// TestBuildMerged_FileRecordsAboveEveryVersionHeld: the file's records
// are written at one version above every version the database held (as a
// merge's fresh commit timestamp), the database's keys keep theirs, its
// epoch carries over, and a write after the swap is newer still.
func TestBuildMerged_FileRecordsAboveEveryVersionHeld(t *testing.T) {
	f := newRebuildFixture(t)
	db := openDiskDB(t, f.dir)
	held, maxHeld := contentOf(t, db), db.MaxVersion()
	epoch, err := kv.Epoch(db)
	closeDB(t, db)
	if err != nil || epoch == "" {
		t.Fatalf("epoch %q, %v", epoch, err)
	}
	staged := filepath.Join(t.TempDir(), "staged")
	if _, err := prepareFile(t, f.file, RestoreOptions{}).BuildMerged(t.Context(), MergeInto{From: f.dir, Staged: staged}); err != nil {
		t.Fatal(err)
	}
	db = openDiskDB(t, staged)
	defer closeDB(t, db)
	got := contentOf(t, db)
	for k, r := range got {
		switch old, kept := held[k]; {
		case k == "a-only-db" || k == "z-only-db" || k == "k-00002":
			if !kept || r.Version != old.Version {
				t.Errorf("%s: version %d, want the database's %d", k, r.Version, old.Version)
			}
		case k == "m-both" || k == "b-only-file" || k == "k-00003":
			if r.Version != maxHeld+1 {
				t.Errorf("%s: version %d, want %d (above the database's %d)", k, r.Version, maxHeld+1, maxHeld)
			}
		}
	}
	if e, _ := kv.Epoch(db); e != epoch {
		t.Errorf("epoch %q, want the database's %q: incremental backups would start over", e, epoch)
	}
	set := func(k string) {
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(k), []byte("after")) }); err != nil {
			t.Fatal(err)
		}
	}
	set("m-both")
	if r := contentOf(t, db)["m-both"]; r.Value != "after" || r.Version <= maxHeld+1 {
		t.Errorf("a write after the merge: %v, want value \"after\" above version %d", r, maxHeld+1)
	}
}

// TestBuildMerged_LeavesOutTheKeysToDrop: a restore to an instant drops
// the keys deleted since its base set, whichever side holds them, and
// counts those held.
func TestBuildMerged_LeavesOutTheKeysToDrop(t *testing.T) {
	f := newRebuildFixture(t)
	staged := filepath.Join(t.TempDir(), "staged")
	drop := [][]byte{[]byte("a-only-db"), []byte("m-both"), []byte("b-only-file"), []byte("never-held")}
	built, err := prepareFile(t, f.file, RestoreOptions{}).BuildMerged(t.Context(), MergeInto{From: f.dir, Staged: staged, Drop: drop})
	if err != nil {
		t.Fatal(err)
	}
	got := contentOfDir(t, staged)
	for _, k := range drop {
		if _, ok := got[string(k)]; ok {
			t.Errorf("%s is in the merged database", k)
		}
	}
	if built.Dropped != 3 {
		t.Errorf("dropped %d, want 3 (never-held was not held)", built.Dropped)
	}
	if _, ok := got["z-only-db"]; !ok {
		t.Error("z-only-db, not to drop, is missing")
	}
}

// TestBuildMerged_StoppedHalfwayLeavesNothing: a merge cancelled halfway
// removes its staging directory, and the database it read is unchanged.
func TestBuildMerged_StoppedHalfwayLeavesNothing(t *testing.T) {
	f := newRebuildFixture(t)
	before := everyVersionOfDir(t, f.dir)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	staged := filepath.Join(t.TempDir(), "staged")
	_, err := prepareFile(t, f.file, RestoreOptions{}).BuildMerged(ctx, MergeInto{From: f.dir, Staged: staged, Progress: func(keys, _ uint64) {
		cancel() // at the first report, before the database's last keys are copied
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(staged); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the staging directory is left behind (%v)", err)
	}
	if after := everyVersionOfDir(t, f.dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the database read changed")
	}
}

// TestBuildMerged_RefusesAnExistingStagingDirectory: nothing is written
// over a directory that is there.
func TestBuildMerged_RefusesAnExistingStagingDirectory(t *testing.T) {
	f := newRebuildFixture(t)
	staged := t.TempDir()
	if err := os.WriteFile(filepath.Join(staged, "mine"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareFile(t, f.file, RestoreOptions{}).BuildMerged(t.Context(), MergeInto{From: f.dir, Staged: staged}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v, want a refusal of the existing directory", err)
	}
	if b, err := os.ReadFile(filepath.Join(staged, "mine")); err != nil || string(b) != "keep" {
		t.Errorf("the existing directory was touched: %q, %v", b, err)
	}
}

// TestBuildMergedFrom_ReadsTheFileOnceAndKeepsNothingOfABadOne: read once,
// the file gives the same database as prepared; a file damaged near its
// end, or whose SHA-256 is not the one expected, leaves no staging
// directory and the database untouched.
func TestBuildMergedFrom_ReadsTheFileOnceAndKeepsNothingOfABadOne(t *testing.T) {
	f := newRebuildFixture(t)
	opts := RestoreOptions{Database: "config"}
	prepared := filepath.Join(t.TempDir(), "prepared")
	if _, err := prepareFile(t, f.file, opts).BuildMerged(t.Context(), MergeInto{From: f.dir, Staged: prepared}); err != nil {
		t.Fatal(err)
	}
	once := filepath.Join(t.TempDir(), "once")
	built, err := BuildMergedFrom(t.Context(), FileOpener(f.file), opts, "", MergeInto{From: f.dir, Staged: once})
	if err != nil {
		t.Fatal(err)
	}
	requireContent(t, "the database merged from the file read once", contentOfDir(t, prepared), contentOfDir(t, once))
	if built.Written != 3006 || built.File.Keys == 0 || built.File.SHA256 == "" {
		t.Errorf("written %d, file %+v: want 3006 written and the file described", built.Written, built.File)
	}

	before := everyVersionOfDir(t, f.dir)
	b, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-100] ^= 0xff
	damaged := filepath.Join(t.TempDir(), "config.db")
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		file string
		sha  string
	}{
		{"damaged near its end", damaged, ""},
		{"another SHA-256 expected", f.file, strings.Repeat("0", 64)},
	} {
		staged := filepath.Join(t.TempDir(), "staged")
		_, err := BuildMergedFrom(t.Context(), FileOpener(tt.file), opts, tt.sha, MergeInto{From: f.dir, Staged: staged})
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrChecksum) {
			t.Errorf("%s: err = %v, want a refusal of the file", tt.name, err)
		}
		if _, err := os.Lstat(staged); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the staging directory is left behind (%v)", tt.name, err)
		}
	}
	if after := everyVersionOfDir(t, f.dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the database read changed")
	}
}
