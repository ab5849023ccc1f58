package kv

import (
	"errors"
	"fmt"
)

// LockDir takes the lock Badger takes on a database's directory (an
// exclusive flock on the directory itself), so that no other process — a
// flowg server, a second restore, any Badger program — opens the database
// while a restore works on it. A database opened meanwhile by the holder
// itself must be opened with OpenOptions.Locked. After a swap (SwapDir) the
// lock stays with the previous directory, and the new one is free. On
// Windows the lock is taken on a file beside the directory instead (see
// lock_windows.go).
//
// A swap of dir that a crash interrupted is first undone (RecoverSwap). A
// dir that does not exist is then created empty, with any missing parents,
// to be locked; unlock removes what it created again if it is still empty.
// Another process holding dir is ErrLocked.
func LockDir(dir string) (unlock func(), err error) {
	if err := RecoverSwap(dir); err != nil {
		return nil, err
	}
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
	l, err := lockDir(dir, true)
	if err != nil {
		removeCreated()
		return nil, err
	}
	return func() {
		removeCreated() // while still held, so no one opens what is removed
		l.Close()
	}, nil
}

// errWouldBlock is returned by lockFile when another process holds the lock.
var errWouldBlock = errors.New("lock held by another process")

// lockError words an error of lockFile for dir, mapping a lock held
// elsewhere to ErrLocked.
func lockError(dir string, err error) error {
	if errors.Is(err, errWouldBlock) {
		return fmt.Errorf("lock %s: %w", dir, ErrLocked)
	}
	return fmt.Errorf("lock %s: %w", dir, err)
}
