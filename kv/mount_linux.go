package kv

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// IsMountPoint reports whether dir is the root of a mount, bind mounts
// included (statx STATX_ATTR_MOUNT_ROOT). Where the kernel cannot say
// (before Linux 5.8), a directory on another device than its parent is
// taken for one.
func IsMountPoint(dir string) bool {
	dir = filepath.Clean(dir)
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &stx); err != nil ||
		stx.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	}
	return onOtherDevice(dir)
}
