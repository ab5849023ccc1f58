//go:build unix

package httpapi

import "syscall"

// openNoFollow are the flags that open a file of the restore directory
// without following a symbolic link at its name, nor blocking on a FIFO.
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
