//go:build unix

package auth

import "syscall"

// openNoFollow makes the key file's open fail with ELOOP when a symbolic
// link stands in its place.
const openNoFollow = syscall.O_NOFOLLOW
