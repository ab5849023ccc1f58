package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_BadLoginFlags are usage errors (exit 2) that say what to give,
// found before anything is opened or listened on.
func TestServe_BadLoginFlags(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--login-rate", "five"}, `--login-rate "five": give N/DURATION, e.g. 5/1m`},
		{[]string{"--login-rate-per-address", "30/0s"}, `--login-rate-per-address "30/0s": give N/DURATION`},
		{[]string{"--max-concurrent-logins", "0"}, "--max-concurrent-logins 0: give at least 1"},
		{[]string{"--login-max-tracked", "-1"}, "--login-max-tracked -1: give at least 1"},
		{[]string{"--login-wait", "0"}, `--login-wait "0": give a positive duration`},
		{[]string{"--trusted-proxy", "127.0.0.1/32,proxy.example"}, `--trusted-proxy "proxy.example": give a CIDR`},
	} {
		requireServeUsageError(t, root, tt.flags, tt.want)
	}
}

func TestParseTrustedProxy(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"127.0.0.1/32", "127.0.0.1/32"},
		{" 10.0.0.0/8", "10.0.0.0/8"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"fd00::/8", "fd00::/8"},
	} {
		p, err := parseTrustedProxy(tt.in)
		if err != nil || p.String() != tt.want {
			t.Errorf("parseTrustedProxy(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

// requireServeUsageError runs `flowg serve` on databases under root with
// flags: it must exit 2 with want in stderr, before it creates the auth
// database.
func requireServeUsageError(t *testing.T, root string, flags []string, want string) {
	t.Helper()
	auth := filepath.Join(root, "auth")
	args := append([]string{"serve", "--http-bind", "127.0.0.1:0", "--auth-dir", auth,
		"--config-dir", filepath.Join(root, "config"), "--log-dir", filepath.Join(root, "logs")}, flags...)
	r := runFlowg(t, "", args...)
	if r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("flowg %s: want exit %d and %q in stderr, got\n%s", strings.Join(args, " "), exitUsage, want, r)
	}
	if _, err := os.Stat(auth); !os.IsNotExist(err) {
		t.Fatalf("flowg %s created %s: %v", strings.Join(args, " "), auth, err)
	}
}
