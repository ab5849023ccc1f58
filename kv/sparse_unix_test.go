//go:build unix

package kv

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenSnapshot_ScratchCopyStaysSparse checks the copy OpenSnapshot makes
// of a crash image: writing out the holes of Badger's preallocated files
// costs 2 GiB of scratch disk and tens of seconds per database with flowg's
// options, for any database size.
func TestOpenSnapshot_ScratchCopyStaysSparse(t *testing.T) {
	crashed := crashImage(t, 300)
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := CopyDir(crashed, dst); err != nil {
		t.Fatal(err)
	}
	src, got := allocatedBytes(t, crashed), allocatedBytes(t, dst)
	if got > 2*src+(1<<20) {
		t.Fatalf("the scratch copy uses %d KiB of disk for a crash image using %d KiB: the sparse files were copied in full", got>>10, src>>10)
	}
}

// allocatedBytes sums the disk space the files of dir actually use.
func allocatedBytes(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
	}
	return n
}
