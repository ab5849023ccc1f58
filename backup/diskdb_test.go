package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// Helpers for the restore tests, which run on real Badger databases on disk.

// storedRecord is what a database holds for one key (see dbtest.Record).
type storedRecord = dbtest.Record

// dbContent maps each live key of a database to what it holds.
type dbContent map[string]storedRecord

// withoutVersions returns c with every Version zeroed (see
// dbtest.Content.WithoutVersions).
func (c dbContent) withoutVersions() dbContent {
	return dbContent(dbtest.Content(c).WithoutVersions())
}

// requireContent fails t unless got equals want.
func requireContent(t testing.TB, what string, want, got dbContent) {
	t.Helper()
	dbtest.Require(t, what, want, got)
}

// openDiskDB opens (creating) the flowg database in dir; the caller closes it.
func openDiskDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return db
}

// closeDB closes db, failing t on error.
func closeDB(t testing.TB, db *badger.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("close database: %v", err)
	}
}

// contentOf reads the newest live version of every key of db.
func contentOf(t testing.TB, db *badger.DB) dbContent { t.Helper(); return dbContent(dbtest.Of(t, db)) }

// contentOfDir opens the database in dir, reads it and closes it again.
func contentOfDir(t testing.TB, dir string) dbContent {
	t.Helper()
	return dbContent(dbtest.OfDir(t, dir))
}

// everyVersion lists every version Badger holds in db, delete markers and
// expired entries included, as "key@version meta value" lines: the finest
// view of "nothing was written".
func everyVersion(t testing.TB, db *badger.DB) []string {
	t.Helper()
	var out []string
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			line := fmt.Sprintf("%q@%d deleted/expired=%v um=%#x exp=%d", item.Key(), item.Version(), item.IsDeletedOrExpired(), item.UserMeta(), item.ExpiresAt())
			if !item.IsDeletedOrExpired() {
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				line += fmt.Sprintf(" value=%x", sha256Short(v))
			}
			out = append(out, line)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read every version: %v", err)
	}
	return out
}

func sha256Short(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:8]
}

// everyVersionOfDir is everyVersion on the closed database in dir.
func everyVersionOfDir(t testing.TB, dir string) []string {
	t.Helper()
	db := openDiskDB(t, dir)
	defer closeDB(t, db)
	return everyVersion(t, db)
}

// put writes every record of c to db in one transaction (Version is ignored).
func put(t testing.TB, db *badger.DB, c dbContent) {
	t.Helper()
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for k, r := range c {
		e := badger.NewEntry([]byte(k), []byte(r.Value)).WithMeta(r.UserMeta)
		e.ExpiresAt = r.ExpiresAt
		if err := wb.SetEntry(e); err != nil {
			t.Fatalf("write %q: %v", k, err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatalf("write batch: %v", err)
	}
}

// del deletes keys from db.
func del(t testing.TB, db *badger.DB, keys ...string) {
	t.Helper()
	err := db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("delete %v: %v", keys, err)
	}
}

// createDB creates a closed database in dir holding c.
func createDB(t testing.TB, dir string, c dbContent) {
	t.Helper()
	db := openDiskDB(t, dir)
	put(t, db, c)
	closeDB(t, db)
}

// dumpFile backs db up into path as database name and returns the summary.
func dumpFile(t testing.TB, db *badger.DB, name, path string, opts DumpOptions) Summary {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts.Database = name
	_, sum, err := Dump(context.Background(), db, f, opts)
	if err != nil {
		t.Fatalf("dump %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return sum
}

// generated returns n records "<prefix>-00000"... with values of about size
// bytes, half-compressible, deterministic for a seed.
func generated(prefix string, n, size int, seed int64) dbContent {
	rng := rand.New(rand.NewSource(seed))
	c := dbContent{}
	for i := range n {
		v := make([]byte, size)
		rng.Read(v[:size/2])
		copy(v[size/2:], bytes.Repeat([]byte{byte('a' + i%26)}, size-size/2))
		c[fmt.Sprintf("%s-%05d", prefix, i)] = storedRecord{Value: string(v), UserMeta: byte(i % 4)}
	}
	return c
}

// merged returns the union of cs, later ones winning.
func merged(cs ...dbContent) dbContent {
	out := dbContent{}
	for _, c := range cs {
		for k, r := range c {
			out[k] = r
		}
	}
	return out
}

// siblings lists the names of dir's parent entries that start with
// base(dir) plus a dot, e.g. the staging and set-aside directories of a wipe.
func siblings(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), filepath.Base(dir)+".") {
			out = append(out, e.Name())
		}
	}
	return out
}
