package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServer_TLSCurlLogsInAndDownloadsABackup serves HTTPS with a test
// certificate: real curl trusting the test CA logs in and downloads an auth
// backup that verifies; curl without the CA refuses the server; a plain
// http:// request to the TLS port gets no API answer.
func TestServer_TLSCurlLogsInAndDownloadsABackup(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	p := newTestPKI(t, t.TempDir(), 100)
	s := startTLSServer(t, dirs, p, nil)
	work := dirs.client

	login := `{"username":"root","password":"` + serverRootPassword + `"}`
	r := command(t, work, time.Minute, "curl", "-sS", "--fail-with-body", "--cacert", p.ca.CertFile,
		"-X", "POST", "-H", "Content-Type: application/json", "--data", login, s.url+"/api/v1/auth/login")
	if r.code != 0 {
		t.Fatalf("curl --cacert login over https:\n%s", r)
	}
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || strings.Count(out.Token, ".") != 2 {
		t.Fatalf("login over https answered %q (%v), want a JWT", r.stdout, err)
	}
	r = command(t, work, time.Minute, "curl", "-sS", "--fail-with-body", "--cacert", p.ca.CertFile,
		"-H", "Authorization: Bearer jwt:"+out.Token, s.url+"/api/v1/backup/auth", "--output", "auth.db")
	if r.code != 0 {
		t.Fatalf("curl --cacert backup over https:\n%s", r)
	}
	mustFlowg(t, work, "admin", "verify", "auth.db")

	r = command(t, work, time.Minute, "curl", "-sS", s.url+"/healthz")
	if r.code != 60 { // CURLE_PEER_FAILED_VERIFICATION
		t.Fatalf("curl without --cacert: exit %d, want 60 (the certificate is not trusted):\n%s", r.code, r)
	}
	plain := "http://127.0.0.1:" + s.port + "/api/v1/auth/login"
	r = command(t, work, time.Minute, "curl", "-sS", "-w", "\n%{http_code}", "-X", "POST", "--data", login, plain)
	if body, status := splitStatus(r.stdout); r.code != 0 || status != "400" || !strings.Contains(body, "HTTPS") {
		t.Fatalf("plain http to the TLS port: want 400 saying it is an HTTPS server:\n%s", r)
	}
}

// TestServer_TLSRefusesTLS11 offers the server only TLS 1.1 (curl
// --tls-max 1.1, with OpenSSL's own floor lowered, and HTTP/1.1, since
// HTTP/2 itself needs TLS 1.2): the handshake is refused even though the
// server runs with GODEBUG=tls10server=1, which would let Go's default
// minimum drop to TLS 1.0. TLS 1.2 is served.
func TestServer_TLSRefusesTLS11(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	p := newTestPKI(t, t.TempDir(), 100)
	s := startTLSServer(t, dirs, p, []string{"GODEBUG=tls10server=1"})

	r := command(t, dirs.client, time.Minute, "curl", "-sS", "--cacert", p.ca.CertFile,
		"--http1.1", "--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0", s.url+"/healthz")
	if r.code != 35 { // CURLE_SSL_CONNECT_ERROR
		t.Fatalf("curl --tls-max 1.1: exit %d, want 35 (the handshake refused):\n%s", r.code, r)
	}
	if !strings.Contains(r.stderr, "protocol version") {
		t.Fatalf("curl --tls-max 1.1: want the server's protocol version alert:\n%s", r)
	}
	r = command(t, dirs.client, time.Minute, "curl", "-sS", "--fail", "--cacert", p.ca.CertFile,
		"--tlsv1.2", "--tls-max", "1.2", s.url+"/healthz")
	if r.code != 0 {
		t.Fatalf("curl --tls-max 1.2 must be served:\n%s", r)
	}
}

