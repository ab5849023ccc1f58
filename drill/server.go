package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// stopWait is how long a drill's server gets to exit after SIGTERM before it
// is killed; flowg serve itself waits up to 15s for requests in flight, and
// the drill sends none.
const stopWait = 30 * time.Second

// listeningPrefix starts the line flowg serve prints once it listens.
const listeningPrefix = "flowg listening on "

// server is the drill's `flowg serve`, a child process on the scratch
// databases, listening on a loopback port the kernel picks.
type server struct {
	cmd    *exec.Cmd
	log    *childLog
	exited chan struct{}
	err    error // of cmd.Wait, once exited is closed
	url    string
}

// startServer runs opts.Executable serve on dirs. The environment is the
// drill's without any FLOWG_ variable (a schedule or a bind address meant
// for the real server must not reach this one), plus a random root
// password, so that a restored auth database without users never gets a
// password printed. Its safety snapshots and uploads stay in scratch.
func startServer(ctx context.Context, opts Options, dirs kv.Dirs, scratch string) (*server, error) {
	if opts.Executable == "" {
		return nil, errors.New("start the drill's server: no flowg executable given")
	}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	args := []string{"serve",
		"--auth-dir", dirs.Auth, "--config-dir", dirs.Config, "--log-dir", dirs.Logs,
		"--http-bind", "127.0.0.1:0",
		"--backup-dir", filepath.Join(scratch, "backups"),
		"--upload-dir", filepath.Join(scratch, "uploads"),
		"--jwt-key-file", filepath.Join(scratch, "jwt-key"),
		"--no-online-restore"}
	s := &server{log: &childLog{listening: make(chan string, 1)}, exited: make(chan struct{})}
	s.cmd = exec.Command(opts.Executable, args...)
	s.cmd.Dir = scratch
	s.cmd.Env = append(withoutFlowgEnv(os.Environ()), "FLOWG_ROOT_PASSWORD="+hex.EncodeToString(pw[:]))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the drill's server %s: %w", opts.Executable, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// withoutFlowgEnv returns env without its FLOWG_ variables.
func withoutFlowgEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "FLOWG_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitServing waits, up to timeout, for the server to say where it
// listens, then for GET /healthz to answer 200 with every database "ok".
func (s *server) waitServing(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case s.url = <-s.log.listening:
	case <-s.exited:
		return fmt.Errorf("the drill's server exited before serving (%v): %s", s.err, s.log.tail())
	case <-deadline.C:
		return fmt.Errorf("the drill's server did not listen within %s: %s", timeout, s.log.tail())
	case <-ctx.Done():
		return ctx.Err()
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for {
		if last = s.healthy(ctx, client); last == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the drill's server exited before every database answered (%v): %s", s.err, s.log.tail())
		case <-deadline.C:
			return fmt.Errorf("the drill's server did not answer for every database within %s: %w", timeout, last)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// healthy asks /healthz once; nil when every database is "ok".
func (s *server) healthy(ctx context.Context, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var health struct {
		Status    string            `json:"status"`
		Databases map[string]string `json:"databases"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &health) != nil {
		return fmt.Errorf("GET /healthz answered %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	for _, n := range kv.Names {
		if state := health.Databases[string(n)]; state != "ok" {
			return fmt.Errorf("GET /healthz says the %s database is %q", n, state)
		}
	}
	return nil
}

// stop sends SIGTERM, waits up to stopWait, then kills. A server that does
// not exit 0 on SIGTERM fails the drill: it did not close its databases
// cleanly.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil // waitServing reported why
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.exited:
	case <-time.After(stopWait):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("the drill's server did not stop within %s of SIGTERM and was killed: %s", stopWait, s.log.tail())
	}
	if s.err != nil {
		return fmt.Errorf("the drill's server did not stop cleanly (%v): %s", s.err, s.log.tail())
	}
	return nil
}

// childLog keeps the last logTail bytes of the server's output and
// signals the line that says where it listens.
type childLog struct {
	mu        sync.Mutex
	buf       []byte
	partial   []byte
	listening chan string
	sent      bool
}

// logTail is how much of the server's output an error quotes.
const logTail = 2 << 10

func (l *childLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > 4*logTail {
		l.buf = append([]byte(nil), l.buf[len(l.buf)-logTail:]...)
	}
	if l.sent {
		return len(p), nil
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if addr, ok := strings.CutPrefix(line, listeningPrefix); ok {
			l.listening <- strings.TrimSpace(addr)
			l.sent, l.partial = true, nil
			break
		}
	}
	return len(p), nil
}

// tail returns the end of the server's output, on one line.
func (l *childLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf
	if len(b) > logTail {
		b = b[len(b)-logTail:]
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
