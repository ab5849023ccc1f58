package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServer_ClientCommandsBackUpAndRestore drives the client commands end to
// end: a token from `flowg admin token create` while the server is stopped
// (refused while it runs, since the server holds the auth database), `flowg
// login` printing a JWT, `flowg backup` writing a directory that `flowg admin
// verify` accepts, and `flowg restore` merging, then with --wipe restoring
// exactly the backup; a damaged file makes `flowg restore` upload nothing.
func TestServer_ClientCommandsBackUpAndRestore(t *testing.T) {
	requirePrograms(t, "bash")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs) // creates root
	r := flowg(t, dirs.root, "admin", "token", "create", "--auth-dir", dirs.auth, "--user", "root")
	if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "in use by another process") {
		t.Fatalf("admin token create while the server runs: want a non-zero exit, no token and a message that the database is in use:\n%s", r)
	}
	s.stop(t)
	token := strings.TrimSpace(mustFlowg(t, dirs.root, "admin", "token", "create", "--auth-dir", dirs.auth, "--user", "root").stdout)
	s = startServer(t, dirs)
	pat := "Bearer pat:" + token

	login := func(password string) result {
		return command(t, dirs.client, time.Minute, "bash", "-c",
			fmt.Sprintf("printf '%%s\\n' %q | %q login --server %q --username root --password-stdin", password, flowgBin, s.url))
	}
	r = login(serverRootPassword)
	jwt := strings.TrimSpace(r.stdout)
	if r.code != 0 || strings.Count(jwt, ".") != 2 || strings.ContainsAny(jwt, " \n") {
		t.Fatalf("flowg login: want exit 0 and only a JWT on stdout:\n%s", r)
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/users", "Bearer jwt:"+jwt, nil)
	if r := login("wrong password"); r.code == 0 || r.stdout != "" {
		t.Fatalf("flowg login with a wrong password: want a non-zero exit and nothing on stdout:\n%s", r)
	}

	writeBaseData(t, s, pat)
	base := s.readEverything(t, pat)
	bk := filepath.Join(dirs.client, "backup")
	mustFlowg(t, dirs.client, "backup", "--server", s.url, "--token", token, "--backup-dir", bk)
	if got, want := entries(t, bk), []string{"auth.db", "config.db", "log.db", "manifest.json"}; !slices.Equal(got, want) {
		t.Fatalf("flowg backup wrote %v, want %v", got, want)
	}
	mustFlowg(t, dirs.client, "admin", "verify", "--backup-dir", bk)

	// The same with the JWT from flowg login, through FLOWG_TOKEN.
	bkJWT := filepath.Join(dirs.client, "backup-jwt")
	r = command(t, dirs.client, time.Minute, "bash", "-c",
		fmt.Sprintf("FLOWG_TOKEN=%q %q backup --server %q --backup-dir %q", "jwt:"+jwt, flowgBin, s.url, bkJWT))
	if r.code != 0 {
		t.Fatalf("flowg backup with FLOWG_TOKEN=jwt:...: want exit 0:\n%s", r)
	}
	mustFlowg(t, dirs.client, "admin", "verify", "--backup-dir", bkJWT)

	changeAfterBackupAPI(t, s, pat)

	// A damaged file: nothing is uploaded, nothing changes.
	bad := filepath.Join(dirs.client, "damaged")
	copyFile(t, bk, bad)
	logsFile := readFile(t, filepath.Join(bad, "log.db"))
	if err := os.WriteFile(filepath.Join(bad, "log.db"), logsFile[:len(logsFile)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	changed := s.readEverything(t, pat)
	if r := flowg(t, dirs.client, "restore", "--server", s.url, "--token", token, "--backup-dir", bad); r.code == 0 {
		t.Fatalf("flowg restore of a directory with a truncated log.db: want a non-zero exit:\n%s", r)
	}
	requireSameData(t, "after flowg restore refused a damaged directory", changed, s.readEverything(t, pat))

	mustFlowg(t, dirs.client, "restore", "--server", s.url, "--token", token, "--backup-dir", bk)
	requireMerged(t, s, pat, base)
	mustFlowg(t, dirs.client, "restore", "--server", s.url, "--token", token, "--backup-dir", bk, "--wipe")
	requireWiped(t, s, pat, base)
}
