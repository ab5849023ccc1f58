//go:build unix

package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openInSet opens a file of set id for reading without following a
// symbolic link, whether one stands in place of the file or of the set's
// directory: a link planted in the catalog must not let a listing,
// download, verify or restore read a file flowg never wrote (the server's
// own key, /etc/shadow, another set's file). A special file (a FIFO, a
// device) is refused too, without blocking on it. Both are
// ErrNotRegularFile; a missing file is os.ErrNotExist.
func (s localStore) openInSet(id, file string) (*os.File, os.FileInfo, error) {
	dir := filepath.Join(s.dir, id)
	path := filepath.Join(dir, filepath.Base(file))
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, notFollowed(dir, err)
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, filepath.Base(file), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, notFollowed(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w", path, ErrNotRegularFile)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// notFollowed is the error of an open of path with O_NOFOLLOW: a link in
// the way is ErrNotRegularFile.
func notFollowed(path string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%s: %w", path, ErrNotRegularFile)
	}
	return &os.PathError{Op: "open", Path: path, Err: err}
}

// openRegularFile opens path for reading without following a symbolic
// link in its last element and without blocking on a FIFO; anything but a
// regular file is ErrNotRegularFile, a missing file os.ErrNotExist.
func openRegularFile(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, notFollowed(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w", path, ErrNotRegularFile)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
