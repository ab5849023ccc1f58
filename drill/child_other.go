//go:build !linux

package drill

import "syscall"

// childAttr is nil where the kernel cannot signal a child when its parent
// dies: a drill's server then outlives a drill killed with SIGKILL.
func childAttr() *syscall.SysProcAttr { return nil }
