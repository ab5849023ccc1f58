package auth

import "os"

// openNonBlock is empty on Windows: a named pipe is not opened by path
// here, and the file's mode is checked to be a regular file once opened.
const openNonBlock = 0

// checkKeyFileHolder checks nothing on Windows, where the key file's
// protection is its ACL, set by whoever installs flowg.
func checkKeyFileHolder(string, os.FileInfo, int) error { return nil }
