package kv

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// LockDir takes the lock Badger takes on a database's directory (an
// exclusive flock on the directory itself), so that no other process — a
// flowg server, a second restore, any Badger program — opens the database
// while a restore works on it. A database opened meanwhile by the holder
// itself must be opened with OpenOptions.Locked. After a swap (SwapDir) the
// lock stays with the previous directory, and the new one is free.
//
// A dir that does not exist is created empty, with any missing parents, to be
// locked; unlock removes what it created again if it is still empty. Another
// process holding dir is ErrLocked.
func LockDir(dir string) (unlock func(), err error) {
	created, err := MakeDirs(dir)
	removeCreated := func() {
		for _, d := range created {
			if !removeIfEmptyDir(d) {
				return
			}
		}
	}
	if err != nil {
		removeCreated()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	f, err := flockDir(dir, unix.LOCK_EX)
	if err != nil {
		removeCreated()
		return nil, err
	}
	return func() {
		removeCreated() // while still held, so no one opens what is removed
		f.Close()
	}, nil
}

// flockDir opens dir and takes a flock of kind how on it without waiting.
func flockDir(dir string, how int) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}
