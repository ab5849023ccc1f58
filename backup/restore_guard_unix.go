//go:build unix

package backup

import "golang.org/x/sys/unix"

// statfsFree is the space an unprivileged user may still write on the file
// system holding dir.
func statfsFree(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
