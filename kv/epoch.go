package kv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// ReservedPrefix starts keys flowg keeps for itself; they are never backed
// up nor restored.
const ReservedPrefix = "!flowg!"

// epochFile, in a database's directory, holds its epoch: a random id given
// when the database is created, and again whenever it is rebuilt from a
// backup (a wipe restore). Badger
// versions are comparable only within one epoch, so an incremental backup is
// taken only if the epoch did not change since its parent. It is a file
// beside Badger's, not a key, so the database holds exactly the backup.
const epochFile = "FLOWG-EPOCH"

// Epoch returns the epoch of the open database db ("" for one in memory, or
// created by an earlier flowg that gave none at creation and never rebuilt).
func Epoch(db *badger.DB) (string, error) {
	dir := db.Opts().Dir
	if dir == "" || db.Opts().InMemory {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Join(dir, epochFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read epoch: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// NewEpoch gives the database in dir a fresh epoch.
func NewEpoch(dir string) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, epochFile), []byte(hex.EncodeToString(b[:])+"\n"), 0o600); err != nil {
		return fmt.Errorf("write epoch: %w", err)
	}
	return nil
}

// CopyEpoch gives the database in dir the epoch of the one in from (or
// none, as from has none): a database rebuilt from another whose versions
// it keeps (a merge rebuilt beside it) goes on in its epoch.
func CopyEpoch(from, dir string) error {
	b, err := os.ReadFile(filepath.Join(from, epochFile))
	if errors.Is(err, os.ErrNotExist) {
		if err := os.Remove(filepath.Join(dir, epochFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("write epoch: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read epoch: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, epochFile), b, 0o600); err != nil {
		return fmt.Errorf("write epoch: %w", err)
	}
	return nil
}
