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
// of the server's, to a valid backup file of another set, and the whole set
// directory with a link to another set. A download with curl follows none of
// them: it is refused with a JSON error that says why, and sends nothing of
// the link's target; the untouched file of the set still downloads.
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

	// The secret has the size the manifest gives auth.db, and the other
	// set's config.db the size of this one's: a size check cannot tell.
	secret := filepath.Join(dirs.root, "server-secret")
	padded := []byte(strings.Repeat("SECRET-THE-SERVER-KEEPS ", int(first.Databases["auth"].Bytes)/24+1)[:first.Databases["auth"].Bytes])
	if err := os.WriteFile(secret, padded, 0o600); err != nil {
		t.Fatal(err)
	}
	if first.Databases["config"].Bytes != second.Databases["config"].Bytes {
		t.Fatalf("the two sets' config.db differ in size (%d, %d bytes); the test needs two of one size",
			first.Databases["config"].Bytes, second.Databases["config"].Bytes)
	}
	plant := func(link, target string) {
		t.Helper()
		if err := os.RemoveAll(link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	set := filepath.Join(dirs.backups, first.ID)
	plant(filepath.Join(set, first.Databases["auth"].File), secret)
	plant(filepath.Join(set, first.Databases["config"].File), filepath.Join(dirs.backups, second.ID, second.Databases["config"].File))

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
	// With a regular auth.db again, the next file is looked at.
	if err := os.Remove(filepath.Join(set, first.Databases["auth"].File)); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(dirs.backups, second.ID, second.Databases["auth"].File), filepath.Join(set, first.Databases["auth"].File))
	refused("a link to another set's valid config.db", "/api/v1/backups/"+first.ID+"/config", http.StatusConflict,
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
