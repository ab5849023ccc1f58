package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServer_RemovesLeftoversOfInterruptedRestoresAtStart plants what a
// crash during restores leaves (a staged auth upload, a raw stream's
// scratch database, a wipe's unfinished database beside config) and starts
// the server: it removes them, says so in its log, keeps everything else,
// and keeps its staging directory 0700. A second server may not share it.
func TestServer_RemovesLeftoversOfInterruptedRestoresAtStart(t *testing.T) {
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	s.stop(t)
	leftovers := []string{
		filepath.Join(dirs.uploads, "flowg-upload-auth-123.db"),
		filepath.Join(dirs.uploads, "flowg-raw-456"),
		dirs.config + ".restore-staging-20260101T000000Z",
	}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(leftovers[0], []byte("secrets of auth"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range leftovers[1:] {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mine := filepath.Join(dirs.uploads, "notes.txt")
	if err := os.WriteFile(mine, []byte("not a leftover"), 0o600); err != nil {
		t.Fatal(err)
	}

	s = startServer(t, dirs)
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("leftover %s still there after the start (%v)", p, err)
		}
		if !strings.Contains(s.log.String(), "removed what an interrupted restore left behind") || !strings.Contains(s.log.String(), filepath.Base(p)) {
			t.Errorf("the server's log does not say it removed %s", p)
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("%s was removed: %v", mine, err)
	}
	if st, err := os.Stat(dirs.uploads); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("staging directory %s: mode %v (%v), want 0700", dirs.uploads, st.Mode().Perm(), err)
	}

	other := newServerDirs(t)
	r := flowg(t, other.root, "serve", "--auth-dir", other.auth, "--config-dir", other.config, "--log-dir", other.logs,
		"--http-bind", "127.0.0.1:0", "--backup-dir", other.backups, "--upload-dir", dirs.uploads, "--root-password", serverRootPassword)
	if r.code == 0 || !strings.Contains(r.stderr, "--upload-dir") {
		t.Errorf("a second server on the same --upload-dir: want it refused, got\n%s", r)
	}
}

// TestAdminRestore_SafetyCopiesAreBounded wipes config offline twice with
// --max-safety-copies 1: the first wipe keeps the previous directory aside
// (its one safety copy), the second is refused, names that directory and
// changes nothing.
func TestAdminRestore_SafetyCopiesAreBounded(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "config")
	writeDB(t, target, content{"pipelines/p": {Value: "v1"}})
	bk := filepath.Join(root, "backup")
	mustFlowg(t, root, "admin", "backup", "--only", "config", "--config-dir", target, "--backup-dir", bk)
	args := []string{"admin", "restore", "--backup-dir", bk, "--only", "config", "--config-dir", target, "--wipe",
		"--max-safety-copies", "1", "--catalog-dir", filepath.Join(root, "catalog")}
	mustFlowg(t, root, args...)
	aside, _ := filepath.Glob(target + ".before-restore-*")
	if len(aside) != 1 {
		t.Fatalf("after one wipe: set-aside directories %v, want 1", aside)
	}
	before := fingerprint(t, target)
	r := flowg(t, root, args...)
	if r.code != 1 || !strings.Contains(r.stderr, "already has 1 safety copies") || !strings.Contains(r.stderr, aside[0]) ||
		!strings.Contains(r.stderr, "nothing was written") {
		t.Fatalf("a second wipe with --max-safety-copies 1: want exit 1 naming %s, got\n%s", aside[0], r)
	}
	if after := fingerprint(t, target); after != before {
		t.Errorf("the refused wipe changed %s", target)
	}
	if again, _ := filepath.Glob(target + ".before-restore-*"); len(again) != 1 {
		t.Errorf("after the refused wipe: set-aside directories %v, want still 1", again)
	}
}
