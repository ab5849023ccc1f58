package integration

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// badgerCLI returns the path of the badger command line tool; without it the
// test fails (see pinnedTool).
func badgerCLI(t *testing.T) string {
	t.Helper()
	return pinnedTool(t, "badger")
}

// TestBadgerCLI_BackupRestoresThroughFlowg writes a database with several
// versions of a key, a deleted key and keys with a TTL, backs it up with the
// real `badger backup`, and restores that file with `flowg admin restore`:
// the newest live version of each key comes back, in both modes, and a
// delete marker of the file deletes nothing in a merge.
func TestBadgerCLI_BackupRestoresThroughFlowg(t *testing.T) {
	bin := badgerCLI(t)
	root := t.TempDir()
	src := filepath.Join(root, "src")
	ttl := uint64(time.Now().Add(24 * time.Hour).Unix())
	db, err := badger.Open(kv.Options(src).WithNumVersionsToKeep(math.MaxInt32))
	if err != nil {
		t.Fatal(err)
	}
	steps := []content{
		{"log/app/1": {Value: "v1"}, "log/app/gone": {Value: "deleted below"}, "log/app/back": {Value: "first"}},
		{"log/app/1": {Value: "v2", UserMeta: 1}, "stream/app": {Value: `{"ttl":"24h"}`}},
		{"log/app/1": {Value: "v3", UserMeta: 2}, "log/app/ttl": {Value: "expires", ExpiresAt: ttl}},
		{"log/app/big": {Value: strings.Repeat("b", 3<<20/2)}},
	}
	for i, step := range steps {
		wb := db.NewWriteBatch()
		for k, r := range step {
			e := badger.NewEntry([]byte(k), []byte(r.Value)).WithMeta(r.UserMeta)
			e.ExpiresAt = r.ExpiresAt
			if err := wb.SetEntry(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := wb.Flush(); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := db.Update(func(txn *badger.Txn) error {
				if err := txn.Delete([]byte("log/app/gone")); err != nil {
					return err
				}
				return txn.Delete([]byte("log/app/back"))
			}); err != nil {
				t.Fatal(err)
			}
			wb := db.NewWriteBatch()
			if err := wb.Set([]byte("log/app/back"), []byte("second")); err != nil {
				t.Fatal(err)
			}
			if err := wb.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeDB(t, db)
	live := content{
		"log/app/1":    {Value: "v3", UserMeta: 2},
		"log/app/back": {Value: "second"},
		"stream/app":   {Value: `{"ttl":"24h"}`},
		"log/app/ttl":  {Value: "expires", ExpiresAt: ttl},
		"log/app/big":  {Value: strings.Repeat("b", 3<<20/2)},
	}

	bk := filepath.Join(root, "backup")
	if err := os.Mkdir(bk, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := command(t, root, 2*time.Minute, bin, "backup", "--dir", src, "--backup-file", filepath.Join(bk, "log.db")); r.code != 0 {
		t.Fatalf("badger backup failed:\n%s", r)
	}

	// The file must hold old versions and delete markers, not just live keys.
	r := mustFlowg(t, root, "admin", "inspect", "--json", filepath.Join(bk, "log.db"))
	if !strings.Contains(r.stdout, `"format": "badger"`) || strings.Contains(r.stdout, `"keys": 5,`) {
		t.Fatalf("inspect of the badger backup: want a raw stream holding more records than its 5 live keys:\n%s", r.stdout)
	}

	target := content{
		"log/app/1":    {Value: "target's own"},
		"log/app/gone": {Value: "the file deletes it; a merge must not"},
		"log/app/zzz":  {Value: "only in the target"},
	}
	tests := []struct {
		name string
		args []string
		want content
	}{
		{"merge", nil, union(target, live)},
		{"wipe", []string{"--wipe"}, live},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDB(t, dataDir(dir, "logs"), target)
			args := with([]string{"admin", "restore", "--only", "logs", "--log-dir", "./data/logs", "--backup-dir", bk}, tt.args...)
			r := mustFlowg(t, dir, args...)
			requireContains(t, "stderr", r.stderr, "raw Badger backup")
			requireDB(t, "restored logs", dataDir(dir, "logs"), tt.want)
		})
	}
}

// TestFlowgBadgerFormat_RestoresThroughBadgerCLI backs up with
// `flowg admin backup --format badger`, restores each file with the real
// `badger restore`, and reads the restored databases back.
func TestFlowgBadgerFormat_RestoresThroughBadgerCLI(t *testing.T) {
	bin := badgerCLI(t)
	root := t.TempDir()
	data := sampleData()
	writeDataset(t, root, data)
	mustFlowg(t, root, with(seedBackup[:len(seedBackup)-1], "./raw", "--format", "badger")...)

	files := map[string]string{"auth": "auth.db", "config": "config.db", "logs": "log.db"}
	for _, name := range dbNames {
		restored := filepath.Join(root, "restored", name)
		r := command(t, root, 2*time.Minute, bin, "restore", "--dir", restored, "--backup-file", filepath.Join(root, "raw", files[name]))
		if r.code != 0 {
			t.Fatalf("badger restore of %s failed:\n%s", name, r)
		}
		requireDB(t, "restored by badger: "+name, restored, data.of(name))
	}
}
