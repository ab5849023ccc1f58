package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCatalog_DownloadRefusesASymlinkPlantedInASet: someone who can write
// in --backup-dir replaces a set's files with symbolic links — to a secret
// of the server's (of the file's size), to a copy of the very file — and
// the whole set directory with a link to another set. A download with curl
// follows none of them: the set is listed incomplete, its download refused
// with a JSON error that says why, and nothing of the link's target is sent.
func TestCatalog_DownloadRefusesASymlinkPlantedInASet(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "one"})
	var first, second catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &first)
	time.Sleep(1100 * time.Millisecond) // set ids are made of the time, to the second
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &second)

	// The secret has the size the manifest gives auth.db, and the file
	// config.db links to is a copy of the set's own: a size check cannot tell.
	secret := filepath.Join(dirs.root, "server-secret")
	padded := []byte(strings.Repeat("SECRET-THE-SERVER-KEEPS ", int(first.Databases["auth"].Bytes)/24+1)[:first.Databases["auth"].Bytes])
	if err := os.WriteFile(secret, padded, 0o600); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dirs.backups, first.ID)
	authFile, configFile := filepath.Join(set, first.Databases["auth"].File), filepath.Join(set, first.Databases["config"].File)
	keptAuth, copiedConfig := filepath.Join(dirs.root, "kept-auth.db"), filepath.Join(dirs.root, "copied-config.db")
	if err := os.Rename(authFile, keptAuth); err != nil {
		t.Fatal(err)
	}
	copyFile(t, configFile, copiedConfig)
	plant := func(link, target string) {
		t.Helper()
		if err := os.RemoveAll(link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	plant(authFile, secret)
	plant(configFile, copiedConfig)

	curlGet := func(path string) (string, []byte) {
		t.Helper()
		out := filepath.Join(dirs.client, "download")
		os.Remove(out)
		r := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "-H", "Authorization: "+root,
			"--output", out, "--write-out", "%{http_code}", s.url+path)
		if r.code != 0 {
			t.Fatalf("curl failed:\n%s", r)
		}
		return r.stdout, readFile(t, out)
	}
	// The set is listed incomplete, saying why, and its download refused.
	refused := func(what, path string, status int, wants ...string) {
		t.Helper()
		code, body := curlGet(path)
		if code != fmt.Sprint(status) {
			t.Fatalf("%s: GET %s answered %s, want %d (refused):\n%s", what, path, code, status, body)
		}
		if strings.Contains(string(body), "SECRET") {
			t.Fatalf("%s: GET %s sent the link's target:\n%s", what, path, body)
		}
		r := reply{method: http.MethodGet, path: path, status: status, body: body}
		msg, _ := r.errorBody(t)
		requireContains(t, what+": error", msg, wants...)
	}
	refused("a link to a secret in place of auth.db", "/api/v1/backups/"+first.ID+"/auth", http.StatusConflict,
		"cannot be downloaded", "auth.db cannot be read", "not a regular file", "symbolic link")
	listed := findCatSet(t, catSets(t, s, root), first.ID)
	if listed.Label != "incomplete" || !strings.Contains(listed.Problem, "symbolic link") {
		t.Fatalf("the set with links planted is listed %s, want incomplete with the link named", listed)
	}
	// With its own auth.db back, the next file is looked at.
	if err := os.Remove(authFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keptAuth, authFile); err != nil {
		t.Fatal(err)
	}
	refused("a link to a copy of the set's own config.db", "/api/v1/backups/"+first.ID+"/config", http.StatusConflict,
		"config.db cannot be read", "not a regular file", "symbolic link")

	// A link in place of the whole set directory, to another set: the set
	// is not found.
	if err := os.Rename(set, set+"-moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dirs.backups, second.ID), set); err != nil {
		t.Fatal(err)
	}
	refused("a link in place of the set directory", "/api/v1/backups/"+first.ID+"/logs", http.StatusNotFound, "not found")
}
