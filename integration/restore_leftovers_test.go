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
