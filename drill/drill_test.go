package drill

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// testSources opens the three databases, each with one key, under a temp dir.
func testSources(t *testing.T) map[kv.Name]backup.Source {
	t.Helper()
	dir := t.TempDir()
	out := map[kv.Name]backup.Source{}
	for _, n := range kv.Names {
		db, err := kv.Open(filepath.Join(dir, string(n)), kv.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(string(n)+"/1"), []byte("v")) }); err != nil {
			t.Fatal(err)
		}
		out[n] = backup.Source{Name: string(n), DB: db}
	}
	return out
}

func TestPick_NewestRestoreVerifiedSetWithEveryDatabase(t *testing.T) {
	src := testSources(t)
	all := []backup.Source{src[kv.Auth], src[kv.Config], src[kv.Logs]}
	cat := backup.OpenCatalog(filepath.Join(t.TempDir(), "backups"))
	base := time.Now().Add(-time.Hour)
	create := func(at time.Duration, trigger string, verify bool, sources ...backup.Source) string {
		t.Helper()
		m, err := cat.Create(t.Context(), sources, backup.SetOptions{Trigger: trigger, Now: base.Add(at)})
		if err != nil {
			t.Fatal(err)
		}
		if verify {
			if _, err := cat.Verify(t.Context(), m.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		return m.ID
	}
	want := create(0, backup.TriggerScheduled, true, all...)
	create(time.Minute, backup.TriggerPreRestore, true, all...) // a safety set: never picked unnamed
	logsOnly := create(2*time.Minute, backup.TriggerManual, true, src[kv.Logs])
	unverified := create(3*time.Minute, backup.TriggerManual, false, all...)

	got, err := pick(t.Context(), cat, "")
	if err != nil || got.ID != want {
		t.Errorf("pick() = %s, %v; want %s, the newest restore-verified set of every database that is no safety set", got.ID, err, want)
	}
	if got, err := pick(t.Context(), cat, unverified); err != nil || got.ID != unverified {
		t.Errorf("pick(%s) = %s, %v; want the set named, created but not verified", unverified, got.ID, err)
	}
	if _, err := pick(t.Context(), cat, logsOnly); !errors.Is(err, backup.ErrSetUnusable) || !strings.Contains(err.Error(), "holds no auth backup") {
		t.Errorf("pick(%s) = %v; want ErrSetUnusable, holds no auth backup", logsOnly, err)
	}
	empty := backup.OpenCatalog(filepath.Join(t.TempDir(), "none"))
	if _, err := pick(t.Context(), empty, ""); !errors.Is(err, backup.ErrNoCompleteSet) {
		t.Errorf("pick() of an empty catalog = %v; want ErrNoCompleteSet", err)
	}
}

func TestWithoutFlowgEnv_KeepsNoFlowgVariable(t *testing.T) {
	got := withoutFlowgEnv([]string{"PATH=/bin", "FLOWG_BACKUP_DRILL=@every 1s", "HOME=/root", "FLOWG_HTTP_BIND=0.0.0.0:80", "AWS_REGION=x"})
	if want := []string{"PATH=/bin", "HOME=/root", "AWS_REGION=x"}; !slices.Equal(got, want) {
		t.Errorf("withoutFlowgEnv = %q, want %q", got, want)
	}
}
