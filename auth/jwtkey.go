package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flowg-backup/flowg/kv"
)

// The HS256 signing key of the JWTs lives in a file of its own, never in a
// database: a backup, a download or a catalog set of the auth database must
// hold nothing from which a token can be minted.

// JWTKeySize is the size of the HS256 signing key, in bytes. The key file
// holds it as 64 hex digits and a newline.
const JWTKeySize = 32

// DefaultJWTKeyFile is where the signing key of the auth database in
// authDir lives unless told otherwise: the sibling file <authDir>.jwt-key,
// outside every database directory, so that a wipe restore, which swaps the
// directory, leaves it in place.
func DefaultJWTKeyFile(authDir string) string {
	return filepath.Clean(authDir) + ".jwt-key"
}

// ErrBadKeyFile is returned by LoadOrCreateJWTKey for a key file that
// exists but cannot be used: not a regular file, readable by group or
// others, not 64 hex digits, or (on unix) owned by another user, with more
// than one hard link, or in a directory group or others may write. The
// message says what to do.
var ErrBadKeyFile = errors.New("unusable jwt key file")

// LoadOrCreateJWTKey returns the signing key kept in path. If there is no
// file, it creates one (0600, its missing parent directories 0700) holding
// a new random key, written crash-safely, and returns created true. A file
// that exists but is a symbolic link, is readable or writable by group or
// others, does not hold exactly one key, or (on unix) is owned by another
// user than the server's effective one, has more than one hard link, or
// sits in a directory writable by group or others without the sticky bit
// gives an error wrapping
// ErrBadKeyFile and is left as it is. The key itself is never part of an
// error.
func LoadOrCreateJWTKey(path string) (key []byte, created bool, err error) {
	key, err = readJWTKeyFile(path)
	if !errors.Is(err, os.ErrNotExist) {
		return key, false, err
	}
	if err := createJWTKeyFile(path); err != nil {
		if errors.Is(err, os.ErrExist) { // created meanwhile by another process
			key, err = readJWTKeyFile(path)
			return key, false, err
		}
		return nil, false, err
	}
	key, err = readJWTKeyFile(path)
	return key, err == nil, err
}

// readJWTKeyFile reads and checks the key file; os.ErrNotExist if there is
// none.
func readJWTKeyFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow|openNonBlock, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%w: %s is a symbolic link; give the real file with --jwt-key-file", ErrBadKeyFile, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open jwt key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat jwt key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrBadKeyFile, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is accessible to group or others (mode %04o); whoever reads it can sign tokens as any user: run `chmod 600 %s`",
			ErrBadKeyFile, path, perm, path)
	}
	if err := checkKeyFileHolder(path, st, os.Geteuid()); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(f, 4*JWTKeySize))
	if err != nil {
		return nil, fmt.Errorf("read jwt key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSuffix(string(raw), "\n"))
	if err != nil || len(key) != JWTKeySize || allZero(key) {
		return nil, fmt.Errorf("%w: %s does not hold one key (%d hex digits and a newline); "+
			"restore the file from where you keep it, or delete it to have a new key made at the next start (every JWT issued so far then stops working)",
			ErrBadKeyFile, path, 2*JWTKeySize)
	}
	return key, nil
}

// createJWTKeyFile writes a new random key to path: to a temporary file in
// the same directory, synced, then linked to path (which fails with
// os.ErrExist if path appeared meanwhile), and the directory synced.
func createJWTKeyFile(path string) error {
	dir := filepath.Dir(path)
	if _, err := kv.MakeDirs(dir); err != nil {
		return fmt.Errorf("create the directory of the jwt key file: %w", err)
	}
	key := make([]byte, JWTKeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("read random jwt key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create jwt key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600.
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write jwt key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("create jwt key file: %w", err)
	}
	// Drop the temporary name at once: a key file with a second link is refused.
	if err := os.Remove(tmp.Name()); err != nil {
		return fmt.Errorf("create jwt key file: %w", err)
	}
	if err := kv.SyncDir(dir); err != nil {
		return fmt.Errorf("sync the directory of the jwt key file: %w", err)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
