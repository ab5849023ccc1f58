//go:build unix && !linux

package kv

import "path/filepath"

// IsMountPoint reports whether dir is the root of a mount: a directory on
// another device than its parent. A bind mount (nullfs) of a directory of
// the same file system is not seen; its swap then fails with an error that
// leaves target as it was.
func IsMountPoint(dir string) bool {
	return onOtherDevice(filepath.Clean(dir))
}
