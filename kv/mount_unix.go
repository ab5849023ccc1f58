//go:build unix

package kv

import (
	"os"
	"path/filepath"
	"syscall"
)

// onOtherDevice reports whether the directory dir lies on another device
// than its parent, which makes it a mount point (a bind mount of a
// directory of the same file system is not seen this way).
func onOtherDevice(dir string) bool {
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() {
		return false
	}
	parent, err := os.Stat(filepath.Dir(dir))
	if err != nil {
		return false
	}
	a, okA := st.Sys().(*syscall.Stat_t)
	b, okB := parent.Sys().(*syscall.Stat_t)
	return okA && okB && a.Dev != b.Dev
}
