//go:build unix

package auth

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// openNonBlock keeps the key file's open from waiting on a FIFO planted in
// its place; the file is then refused as not a regular file.
const openNonBlock = syscall.O_NONBLOCK

// checkKeyFileHolder refuses a key file that someone other than the
// server's effective user (euid) could replace or keep a copy of: owned by
// another user, with more than one hard link (another name, say in a
// database directory that a backup copies), or in a directory that group
// or others may write without the sticky bit (they could rename another
// file over it).
func checkKeyFileHolder(path string, st os.FileInfo, euid int) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: cannot tell who owns %s", ErrBadKeyFile, path)
	}
	if int(sys.Uid) != euid {
		return fmt.Errorf("%w: %s is owned by uid %d, not by uid %d that flowg runs as; its owner can replace the key and sign tokens as any user: "+
			"run `chown %d %s` as root, or give a key file of flowg's own user with --jwt-key-file", ErrBadKeyFile, path, sys.Uid, euid, euid, path)
	}
	if sys.Nlink > 1 {
		return fmt.Errorf("%w: %s has %d hard links; another name for the key (in a database or backup directory) can leak or replace it: "+
			"find them with `find / -xdev -samefile %s` and remove all but this one, then start again", ErrBadKeyFile, path, sys.Nlink, path)
	}
	dir := filepath.Dir(path)
	dst, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat the directory of the jwt key file: %w", err)
	}
	if perm := dst.Mode().Perm(); perm&0o022 != 0 && dst.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("%w: the directory %s of the key file is writable by group or others (mode %04o); whoever can write there can put another key in place: "+
			"run `chmod go-w %s`, or keep the key in a directory only flowg's user can write (--jwt-key-file)", ErrBadKeyFile, dir, perm, dir)
	}
	return nil
}
