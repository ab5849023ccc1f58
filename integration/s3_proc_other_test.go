//go:build !linux

package integration

import "os/exec"

// setParentDeathSignal does nothing where the kernel has no parent death
// signal: the test's cleanup stops the server.
func setParentDeathSignal(*exec.Cmd) {}
