package backup

import (
	"path/filepath"
	"testing"

	"github.com/flowg-backup/flowg/kv"
)

// A verify's scratch database writes Snappy tables, about twice the bytes of
// ZSTD ones per record: a bulk load into it releases their pages four times
// as often, so its resident tables stay as small as a wipe restore's.
func TestTableReleaseEvery_ScratchReleasesMoreOften(t *testing.T) {
	for _, c := range []struct {
		name string
		o    kv.OpenOptions
		want int
	}{
		{"restore", kv.OpenOptions{BulkLoad: true}, releaseEvery},
		{"scratch", kv.OpenOptions{BulkLoad: true, Scratch: true}, releaseEvery / 4},
	} {
		db, err := kv.Open(filepath.Join(t.TempDir(), c.name), c.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := tableReleaseEvery(db); got != c.want {
			t.Errorf("%s: release every %d writes, want %d", c.name, got, c.want)
		}
		closeDB(t, db)
	}
}
