//go:build unix

package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The owner check, for any user: the server's uid is injected, so the case
// runs without root (TestLoadOrCreateJWTKey_RefusesAKeyOthersCanReplace
// chowns a real file when it runs as root).
func TestCheckKeyFileHolder_Owner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k5.key")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	owner := int(st.Sys().(*syscall.Stat_t).Uid)
	if err := checkKeyFileHolder(path, st, owner); err != nil {
		t.Fatalf("a key file of the server's own user: %v, want it accepted", err)
	}
	err = checkKeyFileHolder(path, st, owner+1)
	if !errors.Is(err, ErrBadKeyFile) || !strings.Contains(err.Error(), "is owned by uid") {
		t.Fatalf("a key file of another user: %v, want ErrBadKeyFile naming its owner", err)
	}
}
