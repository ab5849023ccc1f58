package kv

import (
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4/options"
)

// A scratch database trades ZSTD for Snappy; every other database keeps
// flowg's ZSTD tables, bulk-loaded or not.
func TestScratchDatabaseUsesSnappy(t *testing.T) {
	cases := []struct {
		name string
		o    OpenOptions
		want options.CompressionType
	}{
		{"default", OpenOptions{}, options.ZSTD},
		{"bulk", OpenOptions{BulkLoad: true}, options.ZSTD},
		{"scratch", OpenOptions{BulkLoad: true, Scratch: true}, options.Snappy},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), c.name)
		db, err := Open(dir, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := db.Opts().Compression; got != c.want {
			t.Errorf("%s: compression %v, want %v", c.name, got, c.want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
