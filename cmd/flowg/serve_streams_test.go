package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServe_BadStreamFlagsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	dirs := []string{"--auth-dir", filepath.Join(dir, "auth"), "--config-dir", filepath.Join(dir, "config"), "--log-dir", filepath.Join(dir, "logs"),
		"--http-bind", "127.0.0.1:0", "--backup-dir", filepath.Join(dir, "backups")}
	tests := []struct {
		name    string
		args    []string
		inError string
	}{
		{"no stream allowed", []string{"--max-backup-streams", "0"}, "--max-backup-streams 0: give how many online backups of one database may run at once, at least 1"},
		{"a negative grace", []string{"--wipe-grace", "-1s"}, "--wipe-grace -1s: give how long a wipe waits for online backups"},
		{"a grace without a unit", []string{"--wipe-grace", "5"}, "--wipe-grace 5: give how long a wipe waits for online backups, e.g. 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", append(append([]string{"serve"}, dirs...), tt.args...)...)
			if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, tt.inError) {
				t.Errorf("want exit 2 and a usage error with %q, got\n%s", tt.inError, r)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused starts created %d entries in %s, want none", len(entries), dir)
	}
}
