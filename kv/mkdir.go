package kv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MakeDirs creates dir and its missing parents (0700), as os.MkdirAll
// does, one level at a time so that it knows which it created: it returns
// them deepest first, also with an error for those it created before it.
// A level that appears meanwhile is not counted as created.
func MakeDirs(dir string) ([]string, error) {
	var missing []string // deepest first
	for d := filepath.Clean(dir); ; {
		if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o700)
		switch {
		case err == nil:
			created = append([]string{missing[i]}, created...)
		case !errors.Is(err, os.ErrExist):
			return created, err
		}
	}
	// dir may have existed all along as something else than a directory.
	if st, err := os.Stat(dir); err != nil {
		return created, err
	} else if !st.IsDir() {
		return created, fmt.Errorf("%s is not a directory", dir)
	}
	return created, nil
}