// TestServer_TLSReloadsTheCertificateOnSIGHUP replaces the certificate
// files with a new certificate (another serial) and sends SIGHUP: a new
// connection sees the new certificate. A bad pair and another SIGHUP leave
// the new one in use, with an error in the log, and the server running.
func TestServer_TLSReloadsTheCertificateOnSIGHUP(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	p := newTestPKI(t, t.TempDir(), 100)
	s := startTLSServer(t, dirs, p, nil)
	addr := "127.0.0.1:" + s.port
	if got := p.peerSerial(t, addr); got != "100" {
		t.Fatalf("serial %s, want 100", got)
	}

	p.ca.Issue(t, 200, p.certFile, p.keyFile)
	if got := p.peerSerial(t, addr); got != "100" {
		t.Fatalf("before SIGHUP the server must keep its certificate: serial %s, want 100", got)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitForSerial(t, p, addr, "200")

	if err := os.WriteFile(p.keyFile, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log.String(), "tls certificate not reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("a bad pair after SIGHUP logged no error within 10s:\n%s", s.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := p.peerSerial(t, addr); got != "200" {
		t.Fatalf("after a bad pair the previous certificate must stay: serial %s, want 200", got)
	}
	s.must(t, 200, "GET", "/healthz", "", nil)
}

// waitForSerial polls new connections until the server presents serial.
func waitForSerial(t *testing.T, p testPKI, addr, serial string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := p.peerSerial(t, addr)
		if got == serial {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10s after SIGHUP a new connection still sees serial %s, want %s", got, serial)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClient_BackupOverHTTPSTrustsTheGivenCA: `flowg backup --server
// https://... --ca-cert ca.pem` downloads and verifies; without --ca-cert
// it fails with a certificate error that says to give --ca-cert; with
// --ca-cert and an http:// server it is a usage error.
func TestClient_BackupOverHTTPSTrustsTheGivenCA(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	p := newTestPKI(t, t.TempDir(), 100)
	s := startTLSServer(t, dirs, p, nil)
	token := s.createToken(t, s.rootJWT(t), "").Token
	work := dirs.client

	mustFlowg(t, work, "backup", "--server", s.url, "--ca-cert", p.ca.CertFile, "--token", token, "--backup-dir", "./backup")
	for _, f := range []string{"auth.db", "config.db", "log.db"} {
		mustFlowg(t, work, "admin", "verify", filepath.Join("backup", f))
	}

	r := flowg(t, work, "backup", "--server", s.url, "--token", token, "--backup-dir", "./untrusted")
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") || !strings.Contains(r.stderr, "--ca-cert") {
		t.Fatalf("backup without --ca-cert: want exit 1 with a certificate error naming --ca-cert:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(work, "untrusted", "auth.db")); !os.IsNotExist(err) {
		t.Fatalf("a failed backup left auth.db behind: %v", err)
	}

	r = flowg(t, work, "backup", "--server", "http://127.0.0.1:"+s.port, "--ca-cert", p.ca.CertFile, "--token", token, "--backup-dir", "./plain")
	if r.code != 2 || !strings.Contains(r.stderr, "https://") {
		t.Fatalf("--ca-cert with an http:// server: want exit 2 saying to use https://:\n%s", r)
	}
	r = flowg(t, work, "backups", "list", "--server", "http://127.0.0.1:"+s.port, "--token", token)
	if r.code != 1 || !strings.Contains(r.stderr, "--server https://127.0.0.1:"+s.port) {
		t.Fatalf("http:// to the TLS server: want exit 1 saying to use https://:\n%s", r)
	}
}

// TestServe_PlainHTTPBeyondLoopbackNeedsInsecureHTTP: plain HTTP on
// 0.0.0.0 is refused (exit 2, nothing created) unless --insecure-http is
// given; then the server starts and logs a warning. localhost needs no
// flag. --tls-cert without --tls-key is a usage error.
func TestServe_PlainHTTPBeyondLoopbackNeedsInsecureHTTP(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	r := command(t, dirs.root, 30*time.Second, flowgBin, serveArgs(dirs, "0.0.0.0:0")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--insecure-http") || !strings.Contains(r.stderr, "--tls-cert") {
		t.Fatalf("plain HTTP on 0.0.0.0 without --insecure-http: want exit 2 naming --tls-cert and --insecure-http:\n%s", r)
	}
	if _, err := os.Stat(dirs.auth); !os.IsNotExist(err) {
		t.Fatalf("a refused serve created the auth directory: %v", err)
	}
	p := newTestPKI(t, t.TempDir(), 100)
	r = flowg(t, dirs.root, with(serveArgs(dirs, "127.0.0.1:0"), "--tls-cert", p.certFile)...)
	if r.code != 2 || !strings.Contains(r.stderr, "--tls-key") {
		t.Fatalf("--tls-cert without --tls-key: want exit 2:\n%s", r)
	}

	s := launchServer(t, dirs, startedClient(), nil, with(serveArgs(dirs, "0.0.0.0:0"), "--insecure-http"))
	waitHealthy(t, s)
	if !strings.Contains(s.log.String(), "--insecure-http") || !strings.Contains(s.log.String(), "level=WARN") {
		t.Fatalf("--insecure-http on 0.0.0.0 logged no warning:\n%s", s.log)
	}
	s.stop(t)

	s = launchServer(t, dirs, startedClient(), nil, serveArgs(dirs, "localhost:0"))
	waitHealthy(t, s)
	if strings.Contains(s.log.String(), "level=WARN") {
		t.Fatalf("plain HTTP on localhost warned:\n%s", s.log)
	}
}
