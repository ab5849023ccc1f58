package tlsconfig

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/internal/tlsconfig/tlstest"
)

// tlsServer accepts TLS connections on a loopback port with cfg, completes
// each handshake and closes it.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// peerSerial dials addr trusting ca and returns the serial of the server's
// certificate.
func peerSerial(t *testing.T, addr string, client *tls.Config) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, client)
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func testPair(t *testing.T) (ca *tlstest.CA, certFile, keyFile string) {
	dir := t.TempDir()
	ca = tlstest.NewCA(t, dir, "ca.pem")
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	ca.Issue(t, 100, certFile, keyFile)
	return ca, certFile, keyFile
}

func TestReloader_ServesTheNewPairAfterReloadAndKeepsTheOldOnABadOne(t *testing.T) {
	ca, certFile, keyFile := testPair(t)
	var logs bytes.Buffer
	r, err := NewReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := tlsServer(t, r.ServerConfig())
	client, err := ClientConfig(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := peerSerial(t, addr, client); got != "100" {
		t.Fatalf("serial %s, want 100", got)
	}

	ca.Issue(t, 200, certFile, keyFile)
	if got := peerSerial(t, addr, client); got != "100" {
		t.Fatalf("before Reload the server must keep its pair: serial %s, want 100", got)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := peerSerial(t, addr, client); got != "200" {
		t.Fatalf("after Reload: serial %s, want 200", got)
	}

	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = r.Reload()
	if err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("Reload of a bad key: %v, want an error naming %s", err, keyFile)
	}
	if got := peerSerial(t, addr, client); got != "200" {
		t.Fatalf("after a failed Reload the previous pair must stay: serial %s, want 200", got)
	}
}

func TestNewReloader_RefusesAMissingOrMismatchedPair(t *testing.T) {
	ca, certFile, keyFile := testPair(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := NewReloader(certFile, filepath.Join(t.TempDir(), "missing.key"), logger); err == nil {
		t.Fatal("a missing key file was accepted")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	ca.Issue(t, 300, filepath.Join(t.TempDir(), "other.pem"), other)
	if _, err := NewReloader(certFile, other, logger); err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("a key of another certificate: %v, want a mismatch error", err)
	}
	if _, err := NewReloader(certFile, keyFile, logger); err != nil {
		t.Fatal(err)
	}
}

// TestServerConfig_RefusesTLS11EvenWhenGODEBUGAllowsIt: the server's
// MinVersion is explicit, so GODEBUG=tls10server=1, which lowers Go's
// default minimum to TLS 1.0, does not let a TLS 1.1 client in.
func TestServerConfig_RefusesTLS11EvenWhenGODEBUGAllowsIt(t *testing.T) {
	t.Setenv("GODEBUG", "tls10server=1")
	ca, certFile, keyFile := testPair(t)
	r, err := NewReloader(certFile, keyFile, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := tlsServer(t, r.ServerConfig())
	client, err := ClientConfig(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	old := client.Clone()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	conn, err := tls.Dial("tcp", addr, old)
	if err == nil {
		v := conn.ConnectionState().Version
		conn.Close()
		t.Fatalf("a TLS 1.1 client was served (version %#x)", v)
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.1 refused with %v, want a protocol version alert", err)
	}
	if got := peerSerial(t, addr, client); got != "100" {
		t.Fatalf("TLS 1.2+ client: serial %s, want 100", got)
	}
}

func TestClientConfig_TrustsOnlyTheGivenCA(t *testing.T) {
	_, certFile, keyFile := testPair(t)
	r, err := NewReloader(certFile, keyFile, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := tlsServer(t, r.ServerConfig())
	other := tlstest.NewCA(t, t.TempDir(), "other.pem")
	cfg, err := ClientConfig(other.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tls.Dial("tcp", addr, cfg)
	if !IsCertificateError(err) {
		t.Fatalf("a server signed by another CA: %v, want a certificate error", err)
	}
	system, err := ClientConfig("")
	if err != nil || system.RootCAs != nil {
		t.Fatalf("no CA file: %v, RootCAs %v; want the system roots", err, system.RootCAs)
	}
	_, err = tls.Dial("tcp", addr, system)
	if !IsCertificateError(err) {
		t.Fatalf("a private CA's server with the system roots: %v, want a certificate error", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ClientConfig(bad); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a file without a certificate: %v", err)
	}
	if _, err := ClientConfig(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"0.0.0.0": false, "::": false, "": false, "10.0.0.1": false, "example.com": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, "0.0.0.0:0": false, "[::]:0": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsLoopbackAddr(a); got != want {
			t.Errorf("IsLoopbackAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestReloader_WarnsWhenOthersCanReadTheKey(t *testing.T) {
	_, certFile, keyFile := testPair(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := NewReloader(certFile, keyFile, logger); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("a 0600 key warned:\n%s", logs.String())
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewReloader(certFile, keyFile, logger); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "readable by other users") {
		t.Fatalf("a 0644 key did not warn:\n%s", logs.String())
	}
}
