package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsage_TyposGetASuggestion: a mistyped command or flag is a usage
// error (exit 2) that names the closest one; a flag that does nothing
// without another says which.
func TestUsage_TyposGetASuggestion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"admin", "restor"}, `unknown command "restor"; did you mean "restore"?`},
		{[]string{"serv"}, `unknown command "serv"; did you mean "serve"?`},
		{[]string{"admin", "backup", "--backup-dri", "x"}, "flag provided but not defined: -backup-dri; did you mean --backup-dir?"},
		{[]string{"admin", "backups", "prune", "--max-ag", "30d"}, "did you mean --max-age?"},
		{[]string{"admin", "backups", "create", "--full-every", "2"}, "--full-every bounds incremental chains: add --incremental"},
	} {
		r := runFlowg(t, "", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("flowg %s: want exit %d and %q in stderr, got\n%s", strings.Join(tt.args, " "), exitUsage, tt.want, r)
		}
	}
}

// TestUsage_OverlappingDatabaseDirectories are refused before anything is
// opened: Badger reported a second open of one directory as "in use by
// another process", and a wipe, which swaps a database's whole directory,
// would carry a database nested in it along (and delete it with
// --discard-previous).
func TestUsage_OverlappingDatabaseDirectories(t *testing.T) {
	root := t.TempDir()
	shared := filepath.Join(root, "db")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(shared, link); err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(root, "backup")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"admin", "restore", "--backup-dir", bk, "--wipe", "--auth-dir", shared, "--config-dir", shared + "/"},
			"--auth-dir " + shared + " and --config-dir " + shared + "/ overlap"},
		{[]string{"admin", "backup", "--backup-dir", bk, "--config-dir", shared, "--log-dir", link},
			"--config-dir " + shared + " and --log-dir " + link + " overlap"},
		{[]string{"admin", "restore", "--backup-dir", bk, "--wipe", "--auth-dir", root, "--log-dir", filepath.Join(link, "logs")},
			"--auth-dir " + root + " and --log-dir " + filepath.Join(link, "logs") + " overlap"},
		{[]string{"serve", "--http-bind", "127.0.0.1:0", "--auth-dir", shared, "--log-dir", shared},
			"--auth-dir " + shared + " and --log-dir " + shared + " overlap"},
	} {
		r := runFlowg(t, "", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "a directory of its own") {
			t.Errorf("flowg %s: want exit %d and %q in stderr, got\n%s", strings.Join(tt.args, " "), exitUsage, tt.want, r)
		}
	}
	if left, _ := os.ReadDir(shared); len(left) > 0 {
		t.Fatalf("a refused command wrote to %s: %v", shared, left)
	}
}
