package kv

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// lockDir is the Windows fallback of the directory lock. Windows cannot
// lock a directory, and a directory in which a file is open cannot be
// renamed, so the lock is a LockFileEx range lock on a file beside dir,
// <dir>.lock (0600, left in place), taken without waiting; closing the result
// releases it. It keeps other flowg processes out. Badger's own lock (its
// LOCK file inside dir, opened with no sharing) is probed once when the lock
// is taken, so a running server is refused; a Badger program that starts
// afterwards is not held off, unlike on Unix.
func lockDir(dir string, exclusive bool) (io.Closer, error) {
	dir = filepath.Clean(dir)
	f, err := os.OpenFile(dir+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, lockError(dir, err)
	}
	if err := lockFile(f, exclusive); err != nil {
		f.Close()
		return nil, lockError(dir, err)
	}
	if err := probeBadgerLock(dir); err != nil {
		f.Close()
		return nil, lockError(dir, err)
	}
	return f, nil
}

// probeBadgerLock reports errWouldBlock when a Badger process holds the
// LOCK file of dir, which it opens with no sharing.
func probeBadgerLock(dir string) error {
	l, err := os.Open(filepath.Join(dir, "LOCK"))
	switch {
	case err == nil:
		return l.Close()
	case errors.Is(err, os.ErrNotExist):
		return nil
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION):
		return errWouldBlock
	}
	return err
}

// lockFile takes a lock on the first byte of f without waiting;
// errWouldBlock when another handle holds a conflicting one. Closing f
// releases it.
func lockFile(f *os.File, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errWouldBlock
	}
	return err
}
