package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// offlineFixture is a stopped server's three databases, each holding
// key "<db>/1" = "backed up", backed up into a directory, then changed:
// "<db>/1" = "changed", "<db>/2" = "added after".
type offlineFixture struct {
	dirs    kv.Dirs
	backup  string
	catalog string
}

func newOfflineFixture(t *testing.T) offlineFixture {
	t.Helper()
	root := t.TempDir()
	f := offlineFixture{dirs: kv.Dirs{Auth: filepath.Join(root, "auth"), Config: filepath.Join(root, "config"), Logs: filepath.Join(root, "logs")},
		backup: filepath.Join(root, "backup"), catalog: filepath.Join(root, "catalog")}
	if err := os.MkdirAll(f.backup, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range kv.Names {
		db, err := kv.Open(f.dirs.Of(n), kv.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		set(t, db, string(n)+"/1", "backed up")
		out, err := os.Create(filepath.Join(f.backup, backup.FileName(string(n))))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := backup.Dump(context.Background(), db, out, backup.DumpOptions{Database: string(n)}); err != nil {
			t.Fatal(err)
		}
		out.Close()
		set(t, db, string(n)+"/1", "changed")
		set(t, db, string(n)+"/2", "added after")
		db.Close()
	}
	return f
}

func set(t *testing.T, db *badger.DB, k, v string) {
	t.Helper()
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(k), []byte(v)) }); err != nil {
		t.Fatal(err)
	}
}

func (f offlineFixture) run(t *testing.T, req Request) (Outcome, error) {
	t.Helper()
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	sources, err := PlanDir(context.Background(), f.backup, req.Databases, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sources.Close()
	rs, err := Admit(context.Background(), req, NewOffline(f.dirs, f.catalog), Options{Catalog: backup.OpenCatalog(f.catalog), By: "test"})
	if err != nil {
		return Outcome{}, err
	}
	defer rs.Close()
	return rs.Run(context.Background(), sources)
}

func TestOffline_MergeTakesASafetySnapshotPerDatabaseAndSaysHowToUndo(t *testing.T) {
	f := newOfflineFixture(t)
	out, err := f.run(t, Request{Databases: []kv.Name{kv.Auth, kv.Config}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 2 {
		t.Fatalf("results = %+v, want 2", out.Results)
	}
	for _, res := range out.Results {
		if res.SafetySnapshot == "" || res.Mode != ModeMerge || res.Written != 1 {
			t.Errorf("result %+v: want a merge of 1 key with a safety snapshot", res)
		}
		if !strings.Contains(out.Undo, "--set "+res.SafetySnapshot+" --only "+res.Database+" --wipe") {
			t.Errorf("undo %q does not restore %s from its snapshot", out.Undo, res.Database)
		}
		got := dbtest.OfDir(t, f.dirs.Of(kv.Name(res.Database))).Values()
		n := res.Database
		dbtest.Require(t, n+" after the merge", map[string]string{n + "/1": "backed up", n + "/2": "added after"}, got)
	}
}

func TestOffline_WipeKeepsThePreviousDirectory(t *testing.T) {
	f := newOfflineFixture(t)
	out, err := f.run(t, Request{Databases: []kv.Name{kv.Config}, Wipe: true})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Results[0]
	if res.SetAside == "" || res.SafetySnapshot != "" || !strings.HasPrefix(out.Undo, "mv ") {
		t.Fatalf("wipe result %+v, undo %q: want the previous directory kept, no snapshot, a mv undo", res, out.Undo)
	}
	dbtest.Require(t, "config after the wipe", map[string]string{"config/1": "backed up"}, dbtest.OfDir(t, f.dirs.Config).Values())
	dbtest.Require(t, "the set-aside config", map[string]string{"config/1": "changed", "config/2": "added after"}, dbtest.OfDir(t, res.SetAside).Values())
}

// A damaged file among several stops the restore before any database
// changes, at the check step, naming the database.
func TestOffline_ADamagedFileChangesNoDatabase(t *testing.T) {
	for _, wipe := range []bool{false, true} {
		f := newOfflineFixture(t)
		path := filepath.Join(f.backup, backup.FileName("logs"))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-40] ^= 0xff
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = f.run(t, Request{Wipe: wipe})
		var fail *Failure
		if !errors.As(err, &fail) || fail.Step != StepCheck || fail.Database != kv.Logs || len(fail.Done) != 0 {
			t.Fatalf("wipe %v: error %v, want a check failure of logs with nothing done", wipe, err)
		}
		for _, n := range kv.Names {
			want := map[string]string{string(n) + "/1": "changed", string(n) + "/2": "added after"}
			dbtest.Require(t, string(n)+" after the refused restore", want, dbtest.OfDir(t, f.dirs.Of(n)).Values())
		}
	}
}
