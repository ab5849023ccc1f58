package main

import "testing"

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
		requireServeUsageError(t, root, tt.flags, tt.want)
	}
}
