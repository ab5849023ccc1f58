//go:build unix

package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/auth"
)

// A key file someone else could replace or keep a copy of is refused with
// what to run: in a directory others may write, or with a second hard link.
func TestLoadOrCreateJWTKey_RefusesAKeyOthersCanReplace(t *testing.T) {
	good := strings.Repeat("ab", auth.JWTKeySize) + "\n"
	t.Run("directory writable by others", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ww")
		must(t, os.Mkdir(dir, 0o700))
		path := filepath.Join(dir, "k5.key")
		must(t, os.WriteFile(path, []byte(good), 0o600))
		must(t, os.Chmod(dir, 0o777))
		_, _, err := auth.LoadOrCreateJWTKey(path)
		wantErr(t, err, auth.ErrBadKeyFile)
		if !strings.Contains(err.Error(), "chmod go-w "+dir) {
			t.Errorf("error %q, want it to say `chmod go-w %s`", err, dir)
		}
		// The sticky bit (as on /tmp) stops others from replacing the file.
		must(t, os.Chmod(dir, 0o777|os.ModeSticky))
		if _, _, err := auth.LoadOrCreateJWTKey(path); err != nil {
			t.Errorf("key in a sticky world-writable directory: %v, want it accepted", err)
		}
		must(t, os.Chmod(dir, 0o755))
		if _, _, err := auth.LoadOrCreateJWTKey(path); err != nil {
			t.Errorf("key in a 0755 directory: %v, want it accepted", err)
		}
	})
	t.Run("no key is created in a directory writable by others", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ww")
		must(t, os.Mkdir(dir, 0o700))
		must(t, os.Chmod(dir, 0o777))
		_, _, err := auth.LoadOrCreateJWTKey(filepath.Join(dir, "new.key"))
		wantErr(t, err, auth.ErrBadKeyFile)
	})
	t.Run("hard link in a database directory", func(t *testing.T) {
		root := t.TempDir()
		path := filepath.Join(root, "auth.jwt-key")
		must(t, os.WriteFile(path, []byte(good), 0o600))
		must(t, os.Mkdir(filepath.Join(root, "auth"), 0o700))
		must(t, os.Link(path, filepath.Join(root, "auth", "copy")))
		_, _, err := auth.LoadOrCreateJWTKey(path)
		wantErr(t, err, auth.ErrBadKeyFile)
		if !strings.Contains(err.Error(), "2 hard links") || !strings.Contains(err.Error(), "-samefile "+path) {
			t.Errorf("error %q, want it to count 2 hard links and say how to find them", err)
		}
	})
	t.Run("owned by another user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			// Only root can give a file away; the check itself is
			// tested with an injected uid in TestCheckKeyFileHolder_Owner.
			return
		}
		path := filepath.Join(t.TempDir(), "k5.key")
		must(t, os.WriteFile(path, []byte(good), 0o600))
		must(t, os.Chown(path, 65534, 65534)) // nobody
		_, _, err := auth.LoadOrCreateJWTKey(path)
		wantErr(t, err, auth.ErrBadKeyFile)
		if !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), "chown 0 "+path) {
			t.Errorf("error %q, want it to name the owner and say `chown 0 %s`", err, path)
		}
	})
	t.Run("a fifo in place of the key does not block", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "auth.jwt-key")
		must(t, syscall.Mkfifo(path, 0o600))
		done := make(chan error, 1)
		go func() { _, _, err := auth.LoadOrCreateJWTKey(path); done <- err }()
		select {
		case err := <-done:
			wantErr(t, err, auth.ErrBadKeyFile)
		case <-time.After(5 * time.Second):
			t.Fatal("LoadOrCreateJWTKey still waits on a FIFO after 5s")
		}
	})
}
