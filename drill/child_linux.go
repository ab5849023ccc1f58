package drill

import "syscall"

// childAttr makes the kernel send the drill's server SIGTERM when the
// process that started it dies (a flowg server or `flowg admin drill`
// killed with SIGKILL), so no server outlives its drill: it then closes
// its databases and exits; the scratch directory stays.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
