package backup

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// randomMergeCase builds, for seed, a closed database in dir written in
// several transactions (keys rewritten, deleted, rewritten again, TTLs
// run out or not, user meta, reserved keys, a value for the value log
// now and then) and a flowg file at file of keys from the same small
// space; it returns distinct keys to drop (as a restore to an instant
// does), and how many of them the file holds live.
func randomMergeCase(t *testing.T, seed int64, dir, file string) ([][]byte, uint64) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	now := time.Now()
	past, future := uint64(now.Add(-time.Hour).Unix()), uint64(now.Add(time.Hour).Unix())
	keyOf := func() string {
		switch rng.Intn(12) {
		case 0:
			return fmt.Sprintf("!flowg!r%02d", rng.Intn(4))
		case 1:
			return fmt.Sprintf("\x00low%d", rng.Intn(3)) // below the reserved prefix
		}
		return fmt.Sprintf("k%03d", rng.Intn(60))
	}
	valueOf := func(tag string) string {
		if rng.Intn(40) == 0 {
			return strings.Repeat(tag, (1<<20)/len(tag)+10) // into the value log
		}
		return fmt.Sprintf("%s-%d", tag, rng.Intn(1000))
	}
	expiryOf := func() uint64 {
		switch rng.Intn(8) {
		case 0:
			return past
		case 1:
			return future
		}
		return 0
	}

	db := openDiskDB(t, dir)
	for range 1 + rng.Intn(5) {
		err := db.Update(func(txn *badger.Txn) error {
			for range rng.Intn(40) {
				k := []byte(keyOf())
				if rng.Intn(4) == 0 {
					if err := txn.Delete(k); err != nil {
						return err
					}
					continue
				}
				e := badger.NewEntry(k, []byte(valueOf("db"))).WithMeta(byte(rng.Intn(3)))
				e.ExpiresAt = expiryOf()
				if err := txn.SetEntry(e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seed%2 == 1 { // the newest versions are deletes
		if err := db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(keyOf())) }); err != nil {
			t.Fatal(err)
		}
	}
	closeDB(t, db)

	keys := map[string]bool{}
	for range rng.Intn(50) {
		keys[keyOf()] = true
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	allExpired := seed%4 == 3 // a file that writes nothing
	var recs []fileRecord
	for _, k := range sorted {
		r := fileRecord{key: k, value: valueOf("file"), userMeta: byte(rng.Intn(3)), version: uint64(1 + rng.Intn(100)), expiresAt: expiryOf()}
		if allExpired {
			r.expiresAt = past
		}
		recs = append(recs, r)
	}
	writeFile(t, file, "config", recs)

	var drop [][]byte
	var inFile uint64
	for range rng.Intn(6) {
		k := keyOf()
		if slices.ContainsFunc(drop, func(d []byte) bool { return string(d) == k }) {
			continue
		}
		drop = append(drop, []byte(k))
		if i := slices.IndexFunc(recs, func(r fileRecord) bool { return r.key == k }); i >= 0 && !reserved([]byte(k)) && recs[i].expiresAt != past {
			inFile++
		}
	}
	return drop, inFile
}

// TestBuildMerged_AsAMergeInPlaceOnRandomCases: on random databases and
// files, the database rebuilt beside holds what an exclusive merge into
// the database itself, followed by the deletion of the keys to drop,
// leaves: the same keys, values, user meta, TTLs and versions; the same
// counts (but the file's records dropped, which a merge in place writes
// and then deletes) and keys reported added; and versions that go on above every
// version the database held, or else a new epoch.
func TestBuildMerged_AsAMergeInPlaceOnRandomCases(t *testing.T) {
	for seed := range int64(16) { // 150 seeds pass too (30 s)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			root := t.TempDir()
			dir, file := filepath.Join(root, "db"), filepath.Join(root, "file.db")
			drop, dropInFile := randomMergeCase(t, seed, dir, file)
			inPlace := filepath.Join(root, "in-place")
			if err := kv.CopyDir(dir, inPlace); err != nil {
				t.Fatal(err)
			}

			var addedInPlace, addedBeside []string
			db := openDiskDB(t, inPlace)
			maxHeld := db.MaxVersion()
			epoch, _ := kv.Epoch(db)
			merged, err := MergeFile(t.Context(), db, file, RestoreOptions{Database: "config", Exclusive: true,
				Added: func(k []byte) { addedInPlace = append(addedInPlace, string(k)) }})
			if err != nil {
				t.Fatal(err)
			}
			deleted, err := DeleteKeys(db, drop)
			if err != nil {
				t.Fatal(err)
			}
			want := contentOf(t, db)
			closeDB(t, db)

			staged := filepath.Join(root, "staged")
			p := prepareFile(t, file, RestoreOptions{Added: func(k []byte) { addedBeside = append(addedBeside, string(k)) }})
			built, err := p.BuildMerged(t.Context(), MergeInto{From: dir, Staged: staged, Drop: drop})
			if err != nil {
				t.Fatal(err)
			}
			db = openDiskDB(t, staged)
			defer closeDB(t, db)
			requireContent(t, "the database rebuilt beside", want, contentOf(t, db))
			if built.Written+dropInFile != merged.Written || built.Expired != merged.Expired || built.Added != merged.Added {
				t.Errorf("rebuilt: written %d (and %d dropped), expired %d, added %d; in place: %d, %d, %d",
					built.Written, dropInFile, built.Expired, built.Added, merged.Written, merged.Expired, merged.Added)
			}
			if fmt.Sprint(addedBeside) != fmt.Sprint(addedInPlace) {
				t.Errorf("keys added: rebuilt %q, in place %q", addedBeside, addedInPlace)
			}
			if int(built.Dropped) != deleted {
				t.Errorf("dropped %d keys, a merge in place deleted %d", built.Dropped, deleted)
			}
			if e, _ := kv.Epoch(db); e == epoch && db.MaxVersion() < maxHeld {
				t.Errorf("versions end at %d, below the %d held, in the same epoch", db.MaxVersion(), maxHeld)
			}
		})
	}
}
