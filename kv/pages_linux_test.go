package kv

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestTableMapping_OnlySharedTablesUnderTheDirectory(t *testing.T) {
	prefix := []byte("/data/logs/")
	for _, tt := range []struct {
		line string
		ok   bool
	}{
		{"7f1c2a000000-7f1c2a400000 r--s 00000000 08:01 1234 /data/logs/000001.sst", true},
		{"7f1c2a000000-7f1c2a400000 rw-s 00000000 08:01 1234 /data/logs/000001.sst", true},  // a table just built
		{"7f1c2a000000-7f1c2a400000 r--p 00000000 08:01 1234 /data/logs/000001.sst", false}, // private
		{"7f1c2a000000-7f1c2a400000 r--s 00000000 08:01 1234 /data/logs/00001.mem", false},
		{"7f1c2a000000-7f1c2a400000 r--s 00000000 08:01 1234 /data/logs2/000001.sst", false},
		{"7f1c2a000000-7f1c2a400000 r--s 00000000 08:01 1234 /data/logs/sub/000001.sst", true},
		{"7f1c2a000000-7f1c2a400000 r--p 00000000 00:00 0", false},
		{"7f1c2a000000-7f1c2a400000 r--s 00000000 08:01 1234    /data/logs/with space/000001.sst", true},
		{"garbage", false},
	} {
		start, end, ok := fileMapping([]byte(tt.line), prefix, ".sst")
		if ok != tt.ok || (ok && (start != 0x7f1c2a000000 || end != 0x7f1c2a400000)) {
			t.Errorf("%q: %x-%x %v, want ok %v", tt.line, start, end, ok, tt.ok)
		}
	}
}

// TestReleaseTablePages_DropsWhatAReadLeftResident reads a whole database
// opened read-only, as a backup does, then releases its table pages: the
// process's file-backed resident memory falls, and the database still
// reads back whole.
func TestReleaseTablePages_DropsWhatAReadLeftResident(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	db, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("incompressible? no, but large enough "), 30)
	wb := db.NewWriteBatch()
	for i := range 60000 {
		if err := wb.Set(fmt.Appendf(nil, "log/app/%08d", i), fmt.Appendf(value, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := Open(dir, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	readAll := func() int {
		n := 0
		_ = ro.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return nil
		})
		return n
	}
	if n := readAll(); n != 60000 {
		t.Fatalf("read %d keys, want 60000", n)
	}
	before := rssFileKiB(t)
	// Named through a symbolic link, as a data directory may be.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if err := ReleaseTablePages(link); err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	if after >= before-1024 {
		t.Errorf("file-backed RSS %d KiB before the release, %d after: want at least 1 MiB less", before, after)
	}
	if n := readAll(); n != 60000 {
		t.Fatalf("after the release, read %d keys, want 60000", n)
	}
}

func rssFileKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
