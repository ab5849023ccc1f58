package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// agedCatalog writes a catalog of manual sets of a small logs database,
// one created ago[i] before now for each i, and returns its directory and
// the set ids in the order of ago.
func agedCatalog(t *testing.T, ago ...time.Duration) (string, []string) {
	t.Helper()
	root := t.TempDir()
	db, err := kv.Open(filepath.Join(root, "logs"), kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open logs database: %v", err)
	}
	defer db.Close()
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("log/app/1"), []byte(`{"a":1}`)) }); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "backups")
	cat := backup.OpenCatalog(dir)
	now := time.Now()
	var ids []string
	for _, a := range ago {
		m, err := cat.Create(t.Context(), []backup.Source{{Name: string(kv.Logs), DB: db}},
			backup.SetOptions{Trigger: backup.TriggerManual, By: "test", Now: now.Add(-a)})
		if err != nil {
			t.Fatalf("write the set of %v ago: %v", a, err)
		}
		ids = append(ids, m.ID)
	}
	return dir, ids
}

// catalogIDs lists the set ids of the catalog in dir, newest first.
func catalogIDs(t *testing.T, dir string) []string {
	t.Helper()
	sets, err := backup.OpenCatalog(dir).List(context.Background())
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	var ids []string
	for _, s := range sets {
		ids = append(ids, s.ID)
	}
	return ids
}

// linesIDs returns the set ids of the lines of out that start with verb
// ("deleted ID: reason").
func linesIDs(out, verb string) []string {
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if rest, ok := strings.CutPrefix(line, verb); ok {
			id, _, _ := strings.Cut(rest, ":")
			ids = append(ids, id)
		}
	}
	return ids
}

func TestAdminBackupsPrune_MaxAgeTakesDaysOrHours(t *testing.T) {
	dir, ids := agedCatalog(t, 45*24*time.Hour, 20*24*time.Hour, time.Hour)
	old, middle, young := ids[0], ids[1], ids[2]

	// 30d and 720h are the same age: a dry run names the same set.
	for _, age := range []string{"30d", "720h"} {
		r := runFlowg(t, "", "admin", "backups", "prune", "--backup-dir", dir, "--max-age", age, "--dry-run")
		if want := []string{old}; r.code != exitOK || !slices.Equal(linesIDs(r.stdout, "would delete "), want) ||
			!strings.Contains(r.stdout, "older than the maximum age") {
			t.Errorf("prune --max-age %s --dry-run: want exit 0 and stdout naming %v and why, got\n%s", age, want, r)
		}
	}
	if got, want := catalogIDs(t, dir), []string{young, middle, old}; !slices.Equal(got, want) {
		t.Fatalf("after dry runs the catalog holds %v, want %v", got, want)
	}

	r := runFlowg(t, "", "admin", "backups", "prune", "--backup-dir", dir, "--max-age", "10d")
	if want := []string{middle, old}; r.code != exitOK || !slices.Equal(linesIDs(r.stdout, "deleted "), want) {
		t.Errorf("prune --max-age 10d: want exit 0 and stdout deleting %v, got\n%s", want, r)
	}
	if got, want := catalogIDs(t, dir), []string{young}; !slices.Equal(got, want) {
		t.Errorf("after prune --max-age 10d the catalog holds %v, want %v", got, want)
	}
}

func TestAdminBackupsPrune_BadMaxAgeIsAUsageErrorAndDeletesNothing(t *testing.T) {
	dir, ids := agedCatalog(t, 45*24*time.Hour)
	tests := []struct {
		name   string
		maxAge string
		want   string
	}{
		{"fractional days", "1.5d", "flowg: --max-age: \"1.5d\" is not a duration: use e.g. 720h, 90m or 30d (whole days only)\n"},
		{"no unit", "30", "flowg: --max-age: \"30\" is not a duration: use e.g. 720h, 90m or 30d\n"},
		{"weeks", "4w", "flowg: --max-age: \"4w\" is not a duration: use e.g. 720h, 90m or 30d\n"},
		{"negative days", "-3d", "flowg: --max-age: \"-3d\" is negative: use e.g. 720h, 90m or 30d\n"},
		{"one minute meant as a month", "1m", "flowg: --max-age: \"1m\" is 1m0s, which would delete nearly every backup set: give at least 1h0m0s (a month is 30d, not 1m)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", "admin", "backups", "prune", "--backup-dir", dir, "--max-age", tt.maxAge)
			want := tt.want + "see:   flowg --help, or the command's --help\n"
			if r.code != exitUsage || r.stdout != "" || r.stderr != want {
				t.Errorf("want exit 2, no stdout and stderr\n%s\ngot\n%s", want, r)
			}
		})
	}
	if got := catalogIDs(t, dir); !slices.Equal(got, ids) {
		t.Errorf("after refused prunes the catalog holds %v, want %v", got, ids)
	}
}
