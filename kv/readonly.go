package kv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// Snapshot is a database opened for reading only, for an offline backup.
type Snapshot struct {
	DB *badger.DB
	// Note says how the database was read when it was not read in place.
	Note    string
	scratch string
}

// OpenSnapshot opens the database in dir without ever writing to dir. A
// database left by a crash, which Badger refuses to open read-only, is copied
// to a scratch directory under tmpDir (os.TempDir() when empty) and opened
// there, where Badger may replay its log; Note then says so. The directory is
// held with a shared lock while it is copied, as a read-only open holds it.
// Close releases the database and removes any scratch copy.
func OpenSnapshot(dir, tmpDir string) (*Snapshot, error) {
	db, err := Open(dir, OpenOptions{ReadOnly: true})
	if err == nil {
		return &Snapshot{DB: db}, nil
	}
	if !errors.Is(err, ErrNotClosedCleanly) {
		return nil, err
	}
	beforeCrashCopy(dir)
	// Hold the directory as Badger's read-only open would have: a server
	// starting now must not write while its files are copied.
	lock, err := lockDir(dir, false)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	scratch, err := os.MkdirTemp(tmpDir, "flowg-replay-")
	if err != nil {
		return nil, fmt.Errorf("copy %s for replay: %w", dir, err)
	}
	if err := CopyDir(dir, scratch); err != nil {
		os.RemoveAll(scratch)
		return nil, fmt.Errorf("copy %s for replay: %w", dir, err)
	}
	db, err = Open(scratch, OpenOptions{})
	if err != nil {
		os.RemoveAll(scratch)
		return nil, fmt.Errorf("replay %s: %w", dir, err)
	}
	return &Snapshot{
		DB:      db,
		scratch: scratch,
		Note:    fmt.Sprintf("%s was not closed cleanly; it was read from a scratch copy where its log was replayed (%s itself was not written)", dir, dir),
	}, nil
}

// beforeCrashCopy runs between the refused read-only open and the lock of
// the scratch copy; tests use it to start a writer in that window.
var beforeCrashCopy = func(dir string) {}

// Close closes the database and removes its scratch copy, if any.
func (s *Snapshot) Close() error {
	err := s.DB.Close()
	if s.scratch != "" {
		os.RemoveAll(s.scratch)
	}
	return err
}

// CopyDir copies the regular files of a Badger directory (it has no
// subdirectories) into dst, created 0700 if needed, skipping the lock file
// and keeping sparse files sparse. The database must not be written to
// meanwhile.
func CopyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies src to dst, leaving holes where src has blocks of zeros:
// Badger preallocates its log files sparsely, and a dense copy of a crash
// image would take far more disk than the original.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(0o600))
	if err != nil {
		return err
	}
	var size int64
	buf := make([]byte, 64<<10)
	for {
		n, rerr := io.ReadFull(in, buf)
		if n > 0 {
			if allZero(buf[:n]) {
				_, err = out.Seek(int64(n), io.SeekCurrent)
			} else {
				_, err = out.Write(buf[:n])
			}
			if err != nil {
				out.Close()
				return err
			}
			size += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			out.Close()
			return rerr
		}
	}
	if err := out.Truncate(size); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
