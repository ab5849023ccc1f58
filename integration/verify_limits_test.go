package integration

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What a read scope may make the server verify: verifications asked for
// over the API run at most --max-concurrent-verifies at once and at most
// --backup-create-rate per user, and a set's verification never verifies
// (and relabels) a set the caller has no scopes for.

// verifyAnswer is one curl of POST /api/v1/backups/ID/verify.
type verifyAnswer struct {
	status     string
	retryAfter string
	code       string
	label      string
	body       string
}

// curlVerify verifies set id with curl -D -, reading status, Retry-After,
// and the code or the label of the JSON body.
func curlVerify(t testing.TB, s *flowgServer, authz, id string) verifyAnswer {
	t.Helper()
	r := command(t, s.dirs.client, 2*time.Minute, "curl", "-sS", "-D", "-", "-X", "POST",
		"-H", "Authorization: "+authz, s.url+"/api/v1/backups/"+id+"/verify")
	if r.code != 0 {
		t.Fatalf("curl verify %s:\n%s", id, r)
	}
	return parseVerifyAnswer(t, r.stdout)
}

func parseVerifyAnswer(t testing.TB, out string) verifyAnswer {
	t.Helper()
	head, body, _ := strings.Cut(strings.ReplaceAll(out, "\r\n", "\n"), "\n\n")
	var a verifyAnswer
	a.body = body
	for i, line := range strings.Split(head, "\n") {
		if i == 0 {
			if f := strings.Fields(line); len(f) > 1 {
				a.status = f[1]
			}
		}
		if v, ok := strings.CutPrefix(strings.ToLower(line), "retry-after: "); ok {
			a.retryAfter = strings.TrimSpace(v)
		}
	}
	var fields struct {
		Code  string `json:"code"`
		Label string `json:"label"`
	}
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatalf("verify answered no JSON: %v\n%s", err, out)
	}
	a.code, a.label = fields.Code, fields.Label
	return a
}

// bigLogs writes n keys of 1 KiB random values into the logs database, so
// that verifying a set of it takes a moment.
func bigLogs(t testing.TB, dir string, n int) {
	t.Helper()
	c := content{}
	buf := make([]byte, 512)
	for i := range n {
		rand.Read(buf)
		c[fmt.Sprintf("filler/%07d", i)] = record{Value: hex.EncodeToString(buf)}
	}
	writeDB(t, dir, c)
}

// serverMemory reads VmRSS and VmHWM (peak) of pid, in MiB.
func serverMemory(t testing.TB, pid int) (rss, peak int) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kib, _ := strconv.Atoi(f[1])
			if f[0] == "VmRSS:" {
				rss = kib / 1024
			} else {
				peak = kib / 1024
			}
		}
	}
	return rss, peak
}

