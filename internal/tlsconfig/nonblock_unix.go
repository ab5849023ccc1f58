//go:build unix

package tlsconfig

import "syscall"

// openNonBlock keeps the open of a certificate or key file from waiting on
// a FIFO planted in its place; the file is then refused as not a regular
// file.
const openNonBlock = syscall.O_NONBLOCK
