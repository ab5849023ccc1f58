package auth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

func TestLoadOrCreateJWTKey_CreatesA0600FileOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	path := auth.DefaultJWTKeyFile(filepath.Join(dir, "auth") + "/")
	if want := filepath.Join(dir, "auth.jwt-key"); path != want {
		t.Fatalf("DefaultJWTKeyFile = %s, want the sibling %s", path, want)
	}
	key, created, err := auth.LoadOrCreateJWTKey(path)
	must(t, err)
	if !created || len(key) != auth.JWTKeySize {
		t.Fatalf("created %v, key of %d bytes; want a new key of %d bytes", created, len(key), auth.JWTKeySize)
	}
	st, err := os.Stat(path)
	must(t, err)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	dst, err := os.Stat(dir)
	must(t, err)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("created parent directory mode %04o, want 0700", dst.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the key file (no temporary file left)", len(entries))
	}
	again, created, err := auth.LoadOrCreateJWTKey(path)
	must(t, err)
	if created || !bytes.Equal(again, key) {
		t.Errorf("second call: created %v, same key %v; want the same key read back", created, bytes.Equal(again, key))
	}
}

func TestLoadOrCreateJWTKey_RefusesUnusableFiles(t *testing.T) {
	good := strings.Repeat("ab", auth.JWTKeySize) + "\n"
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{name: "group readable", content: good, mode: 0o640, want: "chmod 600"},
		{name: "world readable", content: good, mode: 0o604, want: "chmod 600"},
		{name: "too short", content: "abcd\n", mode: 0o600, want: "does not hold one key"},
		{name: "not hex", content: strings.Repeat("zz", auth.JWTKeySize) + "\n", mode: 0o600, want: "does not hold one key"},
		{name: "all zero", content: strings.Repeat("00", auth.JWTKeySize) + "\n", mode: 0o600, want: "does not hold one key"},
		{name: "empty", content: "", mode: 0o600, want: "does not hold one key"},
		{name: "two keys", content: good + good, mode: 0o600, want: "does not hold one key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.jwt-key")
			must(t, os.WriteFile(path, []byte(tc.content), 0o600))
			must(t, os.Chmod(path, tc.mode))
			_, _, err := auth.LoadOrCreateJWTKey(path)
			wantErr(t, err, auth.ErrBadKeyFile)
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, tc.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.content {
				t.Error("the refused key file was changed")
			}
		})
	}
	t.Run("symbolic link", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "real")
		must(t, os.WriteFile(target, []byte(good), 0o600))
		path := filepath.Join(dir, "auth.jwt-key")
		must(t, os.Symlink(target, path))
		_, _, err := auth.LoadOrCreateJWTKey(path)
		wantErr(t, err, auth.ErrBadKeyFile)
	})
	t.Run("directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "auth.jwt-key")
		must(t, os.Mkdir(path, 0o700))
		_, _, err := auth.LoadOrCreateJWTKey(path)
		wantErr(t, err, auth.ErrBadKeyFile)
	})
}
