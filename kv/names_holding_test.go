package kv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirs_Holding(t *testing.T) {
	root := t.TempDir()
	d := Dirs{Auth: filepath.Join(root, "data", "auth"), Config: filepath.Join(root, "data", "config"), Logs: filepath.Join(root, "data", "logs")}
	if err := os.MkdirAll(d.Auth, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(d.Auth, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want Name
	}{
		{filepath.Join(root, "data", "auth.jwt-key"), ""},
		{filepath.Join(root, "data", "authx", "key"), ""},
		{filepath.Join(d.Auth, "key"), Auth},
		{d.Auth + "/", Auth},
		{filepath.Join(d.Logs, "a", "b"), Logs},
		{filepath.Join(link, "key"), Auth},
	} {
		n, ok := d.Holding(tc.path)
		if n != tc.want || ok != (tc.want != "") {
			t.Errorf("Holding(%s) = %q, %v; want %q", tc.path, n, ok, tc.want)
		}
	}
}

func TestStrings_KeepsTheOrder(t *testing.T) {
	if got := Strings([]Name{Logs, Auth}); len(got) != 2 || got[0] != "logs" || got[1] != "auth" {
		t.Fatalf("Strings(logs, auth) = %q, want [logs auth]", got)
	}
	if got := Strings(nil); len(got) != 0 {
		t.Fatalf("Strings(nil) = %q, want none", got)
	}
}
