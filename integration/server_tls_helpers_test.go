package integration

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/internal/tlsconfig"
	"github.com/flowg-backup/flowg/internal/tlsconfig/tlstest"
)

// Helpers of the TLS tests: a test CA and server certificate made at test
// time, `flowg serve` started with --tls-cert/--tls-key (or any listener
// flags), and the serial of the certificate a new connection sees.

// testPKI is a test CA and the server's certificate files it signed.
type testPKI struct {
	ca                *tlstest.CA
	certFile, keyFile string
}

// newTestPKI makes a CA (dir/ca.pem) and a server certificate with serial
// for 127.0.0.1, ::1 and localhost (dir/server.pem, dir/server.key, 0600).
func newTestPKI(t testing.TB, dir string, serial int64) testPKI {
	t.Helper()
	p := testPKI{ca: tlstest.NewCA(t, dir, "ca.pem"), certFile: filepath.Join(dir, "server.pem"), keyFile: filepath.Join(dir, "server.key")}
	p.ca.Issue(t, serial, p.certFile, p.keyFile)
	return p
}

// httpClient is an HTTP client that trusts the test CA.
func (p testPKI) httpClient(t testing.TB) *http.Client {
	t.Helper()
	cfg, err := tlsconfig.ClientConfig(p.ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Timeout: 2 * time.Minute, Transport: tr}
}

// peerSerial opens a new TLS connection to addr, trusting the test CA,
// and returns the serial of the certificate the server presents.
func (p testPKI) peerSerial(t testing.TB, addr string) string {
	t.Helper()
	cfg, err := tlsconfig.ClientConfig(p.ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// startTLSServer runs `flowg serve` on 127.0.0.1:0 with the test pair and
// env added to the environment, and waits until GET /healthz answers 200
// over https with the test CA.
func startTLSServer(t testing.TB, dirs serverDirs, p testPKI, env []string, extra ...string) *flowgServer {
	t.Helper()
	args := append(serveArgs(dirs, "127.0.0.1:0"), append([]string{"--tls-cert", p.certFile, "--tls-key", p.keyFile}, extra...)...)
	s := launchServer(t, dirs, p.httpClient(t), env, args)
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Fatalf("flowg serve with --tls-cert listens on %q, want https://127.0.0.1:PORT", s.url)
	}
	waitHealthy(t, s)
	return s
}

// serveArgs are the arguments of `flowg serve` on dirs, bound to bind.
func serveArgs(dirs serverDirs, bind string) []string {
	return []string{"serve",
		"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs,
		"--http-bind", bind, "--backup-dir", dirs.backups, "--upload-dir", dirs.uploads,
		"--root-password", serverRootPassword}
}

// launchServer runs flowg with args (a serve command) and waits for the
// line saying where it listens; an unspecified address (0.0.0.0) is
// reached at 127.0.0.1. It is stopped, and must exit 0, when the test ends.
func launchServer(t testing.TB, dirs serverDirs, client *http.Client, env []string, args []string) *flowgServer {
	t.Helper()
	s := &flowgServer{dirs: dirs, args: args, log: &serverLog{listening: make(chan string, 1)}, exited: make(chan struct{}), http: client}
	s.cmd = exec.Command(flowgBin, args...)
	s.cmd.Dir = dirs.root
	s.cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", shellQuote(flowgBin, args), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("server log of %s (%s):\n%s", s.url, shellQuote(flowgBin, s.args), s.log.tail(64<<10))
		}
	})
	select {
	case addr := <-s.log.listening:
		s.url = strings.Replace(addr, "://0.0.0.0:", "://127.0.0.1:", 1)
	case <-s.exited:
		t.Fatalf("flowg serve exited before listening: %v\n%s", s.err, s.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("flowg serve did not say where it listens within 30s:\n%s", s.log)
	}
	s.port = s.url[strings.LastIndexByte(s.url, ':')+1:]
	return s
}

// waitHealthy polls GET /healthz until it answers 200, for 30 seconds.
func waitHealthy(t testing.TB, s *flowgServer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.http.Get(s.url + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/healthz did not answer 200 within 30s: %v", s.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startedClient is a plain HTTP client for a server launchServer started.
func startedClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Minute, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}
