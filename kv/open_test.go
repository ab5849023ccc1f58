package kv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func putKeys(t *testing.T, db *badger.DB, n int) {
	t.Helper()
	err := db.Update(func(txn *badger.Txn) error {
		for i := range n {
			if err := txn.Set(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countKeys(t *testing.T, db *badger.DB) int {
	t.Helper()
	n := 0
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dirFingerprint hashes the name and content of every file in dir.
func dirFingerprint(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, e.Name()+" "+hex.EncodeToString(h.Sum(nil))[:16])
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestOpen_RefusesDatabaseHeldByAnotherOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "auth")
	db, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("read-only %v", ro), func(t *testing.T) {
			other, err := Open(dir, OpenOptions{ReadOnly: ro})
			if err == nil {
				other.Close()
				t.Fatal("second open succeeded")
			}
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("err = %v, want %v naming %s", err, ErrLocked, dir)
			}
		})
	}
}

func TestOpen_ReadOnlyMissingDatabaseCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "logs")
	_, err := Open(dir, OpenOptions{ReadOnly: true})
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("err = %v, want %v", err, ErrMissing)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Fatalf("a read-only open created %s", filepath.Dir(dir))
	}
}

func TestOpen_ReadOnlyNeverWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	db, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putKeys(t, db, 500)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := dirFingerprint(t, dir)

	ro, err := Open(dir, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, ro); n != 500 {
		t.Fatalf("read-only open sees %d keys, want 500", n)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dirFingerprint(t, dir); after != before {
		t.Fatalf("a read-only open changed %s:\nbefore\n%s\nafter\n%s", dir, before, after)
	}
}

// crashImage returns a directory holding the files of an open database, as
// a crash (or a power cut) leaves them. Like a real crash it keeps Badger's
// preallocated value log and memtable files sparse: 2 GiB and 128 MiB with
// flowg's options, 128 MiB and 8 MiB here.
func crashImage(t *testing.T, keys int) string {
	t.Helper()
	live := filepath.Join(t.TempDir(), "live")
	db, err := badger.Open(Options(live).WithValueLogFileSize(64 << 20).WithMemTableSize(8 << 20))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	putKeys(t, db, keys)
	crashed := filepath.Join(t.TempDir(), "crashed")
	if err := os.Mkdir(crashed, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "LOCK" {
			sparseCopy(t, filepath.Join(live, e.Name()), filepath.Join(crashed, e.Name()))
		}
	}
	return crashed
}

// sparseCopy copies src to dst, leaving blocks of zeros as holes.
func sparseCopy(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	buf := make([]byte, 64<<10)
	var size int64
	for {
		n, err := io.ReadFull(in, buf)
		if n > 0 {
			if bytes.Count(buf[:n], []byte{0}) == n {
				if _, err := out.Seek(int64(n), io.SeekCurrent); err != nil {
					t.Fatal(err)
				}
			} else if _, err := out.Write(buf[:n]); err != nil {
				t.Fatal(err)
			}
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSnapshot_ReadsDatabaseLeftByACrash reads a crash image: Badger
// refuses it read-only, so OpenSnapshot must replay it in a scratch copy and
// say so, without writing to it.
func TestOpenSnapshot_ReadsDatabaseLeftByACrash(t *testing.T) {
	crashed := crashImage(t, 300)
	if _, err := Open(crashed, OpenOptions{ReadOnly: true}); !errors.Is(err, ErrNotClosedCleanly) {
		t.Fatalf("read-only open of the crash image: err = %v, want %v (the fixture does not look like a crash)", err, ErrNotClosedCleanly)
	}
	before := dirFingerprint(t, crashed)
	tmp := t.TempDir()

	s, err := OpenSnapshot(crashed, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s.DB); n != 300 {
		t.Errorf("snapshot sees %d keys, want 300", n)
	}
	if s.Note == "" {
		t.Error("snapshot of a crashed database has no note saying how it was read")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dirFingerprint(t, crashed); after != before {
		t.Fatalf("OpenSnapshot wrote to the crashed database:\nbefore\n%s\nafter\n%s", before, after)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Fatalf("scratch copy left behind in %s: %v", tmp, left)
	}
}

// TestOpenSnapshot_CrashImageHeldByAWriterIsRefused: the scratch copy is
// taken under a shared lock, so a database that a process holds for writing
// (a server that started after the crash) is refused, not copied while it
// changes.
func TestOpenSnapshot_CrashImageHeldByAWriterIsRefused(t *testing.T) {
	crashed := crashImage(t, 300)
	// The writer starts after the read-only open was refused, just before
	// the copy: the window a lock taken only for the copy would leave.
	defer func(orig func(string)) { beforeCrashCopy = orig }(beforeCrashCopy)
	beforeCrashCopy = func(dir string) {
		unlock, err := LockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unlock)
	}
	tmp := t.TempDir()
	if s, err := OpenSnapshot(crashed, tmp); !errors.Is(err, ErrLocked) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("OpenSnapshot of a crash image held by a writer: err = %v, want ErrLocked", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Fatalf("scratch copy made of a held database: %v", left)
	}
}

// TestDirs_Overlap catches one directory given twice or inside another, by
// path or through a link, and nothing else: names that only share a prefix
// are apart.
func TestDirs_Overlap(t *testing.T) {
	root := t.TempDir()
	link := filepath.Join(root, "link")
	if err := os.Mkdir(filepath.Join(root, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "data"), link); err != nil {
		t.Fatal(err)
	}
	in := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	for _, tt := range []struct {
		dirs Dirs
		want bool
	}{
		{Dirs{Auth: in("data", "auth"), Config: in("data", "config"), Logs: in("data", "logs")}, false},
		{Dirs{Auth: in("data", "log"), Config: in("data", "config"), Logs: in("data", "logs")}, false},
		{Dirs{Auth: "./data/auth", Config: "data/auth/", Logs: in("data", "logs")}, true},
		{Dirs{Auth: in("data"), Config: in("data", "config"), Logs: in("logs")}, true},
		{Dirs{Auth: in("data", "auth"), Config: in("other"), Logs: filepath.Join(link, "auth", "logs")}, true},
		{Dirs{Auth: in("data", "auth"), Config: in("other"), Logs: filepath.Join(link, "logs")}, false},
	} {
		if _, _, got := tt.dirs.Overlap(); got != tt.want {
			t.Errorf("%+v: Overlap = %v, want %v", tt.dirs, got, tt.want)
		}
	}
}
