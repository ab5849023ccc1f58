package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the name of a database's file in a backup directory: auth.db,
// config.db and log.db (the name the FlowG documentation uses).
func FileName(db string) string {
	if db == "logs" {
		return "log.db"
	}
	return db + ".db"
}

// altFileNames are other names restore accepts: the online download saves
// the logs database as logs.db.
var altFileNames = map[string][]string{"logs": {"logs.db"}}

// FindFile returns the path of db's file in dir, trying FileName first and
// then the other accepted names. A missing file wraps ErrMissingFile; a
// missing dir matches ErrNoBackupDir too.
func FindFile(dir, db string) (string, error) {
	if st, err := os.Stat(dir); err != nil {
		return "", noBackupDirError{dir}
	} else if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is a file, not a backup directory (give the directory that holds auth.db, config.db and log.db)", ErrMissingFile, dir)
	}
	names := append([]string{FileName(db)}, altFileNames[db]...)
	for _, name := range names {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: %s has no %s", ErrMissingFile, dir, strings.Join(names, " or "))
}

// FoundFiles returns the paths of every file in dir that db's backup may
// be under (see FindFile), so that a caller can refuse to guess between
// two: log.db, which `flowg admin backup` writes, and logs.db, which the
// online download saves.
func FoundFiles(dir, db string) []string {
	var found []string
	for _, name := range append([]string{FileName(db)}, altFileNames[db]...) {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			found = append(found, path)
		}
	}
	return found
}

// hashingFile is a file being written with a running SHA-256 of its bytes.
type hashingFile struct {
	f   *os.File
	sum hash.Hash
	n   int64
	w   io.Writer
}

// createTemp creates a 0600 temporary file in dir for a file that will be
// renamed to name once complete.
func createTemp(dir, name string) (*hashingFile, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Join(dir, name), err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", filepath.Join(dir, name), err)
	}
	hf := &hashingFile{f: f, sum: sha256.New()}
	hf.w = io.MultiWriter(f, hf.sum)
	return hf, nil
}

func (h *hashingFile) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.n += int64(n)
	return n, err
}

// finish fsyncs and closes the file, returning its SHA-256 in hex.
func (h *hashingFile) finish() (string, error) {
	err := h.f.Sync()
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", h.f.Name(), err)
	}
	return hex.EncodeToString(h.sum.Sum(nil)), nil
}

// abandon closes and removes an unfinished file.
func (h *hashingFile) abandon() {
	h.f.Close()
	os.Remove(h.f.Name())
}

// FileSHA256 returns the SHA-256 of the file at path, in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: %s", ErrMissingFile, path)
		}
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hexDigest is the SHA-256 of what was written to h so far, in hex.
func hexDigest(h *hashingFile) string { return hex.EncodeToString(h.sum.Sum(nil)) }
