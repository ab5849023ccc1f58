package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// pickCatalog is a local catalog whose sets are made with a given trigger,
// creation time and verification.
type pickCatalog struct {
	t    *testing.T
	cat  *backup.Catalog
	dir  string
	srcs []backup.Source
	base time.Time
}

func newPickCatalog(t *testing.T) *pickCatalog {
	t.Helper()
	root := t.TempDir()
	p := &pickCatalog{t: t, dir: filepath.Join(root, "catalog"), base: time.Now().Add(-time.Hour)}
	p.cat = backup.OpenCatalog(p.dir)
	for _, n := range kv.Names {
		db, err := kv.Open(filepath.Join(root, "src", string(n)), kv.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(string(n)+"/1"), []byte("v")) }); err != nil {
			t.Fatal(err)
		}
		p.srcs = append(p.srcs, backup.Source{Name: string(n), DB: db})
	}
	return p
}

func (p *pickCatalog) create(at time.Duration, trigger string, verify bool) string {
	p.t.Helper()
	m, err := p.cat.Create(p.t.Context(), p.srcs, backup.SetOptions{Trigger: trigger, Now: p.base.Add(at)})
	if err != nil {
		p.t.Fatal(err)
	}
	if verify {
		if _, err := p.cat.Verify(p.t.Context(), m.ID, time.Now()); err != nil {
			p.t.Fatal(err)
		}
	}
	return m.ID
}

// restore runs `flowg admin restore --backup-dir CATALOG` without --set
// into fresh databases.
func (p *pickCatalog) restore(extra ...string) cliResult {
	p.t.Helper()
	out := p.t.TempDir()
	args := []string{"admin", "restore", "--backup-dir", p.dir, "--catalog-dir", filepath.Join(out, "safety"),
		"--auth-dir", filepath.Join(out, "auth"), "--config-dir", filepath.Join(out, "config"), "--log-dir", filepath.Join(out, "logs")}
	return runFlowg(p.t, "", append(args, extra...)...)
}

func TestAdminRestore_WithoutSetPicksTheNewestVerifiedSetNeverASafetySet(t *testing.T) {
	p := newPickCatalog(t)
	verified := p.create(0, backup.TriggerManual, true)
	unverified := p.create(time.Minute, backup.TriggerScheduled, false)
	safety := p.create(2*time.Minute, backup.TriggerPreRestore, true)

	for _, extra := range [][]string{nil, {"--dry-run"}} {
		r := p.restore(extra...)
		if r.code != exitOK {
			t.Fatalf("restore %v: %s", extra, r)
		}
		want := "no --set: picked set " + verified + " (manual, "
		if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "the newest restore-verified set, holding auth, config, logs") {
			t.Errorf("restore %v without --set: want %q and why on stderr, got\n%s", extra, want, r)
		}
		if strings.Contains(r.stderr, "warning") || strings.Contains(r.stderr+r.stdout, unverified) || strings.Contains(r.stderr+r.stdout, safety) {
			t.Errorf("restore %v without --set named the unverified or the safety set, or warned:\n%s", extra, r)
		}
	}
}

func TestAdminRestore_WithoutVerifiedSetPicksTheNewestCompleteWithAWarning(t *testing.T) {
	p := newPickCatalog(t)
	p.create(0, backup.TriggerManual, false)
	newest := p.create(time.Minute, backup.TriggerScheduled, false)
	safety := p.create(2*time.Minute, backup.TriggerPreRestore, true)

	r := p.restore("--only", "config")
	if r.code != exitOK {
		t.Fatalf("restore: %s", r)
	}
	if !strings.Contains(r.stderr, "warning: no restore-verified set holds config; restoring set "+newest+", which was never restore-verified") ||
		!strings.Contains(r.stderr, "no --set: picked set "+newest+" (scheduled, ") {
		t.Errorf("restore without a verified set: want the newest complete set %s with a warning, got\n%s", newest, r)
	}
	if strings.Contains(r.stderr+r.stdout, safety) {
		t.Errorf("restore without --set picked the pre_restore set %s:\n%s", safety, r)
	}

	// Only a safety set: nothing is picked; naming it works.
	only := newPickCatalog(t)
	named := only.create(0, backup.TriggerPreRestore, true)
	if r := only.restore("--dry-run"); r.code != exitFailed || !strings.Contains(r.stderr, "pre_restore safety sets are used only when named with --set") {
		t.Errorf("a catalog of one pre_restore set, no --set: want exit %d and the hint, got\n%s", exitFailed, r)
	}
	if r := only.restore("--dry-run", "--set", named); r.code != exitOK {
		t.Errorf("naming the pre_restore set with --set: %s", r)
	}
}
