package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// TestOffline_MergeIsRebuiltBesideAndSwappedIn: an offline merge into a
// database that holds keys builds the merged database beside it and
// swaps it in, leaving no staging or previous directory behind, and says
// so in its notes.
func TestOffline_MergeIsRebuiltBesideAndSwappedIn(t *testing.T) {
	f := newOfflineFixture(t)
	out, err := f.run(t, Request{Databases: []kv.Name{kv.Config}})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Results[0]
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, NoteRebuiltBeside) }) {
		t.Errorf("notes %q: want %q", res.Notes, NoteRebuiltBeside)
	}
	if res.Written != 1 || res.Added == nil || *res.Added != 0 || res.SafetySnapshot == "" {
		t.Errorf("result %+v: want 1 key written, none added, a safety snapshot", res)
	}
	dbtest.Require(t, "config after the merge", map[string]string{"config/1": "backed up", "config/2": "added after"}, dbtest.OfDir(t, f.dirs.Config).Values())
	siblings, err := os.ReadDir(filepath.Dir(f.dirs.Config))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range siblings {
		if strings.HasPrefix(e.Name(), "config.") {
			t.Errorf("%s is left beside the database", e.Name())
		}
	}
}

// TestOffline_MergeInPlaceWhenTheDirectoryHoldsOtherFiles: a database
// directory holding a file of the user's is merged in place, not swapped
// (which would set the file aside with the old database), and the note
// says why.
func TestOffline_MergeInPlaceWhenTheDirectoryHoldsOtherFiles(t *testing.T) {
	f := newOfflineFixture(t)
	mine := filepath.Join(f.dirs.Config, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := f.run(t, Request{Databases: []kv.Name{kv.Config}})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Results[0]
	if !slices.ContainsFunc(res.Notes, func(n string) bool {
		return strings.HasPrefix(n, "merged in place: ") && strings.Contains(n, "files that are not the database's")
	}) {
		t.Errorf("notes %q: want why the merge was made in place", res.Notes)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "mine" {
		t.Errorf("the user's file: %q, %v", b, err)
	}
	dbtest.Require(t, "config after the merge", map[string]string{"config/1": "backed up", "config/2": "added after"}, dbtest.OfDir(t, f.dirs.Config).Values())
}

// countingOpener opens path and counts the bytes read from it.
type countingOpener struct {
	path string
	read atomic.Int64
}

func (c *countingOpener) open(context.Context) (io.ReadCloser, int64, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return &countedFile{File: f, n: &c.read}, st.Size(), nil
}

type countedFile struct {
	*os.File
	n *atomic.Int64
}

func (f *countedFile) Read(b []byte) (int, error) {
	n, err := f.File.Read(b)
	f.n.Add(int64(n))
	return n, err
}

// TestOffline_ASingleMergeRebuiltBesideReadsItsFileOnce: the merge of one
// database, rebuilt beside it, checks its file as it reads it, once (and
// its head before the safety snapshot); the same file damaged near its end
// is refused and the database is as it was.
func TestOffline_ASingleMergeRebuiltBesideReadsItsFileOnce(t *testing.T) {
	f := newOfflineFixture(t)
	db, err := kv.Open(f.dirs.Config, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Values that do not compress: a file of about 1.2 MB, well over the
	// 256 KiB its head is checked with before the safety snapshot.
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		v := make([]byte, 400)
		for j := range v {
			v[j] = byte(rnd.Uint32())
		}
		set(t, db, fmt.Sprintf("config/bulk-%05d", i), string(v))
	}
	path := filepath.Join(t.TempDir(), backup.FileName("config"))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := backup.Dump(context.Background(), db, out, backup.DumpOptions{Database: "config"}); err != nil {
		t.Fatal(err)
	}
	out.Close()
	set(t, db, "config/1", "changed again")
	db.Close()
	before := dbtest.OfDir(t, f.dirs.Config).Values()

	run := func(open backup.Opener) (Outcome, error) {
		req := Request{Databases: []kv.Name{kv.Config}}
		if err := req.Validate(); err != nil {
			t.Fatal(err)
		}
		rs, err := Admit(context.Background(), req, NewOffline(f.dirs, f.catalog), Options{Catalog: backup.OpenCatalog(f.catalog), By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		return rs.Run(context.Background(), Sources{{Database: kv.Config, Shown: path, Open: open}})
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(t.TempDir(), backup.FileName("config"))
	b[len(b)-100] ^= 0xff
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(backup.FileOpener(damaged)); err == nil {
		t.Fatal("the damaged file was restored")
	}
	dbtest.Require(t, "config after the refused merge", before, dbtest.OfDir(t, f.dirs.Config).Values())

	counted := &countingOpener{path: path}
	got, err := run(counted.open)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	if n := counted.read.Load(); n > size+size/2 {
		t.Errorf("read %d bytes of a %d-byte file: it was read more than once", n, size)
	}
	res := got.Results[0]
	if res.Written != 3002 || res.File.Keys != 3002 || res.File.SHA256 == "" {
		t.Errorf("result %+v: want 3002 keys written and the file described", res)
	}
	if v := dbtest.OfDir(t, f.dirs.Config).Values()["config/1"]; v != "changed" {
		t.Errorf("config/1 = %q after the merge, want the backup's %q", v, "changed")
	}
}

// TestOffline_AMergeReadOnceRefusesAWrongFileBeforeItsSnapshot: the file
// of another database, merged into one database, is refused at the check,
// before a safety snapshot is written (a refused restore must not use up
// --max-safety-copies).
func TestOffline_AMergeReadOnceRefusesAWrongFileBeforeItsSnapshot(t *testing.T) {
	f := newOfflineFixture(t)
	req := Request{Databases: []kv.Name{kv.Config}}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	rs, err := Admit(context.Background(), req, NewOffline(f.dirs, f.catalog), Options{Catalog: backup.OpenCatalog(f.catalog), By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	authFile := filepath.Join(f.backup, backup.FileName("auth"))
	_, err = rs.Run(context.Background(), Sources{{Database: kv.Config, Shown: authFile, Open: backup.FileOpener(authFile)}})
	var fail *Failure
	if !errors.As(err, &fail) || fail.Step != StepCheck || !errors.Is(err, backup.ErrWrongDatabase) {
		t.Fatalf("err = %v, want a check failure naming the wrong database", err)
	}
	if sets, _ := os.ReadDir(f.catalog); len(sets) != 0 {
		t.Errorf("the catalog holds %d entries after the refused merge, want no safety snapshot", len(sets))
	}
}