// TestVerify_ConcurrentVerifiesAreBounded: alice (read_streams) fires 12
// verifications of a 40 MiB logs set at once with curl, while one runs. With
// the default --max-concurrent-verifies 1 those that find it busy get 429
// too_many_verifies with Retry-After and verify nothing; with
// --backup-create-rate 5/h she verifies at most 5 sets in all, the next
// refused 429 rate_limited, while her set creations keep their own budget.
// A create with ?verify=true while the slot is taken is refused too.
// Not parallel: the server's TMPDIR shows when a verification runs.
func TestVerify_ConcurrentVerifiesAreBounded(t *testing.T) {
	requirePrograms(t, "curl", "bash")
	scratch := t.TempDir()
	t.Setenv("TMPDIR", scratch)
	dirs := newServerDirs(t)
	bigLogs(t, dirs.logs, 40000)
	s := startServer(t, dirs, "--backup-create-rate", "5/h")
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	alice := s.createToken(t, s.login(t, "alice", "alice-pw-123"), "")
	set := createSet(t, s, alice.authz(), "only=logs")
	rss0, _ := serverMemory(t, s.cmd.Process.Pid)

	// One verification runs: its scratch database is in TMPDIR.
	first := exec.Command("curl", "-sS", "-D", "-", "-X", "POST", "-H", "Authorization: "+alice.authz(),
		s.url+"/api/v1/backups/"+set.ID+"/verify")
	var firstOut strings.Builder
	first.Stdout = &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(scratch, "flowg-verify-*")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification scratch directory appeared in TMPDIR %s within 30s", scratch)
		}
		time.Sleep(2 * time.Millisecond)
	}
	burst := runBash(t, dirs.client, fmt.Sprintf(`for i in $(seq 11); do
  curl -sS -D - -X POST -H %[1]q %[2]s/api/v1/backups/%[3]s/verify >out.$i &
done
curl -sS -D - -X POST -H %[1]q '%[2]s/api/v1/backups?only=logs&verify=true' >create.out &
wait
for i in $(seq 11); do cat out.$i; echo '@@'; done`,
		"Authorization: "+alice.authz(), s.url, set.ID))
	created := readFile(t, filepath.Join(dirs.client, "create.out"))
	if err := first.Wait(); err != nil {
		t.Fatalf("the first verification: %v\n%s", err, firstOut.String())
	}
	_, peak := serverMemory(t, s.cmd.Process.Pid)
	answers := []verifyAnswer{parseVerifyAnswer(t, firstOut.String())}
	for _, part := range strings.Split(strings.TrimSpace(burst.stdout), "@@") {
		if part = strings.TrimSpace(part); part != "" {
			answers = append(answers, parseVerifyAnswer(t, part))
		}
	}
	if len(answers) != 12 {
		t.Fatalf("read %d answers, want 12:\n%s", len(answers), burst)
	}
	ok, busy := 0, 0
	for i, a := range answers {
		switch {
		case a.status == "200" && a.label == "restore-verified":
			ok++
		case a.status == "429" && a.code == "too_many_verifies" && a.retryAfter != "":
			busy++
			requireContains(t, "the 429 of a busy server", a.body, "--max-concurrent-verifies 1", "nothing was written or verified")
		case a.status == "429" && a.code == "rate_limited":
		default:
			t.Errorf("answer %d: status %s code %q label %q Retry-After %q, want 200 restore-verified or 429:\n%s",
				i, a.status, a.code, a.label, a.retryAfter, a.body)
		}
	}
	t.Logf("12 verifications at once: %d verified, %d too_many_verifies; server RSS %d MiB before, peak %d MiB", ok, busy, rss0, peak)
	if ok < 1 || busy < 1 || ok > 5 {
		t.Fatalf("12 verifications at once: %d verified, %d too_many_verifies; want the first verified, those that found it busy refused, at most 5 in all", ok, busy)
	}
	// A create with ?verify=true meanwhile is refused before writing.
	if c := parseVerifyAnswer(t, string(created)); c.status != "429" || c.code != "too_many_verifies" {
		t.Fatalf("POST /api/v1/backups?only=logs&verify=true while a verification ran: %s %q, want 429 too_many_verifies:\n%s",
			c.status, c.code, c.body)
	}
	if n := len(catSets(t, s, root)); n != 1 {
		t.Fatalf("the catalog lists %d sets after the refused create, want 1", n)
	}

	// Sequentially, alice's fifth verification is the last of her 5/h.
	for i := ok; i < 5; i++ {
		if a := curlVerify(t, s, alice.authz(), set.ID); a.status != "200" {
			t.Fatalf("alice's verification %d of 5: %s %s", i+1, a.status, a.body)
		}
	}
	a := curlVerify(t, s, alice.authz(), set.ID)
	if a.status != "429" || a.code != "rate_limited" || a.retryAfter == "" {
		t.Fatalf("alice's 6th verification with --backup-create-rate 5/h: %s %q Retry-After %q, want 429 rate_limited:\n%s",
			a.status, a.code, a.retryAfter, a.body)
	}
	requireContains(t, "the 429 of the verify rate", a.body, "user alice may verify 5 sets per 1h0m0s", "--backup-create-rate")
	// Her set creations keep their own budget (one used), and root his.
	createSet(t, s, alice.authz(), "only=logs")
	if a := curlVerify(t, s, root, set.ID); a.status != "200" {
		t.Fatalf("root's verification after alice's were used up: %s %s", a.status, a.body)
	}
}

