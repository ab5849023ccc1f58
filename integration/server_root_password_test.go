package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Root's first password without showing it in ps: --root-password-file,
// FLOWG_ROOT_PASSWORD; --root-password still works but warns.

const psWarning = "--root-password is visible to every user of this machine"

func TestServer_RootPasswordFromAFile(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	file := filepath.Join(dirs.root, "root-password")
	const pw = "pw from a file 42"
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An empty --root-password takes back the one startServer gives.
	s := startServer(t, dirs, "--root-password", "", "--root-password-file", file)
	s.login(t, "root", pw)
	r := s.sendJSON(t, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "root", "password": pw + "\n"})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("the line ending was kept in the password: want 401, got:\n%s", r)
	}
	if log := s.log.String(); strings.Contains(log, psWarning) || strings.Contains(log, pw) {
		t.Fatalf("the server log warns about ps or shows the password:\n%s", log)
	}
}

func TestServer_RootPasswordOnTheCommandLineWarns(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	s.login(t, "root", serverRootPassword)
	requireContains(t, "the server's stderr", s.log.String(), psWarning, "--root-password-file", "FLOWG_ROOT_PASSWORD")
	if strings.Contains(s.log.String(), serverRootPassword) {
		t.Fatalf("the server log shows the password")
	}
}
