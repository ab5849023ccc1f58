package backup

import (
	"fmt"
	"os"
	"path/filepath"
)

// openInSet opens a file of set id for reading. Windows has no O_NOFOLLOW:
// the set's directory and the file are checked with Lstat first and the
// opened file must be the one checked (os.SameFile), so a link or special
// file planted in the catalog is ErrNotRegularFile here too; a link swapped
// in between the check and the open is caught by the SameFile comparison.
// A missing file is os.ErrNotExist.
func (s localStore) openInSet(id, file string) (*os.File, os.FileInfo, error) {
	dir := filepath.Join(s.dir, id)
	path := filepath.Join(dir, filepath.Base(file))
	if st, err := os.Lstat(dir); err != nil {
		return nil, nil, err
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s: %w", dir, ErrNotRegularFile)
	}
	f, err := openRegularFile(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// openRegularFile opens path for reading; a link or special file in its
// place, or swapped in between the Lstat and the open (os.SameFile), is
// ErrNotRegularFile, a missing file os.ErrNotExist.
func openRegularFile(path string) (*os.File, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegularFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && (!st.Mode().IsRegular() || !os.SameFile(before, st)) {
		err = fmt.Errorf("%s: %w", path, ErrNotRegularFile)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