// TestVerify_IncrementalNeedsTheScopesOfItsUnverifiedChain: root creates a
// full set F of the three databases, unverified; alice (read_streams)
// creates a logs-only incremental set I on it. Verifying I would verify F,
// whose auth and config she may not read: 403 naming F and the scopes
// missing, and F keeps its label. Once root verified F, she verifies I.
func TestVerify_IncrementalNeedsTheScopesOfItsUnverifiedChain(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	alice := s.createToken(t, s.login(t, "alice", "alice-pw-123"), "")
	full := createSet(t, s, root, "")
	inc := createSet(t, s, alice.authz(), "only=logs&incremental=true")
	if inc.Parent != full.ID {
		t.Fatalf("alice's incremental set %v, want it built on %s", inc, full.ID)
	}

	if a := curlVerify(t, s, alice.authz(), full.ID); a.status != "403" || a.code != "missing_scope" {
		t.Fatalf("alice verifying F: %s %q, want 403 missing_scope:\n%s", a.status, a.code, a.body)
	}
	a := curlVerify(t, s, alice.authz(), inc.ID)
	if a.status != "403" || a.code != "missing_scope" {
		t.Fatalf("alice verifying I (built on unverified F): %s %q, want 403 missing_scope:\n%s", a.status, a.code, a.body)
	}
	requireContains(t, "the 403", a.body, "read_acls", "read_pipelines",
		"verifying set "+inc.ID+" also verifies set "+full.ID+" it builds on (auth, config, logs)",
		"nothing was verified", "/api/v1/backups/"+full.ID+"/verify")
	for _, c := range catSets(t, s, root) {
		if (c.ID == full.ID || c.ID == inc.ID) && c.Label != "created, not restore-verified" {
			t.Fatalf("after alice's refused verification: %v, want still created, not restore-verified", c)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dirs.backups, full.ID, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"verification"`) {
		t.Fatalf("F's manifest records a verification after alice's refused one:\n%s", raw)
	}

	if a := curlVerify(t, s, root, full.ID); a.status != "200" || a.label != "restore-verified" {
		t.Fatalf("root verifying F: %s %s", a.status, a.body)
	}
	if a := curlVerify(t, s, alice.authz(), inc.ID); a.status != "200" || a.label != "restore-verified" {
		t.Fatalf("alice verifying I once F is verified: %s %s", a.status, a.body)
	}
}

// TestVerify_ScratchFailureKeepsTheLabels: a server whose TMPDIR cannot
// hold a scratch database (it is a file) answers 500 saying the scratch
// space failed, not the set; neither the set nor the unverified set it
// builds on is branded "verify failed".
func TestVerify_ScratchFailureKeepsTheLabels(t *testing.T) {
	requirePrograms(t, "curl")
	notADir := filepath.Join(t.TempDir(), "tmpfile")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", notADir)
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	full := createSet(t, s, root, "")
	inc := createSet(t, s, root, "only=logs&incremental=true")
	for _, id := range []string{inc.ID, full.ID} {
		a := curlVerify(t, s, root, id)
		if a.status != "500" || a.code != "internal" {
			t.Fatalf("verify %s with TMPDIR a file: %s %q, want 500 internal:\n%s", id, a.status, a.code, a.body)
		}
		requireContains(t, "the 500", a.body, "the verification could not run", notADir, "keep their labels", "not the set")
	}
	for _, c := range catSets(t, s, root) {
		if c.Label != "created, not restore-verified" {
			t.Fatalf("after verifications whose scratch space failed: %v, want created, not restore-verified", c)
		}
	}
}

// TestServe_MaxConcurrentVerifiesMustBePositive: 0 is refused at start.
func TestServe_MaxConcurrentVerifiesMustBePositive(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	r := flowg(t, dirs.root, "serve", "--max-concurrent-verifies", "0", "--backup-dir", dirs.backups,
		"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs, "--http-bind", "127.0.0.1:0")
	if r.code != 2 {
		t.Fatalf("serve --max-concurrent-verifies 0: exit %d, want 2 (usage)\n%s", r.code, r)
	}
	requireContains(t, "its error", r.stderr, "--max-concurrent-verifies 0", "at least 1")
}
