package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowg-backup/flowg/kv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errNotReady marks a server that could not be started or logged into: the
// serve command may not be built yet, so online-backup is n/a, not failed.
var errNotReady = errors.New("server not ready")

// rootPassword is the password the benchmark server bootstraps root with.
const rootPassword = "bench"

// healthTimeout bounds how long the server may take to answer /healthz.
const healthTimeout = 2 * time.Minute

// online runs online-backup: a real `flowg serve` on a copy of the dataset,
// started afresh every round.
type online struct {
	root string // WORK/online
	bin  string // the flowg binary
	logs string // the copy of the dataset the server opens
	// na says why online-backup cannot be measured; once set, it stays.
	na string
}

// prepareOnline builds flowg (unless cfg names a binary) and copies the
// dataset for the server, which opens it read-write. Any problem makes
// online-backup n/a rather than failing the run.
func prepareOnline(ctx context.Context, cfg config, ds dataset, progress io.Writer, copyLogs bool) *online {
	o := &online{root: filepath.Join(cfg.work, "online")}
	if err := os.RemoveAll(o.root); err != nil {
		o.na = err.Error()
		return o
	}
	if err := os.MkdirAll(o.root, 0o700); err != nil {
		o.na = err.Error()
		return o
	}
	o.bin = cfg.flowg
	if o.bin == "" {
		o.bin = filepath.Join(cfg.work, "flowg")
		if err := buildFlowg(ctx, o.bin); err != nil {
			o.na = err.Error()
			fmt.Fprintf(progress, "online-backup: n/a: %s\n", o.na)
			return o
		}
	}
	o.logs = filepath.Join(o.root, "logs")
	if !copyLogs {
		return o
	}
	if err := kv.CopyDir(ds.Dir, o.logs); err != nil {
		o.na = fmt.Sprintf("copy the dataset for the server: %v", err)
	}
	return o
}

// buildFlowg builds ./cmd/flowg of the module the harness is run from.
func buildFlowg(ctx context.Context, bin string) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("not run from the flowg module, so cannot build flowg; pass --flowg PATH")
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/flowg")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/flowg failed: %s", buildError(string(out)))
	}
	return nil
}

func (o *online) cleanup() { os.RemoveAll(o.root) }

// server is one running `flowg serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	log    string
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// measure runs one online backup: start the server, log in, download the
// logs backup with a child process, read the server's peak RSS, stop it.
// Anything that goes wrong before the download makes the operation n/a (the
// server may not be built yet); a failed download is an error.
func (o *online) measure(ctx context.Context, b *bench, round int) sample {
	s := sample{Round: round, Op: opOnlineBackup}
	if o.na != "" {
		s.NA = o.na
		return s
	}
	srv, err := o.start(ctx, round)
	if err != nil {
		o.na = err.Error()
		s.NA = o.na
		return s
	}
	defer srv.stop()
	token, err := login(ctx, srv.base)
	if err != nil {
		o.na = err.Error()
		s.NA = o.na
		return s
	}
	pid := srv.cmd.Process.Pid
	base := procStatusKiB(pid, "VmRSS")
	reset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	cpu0 := procCPU(pid)

	url := srv.base + "/api/v1/backup/" + benchDatabase
	cs := b.child(ctx, round, opOnlineBackup, []string{"--url", url, "--file", b.path(onlineFile)}, []string{tokenEnv + "=" + token})
	hwm := procStatusKiB(pid, "VmHWM")
	cpu := procCPU(pid) - cpu0
	life := srv.stop()

	// The client child's CPU and RSS are not what is measured: the server's are.
	cs.UserNanos, cs.SysNanos = cpu.Nanoseconds(), 0
	cs.ServerBaseRSSKiB, cs.ServerLifeRSSKiB, cs.RusageMaxRSSKiB = base, life, life
	switch {
	case reset && hwm > 0:
		cs.MaxRSSKiB, cs.RSSSource = hwm, "server VmHWM, reset after login"
	default:
		cs.MaxRSSKiB, cs.RSSSource = life, "server rusage, whole life"
	}
	return cs
}

// start runs flowg serve on a free loopback port with fresh auth and config
// databases and waits for /healthz. Errors wrap errNotReady.
func (o *online) start(ctx context.Context, round int) (*server, error) {
	return o.startIn(ctx, filepath.Join(o.root, fmt.Sprintf("round-%d", round)), o.logs)
}

// startIn is start with the server's files in dir and its logs database in
// logs; extra flags go to flowg serve.
func (o *online) startIn(ctx context.Context, dir, logs string, extra ...string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"serve",
		"--auth-dir", filepath.Join(dir, "auth"),
		"--config-dir", filepath.Join(dir, "config"),
		"--log-dir", logs,
		"--backup-dir", filepath.Join(dir, "backups"),
		"--http-bind", addr,
		"--root-password", rootPassword}
	cmd := exec.Command(o.bin, append(args, extra...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%w: start flowg serve: %w", errNotReady, err)
	}
	srv := &server{cmd: cmd, base: "http://" + addr, log: logPath, exited: make(chan struct{})}
	go func() {
		srv.err = cmd.Wait()
		logFile.Close()
		close(srv.exited)
	}()
	if err := srv.waitHealthy(ctx); err != nil {
		srv.stop()
		return nil, err
	}
	return srv, nil
}

func (s *server) waitHealthy(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(healthTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%w: flowg serve exited (%v) before /healthz answered: %s", errNotReady, s.err, s.lastLog())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: /healthz did not answer 200 within %s: %s", errNotReady, healthTimeout, s.lastLog())
}

// stop sends SIGTERM, waits for the server (killing it after 30 s) and
// returns its peak RSS over its whole life in KiB. Calling it again is harmless.
func (s *server) stop() int64 {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.cmd.ProcessState == nil {
		return 0
	}
	return maxRSSKiB(s.cmd.ProcessState)
}

func (s *server) lastLog() string {
	body, _ := os.ReadFile(s.log)
	return lastLine(string(body))
}

// login returns a JWT for root.
func login(ctx context.Context, base string) (string, error) {
	body := fmt.Sprintf(`{"username":"root","password":%q}`, rootPassword)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/login", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: log in: %w", errNotReady, err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: log in: %s: %s", errNotReady, resp.Status, strings.TrimSpace(string(reply)))
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(reply, &tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("%w: log in: no token in %q", errNotReady, truncate(string(reply), 200))
	}
	return tok.Token, nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// procStatusKiB reads a "kB" field such as VmHWM of /proc/PID/status (0 if
// it cannot).
func procStatusKiB(pid int, field string) int64 {
	body, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return n
	}
	return 0
}

// procCPU returns the user plus system CPU time a process has used, from
// /proc/PID/stat (clock ticks of 1/100 s on Linux).
func procCPU(pid int) time.Duration {
	body, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name start at field 3 (state);
	// utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(body), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(body[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// buildError returns the first line of go build's output that is not a
// "# package" heading.
func buildError(out string) string {
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return "(no output)"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
