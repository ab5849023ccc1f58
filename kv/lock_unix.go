//go:build unix

package kv

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// lockDir opens dir and takes a flock on it without waiting, shared or
// exclusive, as Badger does on every Unix; closing the result releases it.
func lockDir(dir string, exclusive bool) (io.Closer, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, lockError(dir, err)
	}
	if err := lockFile(f, exclusive); err != nil {
		f.Close()
		return nil, lockError(dir, err)
	}
	return f, nil
}

// lockFile takes a flock on f without waiting; errWouldBlock when another
// open file description holds a conflicting one. Closing f releases it.
func lockFile(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errWouldBlock
	}
	return err
}
