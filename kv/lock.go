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
// while a restore rebuilds it beside the directory and swaps it in. After a
// swap the lock stays with the previous directory, and the new one is free.
//
// A dir that does not exist is created empty to be locked; unlock removes it
// again if it is still empty. Another process holding dir is ErrLocked.
func LockDir(dir string) (unlock func(), err error) {
	created := false
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		created = true
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() {
		f.Close()
		if created {
			removeIfEmptyDir(dir)
		}
	}, nil
}
