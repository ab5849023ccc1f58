package integration

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loginBody is the JSON body of a login of root with password.
func loginBody(password string) string {
	return fmt.Sprintf(`{"username": "root", "password": %q}`, password)
}

// loginFrom logs root in with password through curl, the client address
// claimed in X-Forwarded-For (none when "").
func loginFrom(t testing.TB, s *flowgServer, xff, password string) curlAnswer {
	t.Helper()
	var headers []string
	if xff != "" {
		headers = append(headers, "X-Forwarded-For: "+xff)
	}
	return curlTo(t, s, http.MethodPost, "/api/v1/auth/login", "", loginBody(password), headers...)
}

// requireStatus fails t unless a has status want.
func requireStatus(t testing.TB, what string, a curlAnswer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: want status %d, got %d:\n%s", what, want, a.status, a)
	}
}

// requireTooMany fails t unless a is a 429 with a Retry-After of 1 to most
// seconds and a JSON error saying when to retry; it returns Retry-After.
func requireTooMany(t testing.TB, what string, a curlAnswer, most int) time.Duration {
	t.Helper()
	requireStatus(t, what, a, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > most {
		t.Fatalf("%s: Retry-After %q, want whole seconds from 1 to %d:\n%s", what, a.header.Get("Retry-After"), most, a)
	}
	if msg := a.errorText(t); !strings.Contains(msg, fmt.Sprintf("retry in %d s", secs)) {
		t.Fatalf("%s: the error %q does not say when to retry (Retry-After %d)", what, msg, secs)
	}
	return time.Duration(secs) * time.Second
}

// TestServer_LoginLimitsFailuresPerUserAndAddress: behind a trusted proxy
// (--trusted-proxy 127.0.0.1/32, X-Forwarded-For naming each client), three
// wrong root passwords from one client get the fourth attempt a 429 with
// Retry-After, the right password included; root from another client still
// logs in; after Retry-After seconds the right password works from the
// first client too. The client is the right-most untrusted address of the
// header, so prepending a made-up address changes nothing.
func TestServer_LoginLimitsFailuresPerUserAndAddress(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	s := startServer(t, newServerDirs(t), "--trusted-proxy", "127.0.0.1/32", "--login-rate", "3/3s")
	const attacker, other = "203.0.113.5", "198.51.100.7"
	for i := range 3 {
		requireStatus(t, "wrong password "+strconv.Itoa(i+1), loginFrom(t, s, attacker, "wrong-"+strconv.Itoa(i)), http.StatusUnauthorized)
	}
	requireTooMany(t, "a fourth wrong password", loginFrom(t, s, attacker, "wrong-3"), 3)
	requireTooMany(t, "the right password from the same client", loginFrom(t, s, attacker, serverRootPassword), 3)
	requireTooMany(t, "the same client behind a made-up first hop", loginFrom(t, s, "192.0.2.1, "+attacker, serverRootPassword), 3)

	requireStatus(t, "root's right password from another client", loginFrom(t, s, other, serverRootPassword), http.StatusOK)

	wait := requireTooMany(t, "the right password from the limited client", loginFrom(t, s, attacker, serverRootPassword), 3)
	time.Sleep(wait)
	requireStatus(t, "the right password after Retry-After", loginFrom(t, s, attacker, serverRootPassword), http.StatusOK)
}

// TestServer_LoginLimitsIgnoreXForwardedForByDefault: without
// --trusted-proxy, X-Forwarded-For is ignored, so a client cannot dodge the
// limits by naming a new address in it, nor get someone else limited.
func TestServer_LoginLimitsIgnoreXForwardedForByDefault(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	s := startServer(t, newServerDirs(t), "--login-rate", "3/1m")
	for i := range 3 {
		xff := fmt.Sprintf("203.0.113.%d", i+1)
		requireStatus(t, "wrong password from "+xff, loginFrom(t, s, xff, "wrong"), http.StatusUnauthorized)
	}
	requireTooMany(t, "a wrong password claiming yet another address", loginFrom(t, s, "198.51.100.7", "wrong"), 20)
	requireTooMany(t, "the right password without the header", loginFrom(t, s, "", serverRootPassword), 20)
}

// TestServer_ParallelLoginsHashFewPasswordsAtOnce sends 64 logins at once
// (curl --parallel) and measures the server's peak RSS (VmHWM): with
// --max-concurrent-logins 4 (the default) at most four 19 MiB password
// hashes run together, so the peak grows by far less than the 64 × 19 MiB
// it would otherwise reach. Every login succeeds (200) or, had one waited
// longer than --login-wait, would be told to retry (503 with Retry-After).
func TestServer_ParallelLoginsHashFewPasswordsAtOnce(t *testing.T) {
	requirePrograms(t, "curl")
	s := startServer(t, newServerDirs(t), "--login-wait", "1m")
	s.rootJWT(t) // one login before the baseline
	before := procStatusKiB(t, s.cmd.Process.Pid, "VmHWM")

	const n = 64
	args := []string{"-sS", "-Z", "--parallel-immediate", "--parallel-max", strconv.Itoa(n), "-X", "POST",
		"-H", "Content-Type: application/json", "--data-binary", loginBody(serverRootPassword), "-w", "%{http_code}\n"}
	for range n {
		args = append(args, "-o", os.DevNull, s.url+"/api/v1/auth/login")
	}
	start := time.Now()
	r := command(t, s.dirs.client, 5*time.Minute, "curl", args...)
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("curl failed:\n%s", r)
	}
	if codes := strings.Fields(r.stdout); len(codes) != n || strings.Count(r.stdout, "200") != n {
		t.Fatalf("want %d logins answered 200, got %q", n, r.stdout)
	}
	after := procStatusKiB(t, s.cmd.Process.Pid, "VmHWM")
	growth := (after - before) / 1024
	t.Logf("%d parallel logins in %s: peak RSS %d MiB before, %d MiB after (+%d MiB)", n, took.Round(time.Millisecond), before/1024, after/1024, growth)
	if growth > maxLoginPeakGrowthMiB {
		t.Fatalf("64 parallel logins grew the server's peak RSS by %d MiB, want at most %d MiB (4 hashes of 19 MiB at once and the collector's slack)", growth, maxLoginPeakGrowthMiB)
	}
}

// maxLoginPeakGrowthMiB bounds the growth of peak RSS under 64 parallel
// logins. Measured on 2 busy cores: +401 MiB with --max-concurrent-logins 4
// (4 live hashes, the collector's slack and the heap it leaves unreturned),
// +268 MiB with 1, and +1108 to +1183 MiB with 64, which is what the server
// did before the limit.
const maxLoginPeakGrowthMiB = 640

// procStatusKiB reads a "Name: N kB" line of /proc/PID/status.
func procStatusKiB(t testing.TB, pid int, name string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the server's /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("/proc/%d/status: %q: %v", pid, line, err)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, name)
	return 0
}
