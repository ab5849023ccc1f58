//go:build unix

package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCatalog_FIFOInPlaceOfAManifestBlocksNothing: someone who can write in
// --backup-dir replaces a set's manifest.json with a FIFO. Listing the
// catalog with curl answers at once, with the set incomplete and the reason,
// and a new backup is still taken: nothing waits on the FIFO.
func TestCatalog_FIFOInPlaceOfAManifestBlocksNothing(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	var planted catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &planted)
	manifest := filepath.Join(dirs.backups, planted.ID, "manifest.json")
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(manifest, 0o600); err != nil {
		t.Fatal(err)
	}

	curl := func(method, path string) []byte {
		t.Helper()
		out := filepath.Join(dirs.client, "answer")
		os.Remove(out)
		start := time.Now()
		r := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "--max-time", "10",
			"-X", method, "-H", "Authorization: "+root, "--output", out, "--write-out", "%{http_code}", s.url+path)
		if r.code != 0 {
			t.Fatalf("%s %s with a FIFO in place of a manifest: curl gave up after %s:\n%s", method, path, time.Since(start).Round(time.Millisecond), r)
		}
		if want := map[string]string{http.MethodGet: "200", http.MethodPost: "201"}[method]; r.stdout != want {
			t.Fatalf("%s %s answered %s, want %s:\n%s", method, path, r.stdout, want, readFile(t, out))
		}
		return readFile(t, out)
	}
	var list struct {
		Backups []catSet `json:"backups"`
	}
	if err := json.Unmarshal(curl(http.MethodGet, "/api/v1/backups"), &list); err != nil {
		t.Fatal(err)
	}
	got := findCatSet(t, list.Backups, planted.ID)
	if got.Label != "incomplete" || !strings.Contains(got.Problem, "special file") {
		t.Fatalf("the set with a FIFO for manifest is listed %+v, want incomplete, saying a special file is in its place", got)
	}
	curl(http.MethodPost, "/api/v1/backups")
}
