package integration

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childOf returns the pid of a child process of parent, 0 if none.
func childOf(parent int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b)[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(parent) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			return pid
		}
	}
	return 0
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b)[i+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// listenPort returns the port pid listens on over TCP/IPv4, 0 if none yet.
func listenPort(pid int) int {
	links, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/fd/*")
	inodes := map[string]bool{}
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	b, _ := os.ReadFile("/proc/net/tcp")
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && f[3] == "0A" && inodes[f[9]] { // 0A: LISTEN
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseInt(hexPort, 16, 32)
			return int(port)
		}
	}
	return 0
}

// A drill killed with SIGKILL while its server runs takes the server with
// it: the kernel sends the server SIGTERM (Pdeathsig), so no flowg serve
// is left on a loopback port over a scratch copy. The drill is frozen
// (SIGSTOP) once its server listens, the server is asked /healthz until it
// serves, so it has written every line it would and then sits idle; only
// then is the drill killed: an idle server has nothing to write into the
// dead drill's pipe that would end it.
func TestDrill_ItsServerDoesNotOutliveAKilledDrill(t *testing.T) {
	dirs, _ := drillSetup(t)
	for attempt := 1; attempt <= 5; attempt++ {
		cmd := exec.Command(flowgBin, "admin", "drill", "--backup-dir", dirs.backups, "--work-dir", dirs.root)
		cmd.Dir = dirs.root
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		server := 0
		for server == 0 {
			select {
			case <-exited:
			case <-time.After(time.Millisecond):
				server = childOf(cmd.Process.Pid)
				continue
			}
			break
		}
		if server == 0 {
			t.Logf("attempt %d: the drill ended before its server was seen; again", attempt)
			continue
		}
		t.Cleanup(func() { _ = syscall.Kill(server, syscall.SIGKILL) })
		port := 0
		for port == 0 && running(server) {
			port = listenPort(server)
		}
		if port == 0 {
			t.Logf("attempt %d: the drill's server ended before it listened; again", attempt)
			<-exited
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGSTOP)
		client := &http.Client{Timeout: time.Second}
		served := false
		for start := time.Now(); !served && time.Since(start) < 30*time.Second; time.Sleep(10 * time.Millisecond) {
			if resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"); err == nil {
				resp.Body.Close()
				served = resp.StatusCode == http.StatusOK
			}
		}
		if !served {
			t.Fatalf("the drill's server on port %d did not serve within 30s", port)
		}
		_ = cmd.Process.Kill()
		<-exited
		deadline := time.Now().Add(15 * time.Second)
		for running(server) {
			if time.Now().After(deadline) {
				t.Fatalf("the drill's server (pid %d) still runs 15s after its drill was killed", server)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return
	}
	t.Fatal("the drill's server was never seen running in 5 attempts")
}
