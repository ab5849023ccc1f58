package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// testDB opens a real on-disk database holding n keys.
func testDB(t *testing.T, n int) *badger.DB {
	t.Helper()
	db, err := kv.Open(t.TempDir(), kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(txn *badger.Txn) error {
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
	return db
}

func TestCatalog_LabelsFollowVerification(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	db := testDB(t, 100)
	src := []Source{{Name: "config", DB: db}}

	m, err := cat.Create(ctx, src, SetOptions{Trigger: TriggerManual, By: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := cat.Get(context.Background(), m.ID); info.Label != LabelCreated {
		t.Fatalf("new set label = %q, want %q", info.Label, LabelCreated)
	}
	info, err := cat.Verify(ctx, m.ID, time.Now())
	if err != nil || info.Label != LabelRestoreVerified {
		t.Fatalf("after verify: label %q, err %v; want %q", info.Label, err, LabelRestoreVerified)
	}

	// Damage one byte of the file, keeping its size: only verification can tell.
	path, _ := cat.FilePath(context.Background(), m.ID, "config")
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err = cat.Verify(ctx, m.ID, time.Now())
	if err != nil || info.Label != LabelVerifyFailed || info.Problem == "" {
		t.Fatalf("after damage: label %q problem %q err %v; want %q with a problem", info.Label, info.Problem, err, LabelVerifyFailed)
	}

	// A missing file makes the set incomplete.
	os.Remove(path)
	if info, _ := cat.Get(context.Background(), m.ID); info.Label != LabelIncomplete {
		t.Fatalf("without its file: label %q, want %q", info.Label, LabelIncomplete)
	}
}

func TestCatalog_RejectsPathsOutsideIt(t *testing.T) {
	cat := OpenCatalog(t.TempDir())
	for _, id := range []string{"../etc", "..", "/etc/passwd", "20260101T000000Z-abcdef/../../x", ""} {
		if _, err := cat.Get(context.Background(), id); err == nil {
			t.Errorf("Get(%q) succeeded, want ErrSetNotFound", id)
		}
		if err := cat.Delete(context.Background(), id); err == nil {
			t.Errorf("Delete(%q) succeeded, want ErrSetNotFound", id)
		}
	}
}

func TestCatalog_FailedRunLeavesOlderSetsAndAFailedManifest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := OpenCatalog(dir)
	db := testDB(t, 10)
	good, err := cat.Create(ctx, []Source{{Name: "auth", DB: db}}, SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A cancelled context makes the run fail.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cat.Create(cctx, []Source{{Name: "auth", DB: db}}, SetOptions{Now: time.Now().Add(time.Second)}); err == nil {
		t.Fatal("cancelled run succeeded")
	}
	sets, err := cat.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].Label != LabelFailed || sets[1].ID != good.ID || sets[1].Label != LabelCreated {
		t.Fatalf("sets = %+v; want the failed run first, then the good set intact", sets)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, sets[0].ID))
	if len(entries) != 1 || entries[0].Name() != ManifestName {
		t.Fatalf("failed set holds %v; want only its manifest", entries)
	}
}
