//go:build unix

package integration

import "syscall"

// freezeSignal and thawSignal stop and resume a process without ending it.
var freezeSignal, thawSignal = syscall.SIGSTOP, syscall.SIGCONT
