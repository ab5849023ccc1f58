package integration

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill cmd if the test binary dies
// first (a panic, a -timeout), so no MinIO server outlives the tests.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
