package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestClientBackup_FailedRunRemovesOnlyTheDirectoryItCreated runs `flowg
// backup` so that it fails: against a port where no server listens, with a
// token the server does not know, and with a token lacking read_acls. A
// --backup-dir the run created (with its missing parents) is removed again,
// and the error's safe line says so; a directory that existed before, empty
// or holding an earlier backup, stays as it was, and so does the parent the
// run found.
func TestClientBackup_FailedRunRemovesOnlyTheDirectoryItCreated(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	streamsOnly := s.createToken(t, root, "", "read_streams")
	rootToken := s.createToken(t, root, "")
	down := "http://" + freeLoopbackAddr(t) // nothing listens there

	earlier := filepath.Join(dirs.client, "earlier")
	mustFlowg(t, dirs.client, "backup", "--server", s.url, "--token", rootToken.Token, "--backup-dir", earlier)
	earlierFiles := fingerprint(t, earlier)
	if earlierFiles == "" {
		t.Fatalf("the successful flowg backup left %s empty", earlier)
	}
	empty := filepath.Join(dirs.client, "empty")
	if err := os.Mkdir(empty, 0o750); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		server  string
		token   string
		dir     string // --backup-dir, relative to dirs.client
		gone    string // what the run must have removed, relative to dirs.client; "" for nothing
		stderr  string // in the error
		removed bool   // the safe line says a directory was removed
	}{
		{name: "no server, a new directory", server: down, token: rootToken.Token, dir: "new", gone: "new",
			stderr: "connection refused", removed: true},
		{name: "no server, new parents too", server: down, token: rootToken.Token, dir: filepath.Join("a", "b", "c"), gone: "a",
			stderr: "connection refused", removed: true},
		{name: "an unknown token, a new directory", server: s.url, token: "pat:0123456789abcdef_" + strings.Repeat("ab", 32), dir: "unknown-token", gone: "unknown-token",
			stderr: "unknown token", removed: true},
		{name: "a token without read_acls, a new directory", server: s.url, token: streamsOnly.Token, dir: "no-acls", gone: "no-acls",
			stderr: "read_acls", removed: true},
		{name: "no server, an empty directory that existed", server: down, token: rootToken.Token, dir: "empty",
			stderr: "connection refused"},
		{name: "an unknown token, an earlier backup", server: s.url, token: "pat:0123456789abcdef_" + strings.Repeat("cd", 32), dir: "earlier",
			stderr: "unknown token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := entries(t, dirs.client)
			r := flowg(t, dirs.client, "backup", "--server", tt.server, "--token", tt.token, "--backup-dir", tt.dir)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("want exit 1, no stdout and an error with %q, got\n%s", tt.stderr, r)
			}
			safe := lineAfter(r.stderr, "safe:")
			if says := strings.Contains(safe, "which this run had created, was removed again"); says != tt.removed {
				t.Errorf("the safe line %q says a created directory was removed: %v, want %v\n%s", safe, says, tt.removed, r)
			}
			if tt.gone != "" {
				if _, err := os.Lstat(filepath.Join(dirs.client, tt.gone)); !os.IsNotExist(err) {
					t.Errorf("%s, created by the failed run, is still there (%v)", tt.gone, err)
				}
			}
			if after := entries(t, dirs.client); !slices.Equal(before, after) {
				t.Errorf("the entries of %s went from %v to %v, want them unchanged", dirs.client, before, after)
			}
		})
	}

	// The directories that existed before are as they were.
	if st, err := os.Stat(empty); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 || len(entries(t, empty)) != 0 {
		t.Errorf("the empty directory that existed before: %v, %v; want it kept, empty, 0750", st, err)
	}
	if got := fingerprint(t, earlier); got != earlierFiles {
		t.Errorf("the earlier backup changed:\n%s\nwant\n%s", got, earlierFiles)
	}
	if _, err := os.Stat(dirs.client); err != nil {
		t.Errorf("the parent the runs found is gone: %v", err)
	}
}
