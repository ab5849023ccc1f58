package main

import (
	"os"
	"syscall"
)

// sameDevice reports whether two files are on the same device (a directory
// that is not, beside its parent, is a mount point).
func sameDevice(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev
}
