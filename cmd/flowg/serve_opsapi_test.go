package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_BadOpsAPIFlags are usage errors (exit 2) that say what to give,
// found before anything is opened or listened on.
func TestServe_BadOpsAPIFlags(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--operations-keep", "0"}, "--operations-keep 0: give how many operation records the history keeps, at least 1"},
		{[]string{"--download-link-ttl", "0s"}, "--download-link-ttl 0s: give how long a download link works, from 1s to 24h"},
		{[]string{"--download-link-ttl", "48h"}, "--download-link-ttl 48h0m0s: give how long a download link works"},
		{[]string{"--max-download-links", "-1"}, "--max-download-links -1: give how many unused download links the server keeps, at least 1"},
		{[]string{"--max-download-links-per-user", "0"}, "--max-download-links-per-user 0: give how many unused download links one user may hold, at least 1"},
	} {
		auth := filepath.Join(root, "auth")
		args := append([]string{"serve", "--http-bind", "127.0.0.1:0", "--auth-dir", auth,
			"--config-dir", filepath.Join(root, "config"), "--log-dir", filepath.Join(root, "logs")}, tt.flags...)
		r := runFlowg(t, "", args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("flowg %s: want exit %d and %q in stderr, got\n%s", strings.Join(args, " "), exitUsage, tt.want, r)
		}
		if _, err := os.Stat(auth); !os.IsNotExist(err) {
			t.Fatalf("flowg %s created %s: %v", strings.Join(args, " "), auth, err)
		}
	}
}
