package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// versionsOf lists every version db holds of key, newest first.
func versionsOf(t testing.TB, db *badger.DB, key string) (versions []uint64, deleted []bool) {
	t.Helper()
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, Prefix: []byte(key)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if string(it.Item().Key()) == key {
				versions = append(versions, it.Item().Version())
				deleted = append(deleted, it.Item().IsDeletedOrExpired())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return versions, deleted
}

// copyOpenDir copies the files of the open database in src into dst, but
// its lock: what a crash would leave on disk once db.Sync returned.
func copyOpenDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "LOCK" {
			continue
		}
		copySparse(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
}

// copySparse copies src to dst, seeking over zeroed blocks: Badger's value
// log and write-ahead log files are preallocated, mostly holes.
func copySparse(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	buf := make([]byte, 1<<20)
	var size int64
	for {
		n, err := io.ReadFull(in, buf)
		if n > 0 {
			if bytes.Count(buf[:n], []byte{0}) == n {
				_, werr := out.Seek(int64(n), io.SeekCurrent)
				err = errors.Join(err, werr)
			} else if _, werr := out.Write(buf[:n]); werr != nil {
				t.Fatal(werr)
			}
			size += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// An exclusive merge (one timestamp reserved from Badger's oracle, every
// record loaded at it) brings back a key deleted after a wipe restore,
// although the wipe built the database with Badger's StreamWriter at the
// backup's own versions: reopened, Badger starts its oracle above the
// highest version of its tables and of its write-ahead log, so the
// reserved timestamp is above the deletion. Checked with the wipe's
// versions far above and far below the merged file's, with the database
// closed cleanly after the deletion, reopened several times, and copied
// as a crash would leave it (the deletion only in the write-ahead log).
func TestMerge_ExclusiveBringsBackAKeyDeletedAfterAWipe(t *testing.T) {
	for _, tc := range []struct {
		name         string
		wipeVersion  uint64 // of every record of the wiped-in file
		reopens      int    // between the wipe and the deletion
		crash        bool   // merge into a copy taken before the close
		writesBefore int    // transactions before the deletion
	}{
		{name: "low versions, closed", wipeVersion: 2},
		{name: "high versions, closed", wipeVersion: 1 << 40},
		{name: "high versions, reopened, writes", wipeVersion: 1 << 40, reopens: 3, writesBefore: 50},
		{name: "high versions, writes, crashed", wipeVersion: 1 << 40, writesBefore: 50, crash: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			recs := []fileRecord{{key: "a", value: "1"}, {key: "victim", value: "backup"}, {key: "z", value: "2"}}
			for i := range recs {
				recs[i].version = tc.wipeVersion
			}
			wiped, old := filepath.Join(tmp, "wiped.db"), filepath.Join(tmp, "old.db")
			writeFile(t, wiped, "auth", recs)
			for i := range recs {
				recs[i].version = 1
			}
			writeFile(t, old, "auth", recs)

			dir := filepath.Join(tmp, "auth")
			createDB(t, dir, dbContent{"before": {Value: "x"}})
			if _, err := WipeDir(t.Context(), dir, wiped, WipeOptions{RestoreOptions: RestoreOptions{Database: "auth"}, DiscardPrevious: true}); err != nil {
				t.Fatal(err)
			}
			for range tc.reopens {
				closeDB(t, openDiskDB(t, dir))
			}
			db := openDiskDB(t, dir)
			for i := range tc.writesBefore {
				put(t, db, dbContent{fmt.Sprintf("w%03d", i): {Value: "w"}})
			}
			del(t, db, "victim")
			target := dir
			if tc.crash {
				if err := db.Sync(); err != nil {
					t.Fatal(err)
				}
				target = filepath.Join(tmp, "crashed")
				copyOpenDir(t, dir, target)
			}
			closeDB(t, db)

			db = openDiskDB(t, target)
			defer closeDB(t, db)
			before, _ := versionsOf(t, db, "victim")
			maxBefore := db.MaxVersion()
			if len(before) == 0 || before[0] < tc.wipeVersion {
				t.Fatalf("the deletion of victim is not above the wipe's versions: %v", before)
			}
			if _, err := MergeFile(t.Context(), db, old, RestoreOptions{Database: "auth", Exclusive: true}); err != nil {
				t.Fatal(err)
			}
			after, deleted := versionsOf(t, db, "victim")
			t.Logf("victim before the merge %v (max version %d), after %v", before, maxBefore, after)
			if got := contentOf(t, db)["victim"].Value; got != "backup" || deleted[0] {
				t.Fatalf("the merge did not bring victim back (value %q): versions before %v (max %d), after %v deleted %v",
					got, before, maxBefore, after, deleted)
			}
			if after[0] <= maxBefore {
				t.Fatalf("victim merged at version %d, not above every version held (%d)", after[0], maxBefore)
			}
		})
	}
}
