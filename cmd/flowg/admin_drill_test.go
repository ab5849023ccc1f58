package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/backup"
)

func TestAdminDrill_Misuse(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "mistyped")
	usage := "see:   flowg --help, or the command's --help\n"
	for _, tt := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"a stray argument", []string{"admin", "drill", "extra"}, 2,
			"flowg: unexpected argument \"extra\"; see `flowg admin drill --help`\n" + usage},
		{"no time to serve", []string{"admin", "drill", "--serve-timeout", "0s"}, 2,
			"flowg: --serve-timeout 0s: give how long the drill's server may take to serve, e.g. 2m\n" + usage},
		{"a set id that is none", []string{"admin", "drill", "--set", "../../etc"}, 2,
			"flowg: --set \"../../etc\" is not a set id; see `flowg admin backups list`\n" + usage},
		{"a catalog with no set", []string{"admin", "drill", "--backup-dir", empty}, 1,
			"flowg: drill refused: no complete backup set: " + empty + " holds no backup set\n" +
				"safe:  nothing was written; no drill was recorded\n" +
				"next:  check --backup-dir; take and verify a set: `flowg admin backups create --backup-dir " + empty + " --verify`\n"},
		{"a set the catalog does not hold", []string{"admin", "drill", "--backup-dir", empty, "--set", "20261206T040000Z-abcdef"}, 1,
			"flowg: drill failed: backup set not found: 20261206T040000Z-abcdef\n" +
				"safe:  any scratch copy was removed; no drill was recorded\n" +
				"next:  list the sets with `flowg admin backups list --backup-dir " + empty + "`, or leave out --set for the newest restore-verified one\n"},
		{"a drill schedule that does not parse", []string{"serve", "--backup-drill", "@every 10ms"}, 2,
			"flowg: --backup-drill: schedule \"@every 10ms\": the interval must be at least 1s\n" + usage},
		{"a drill work dir without a schedule", []string{"serve", "--backup-drill-work-dir", "/tmp"}, 2,
			"flowg: --backup-drill-work-dir is for scheduled drills: give --backup-drill too (e.g. \"0 4 * * 0\")\n" + usage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			if _, err := os.Stat(empty); !os.IsNotExist(err) {
				t.Errorf("the drill created the catalog %s (%v)", empty, err)
			}
			if r.code != tt.wantCode || r.stderr != tt.wantStderr {
				t.Errorf("flowg %s:\n%s\nwant exit %d, stderr:\n%s", strings.Join(tt.args, " "), r, tt.wantCode, tt.wantStderr)
			}
			if tt.wantCode == 2 && r.stdout != "" {
				t.Errorf("a usage error printed on stdout:\n%s", r)
			}
		})
	}
}

func TestPrintDrill_SaysSetRTORPOAndEachDatabase(t *testing.T) {
	created := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	rec := backup.DrillRecord{Result: backup.DrillOK, Set: "20261206T040000Z-abcdef", SetCreated: created,
		RTOSeconds: 1.2345, RPOSeconds: 3723,
		Databases: map[string]backup.DrillDatabase{
			"auth": {ManifestKeys: 1, Keys: 1, ContentChecked: true},
			"logs": {ManifestKeys: 5, Keys: 4, Error: "backup file checksum mismatch: the restored database holds 4 keys, the manifest says 5"},
		}}
	var out strings.Builder
	printDrill(&out, rec)
	want := "drill ok: set 20261206T040000Z-abcdef\n" +
		"  RTO  1.235s (restore, then server start to every database answering)\n" +
		"  RPO  1h2m3s (age of the restored data: set taken 2026-12-06T04:00:00Z)\n" +
		"  auth   1 key (manifest: 1): key count and content sum checked\n" +
		"  logs   4 keys (manifest: 5): backup file checksum mismatch: the restored database holds 4 keys, the manifest says 5\n"
	if out.String() != want {
		t.Errorf("printDrill:\n%s\nwant:\n%s", out.String(), want)
	}
}
