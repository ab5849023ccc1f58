package integration

import (
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Retention counts per database, so a user who may back up only the logs
// (read_streams) cannot get the auth and config backups pruned by creating
// logs-only sets; and --backup-create-rate bounds how many sets each user
// creates through the API.

// prunedSet is the answer of POST /api/v1/backups, with what it pruned.
type prunedSet struct {
	catSet
	Pruned        []string `json:"pruned"`
	PrunedReasons []struct {
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"pruned_reasons"`
}

// TestRetention_ReadStreamsSetsNeverPruneTheFullSet runs the server with
// --backup-keep 3 --backup-create-rate 5/h: root creates a full set, then
// alice (role auditor: read_streams only) creates five logs-only sets with
// curl. Retention prunes her oldest logs sets and never the full set, which
// restores; her sixth set is refused 429 with Retry-After while root may
// still create one. Offline, `flowg admin backups prune` applies the same
// rule, says why, and waits for another process holding the catalog.
func TestRetention_ReadStreamsSetsNeverPruneTheFullSet(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl", "flock")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-keep", "3", "--backup-create-rate", "5/h")
	root := s.rootJWT(t)
	writeBaseData(t, s, root) // alice, role auditor with read_streams only

	var full prunedSet
	curlJSON(t, dirs.client, root, "201", &full, "-X", "POST", s.url+"/api/v1/backups")
	if len(full.Databases) != 3 || full.Label != "created, not restore-verified" {
		t.Fatalf("root's set: %v, want the three databases, not verified", full.catSet)
	}
	alice := s.createToken(t, s.login(t, "alice", "alice-pw-123"), "")
	var logsSets []string
	var pruned []string
	for i := range 5 {
		var set prunedSet
		curlJSON(t, dirs.client, alice.authz(), "201", &set, "-X", "POST", s.url+"/api/v1/backups?only=logs")
		if _, ok := set.Databases["logs"]; !ok || len(set.Databases) != 1 {
			t.Fatalf("alice's set %d: %v, want logs only", i+1, set.catSet)
		}
		if slices.Contains(set.Pruned, full.ID) {
			t.Fatalf("alice's logs-only set %d pruned root's full set %s: %+v", i+1, full.ID, set.PrunedReasons)
		}
		for _, p := range set.PrunedReasons {
			if !strings.Contains(p.Reason, "each of its databases keeps 3 newer sets (logs 3)") {
				t.Errorf("set %s pruned for %q; want the per-database count", p.ID, p.Reason)
			}
		}
		logsSets = append(logsSets, set.ID)
		pruned = append(pruned, set.Pruned...)
	}
	// Three logs-only sets are kept, the two oldest pruned, the full set kept.
	slices.Sort(pruned)
	if want := slices.Sorted(slices.Values(logsSets[:2])); !slices.Equal(pruned, want) {
		t.Errorf("alice's sets pruned %v, want her two oldest %v", pruned, want)
	}
	listed := map[string]catSet{}
	for _, c := range catSets(t, s, root) {
		listed[c.ID] = c
	}
	if got := listed[full.ID]; got.Label != "created, not restore-verified" {
		t.Fatalf("root's full set %s is listed as %v after alice's logs-only sets; want it kept", full.ID, got)
	}
	if len(listed) != 4 {
		t.Errorf("the catalog lists %d sets, want 4 (the full set and 3 logs-only sets)", len(listed))
	}

	// The sixth set of alice is refused: 429, Retry-After, and a JSON
	// error saying when to retry; nothing is written.
	r := command(t, dirs.client, time.Minute, "curl", "-sS", "-D", "-", "-H", "Authorization: "+alice.authz(),
		"-X", "POST", s.url+"/api/v1/backups?only=logs")
	head, body, _ := strings.Cut(strings.ReplaceAll(r.stdout, "\r\n", "\n"), "\n\n")
	if !strings.HasPrefix(head, "HTTP/1.1 429") {
		t.Fatalf("alice's 6th set with --backup-create-rate 5/h: want 429, got\n%s", r.stdout)
	}
	retry := 0
	for _, line := range strings.Split(head, "\n") {
		if v, ok := strings.CutPrefix(strings.ToLower(line), "retry-after: "); ok {
			retry, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if retry < 600 || retry > 720 { // one set of 5/h comes back every 12 minutes
		t.Errorf("Retry-After = %d, want about 720 seconds:\n%s", retry, head)
	}
	requireContains(t, "the 429's body", body, `"error":"backup set not created: user alice may create 5 sets per 1h0m0s`,
		"--backup-create-rate", "retry in "+strconv.Itoa(retry)+" seconds")
	if n := len(catSets(t, s, root)); n != 4 {
		t.Errorf("after the refused set the catalog lists %d sets, want 4", n)
	}
	// The limit is per user: root may still create a set.
	var rootSet prunedSet
	curlJSON(t, dirs.client, root, "201", &rootSet, "-X", "POST", s.url+"/api/v1/backups?only=auth")

	// The full set restores: a pipeline deleted since comes back.
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/ingest", root, nil)
	curlRestoreSet(t, s, root, full.ID, "", "auth", "config", "logs")
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/ingest", root, nil)
	s.stop(t)

	// Offline, prune --keep 1 applies the same per-database rule: only
	// alice's older logs-only sets go, each with its reason.
	prune := []string{"admin", "backups", "prune", "--backup-dir", dirs.backups, "--keep", "1"}
	dry := mustFlowg(t, dirs.root, with(prune, "--dry-run", "--verbose")...)
	wantGone := logsSets[2:4]
	if got := linesIDs(dry.stdout, "would delete "); !slices.Equal(sortedIDs(got), sortedIDs(wantGone)) {
		t.Fatalf("prune --keep 1 --dry-run would delete %v, want alice's %v:\n%s", got, wantGone, dry)
	}
	requireContains(t, "prune --dry-run --verbose", dry.stdout,
		"would delete "+logsSets[2]+": each of its databases keeps 1 newer sets (logs ",
		"would keep "+full.ID+": the newest usable manual or scheduled set of config")

	// A process holding the catalog (as a server reading a set does) makes
	// prune wait for it.
	holder := exec.Command("flock", "--shared", dirs.backups, "sleep", "2")
	if err := holder.Start(); err != nil {
		t.Fatalf("start flock: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	done := mustFlowg(t, dirs.root, prune...)
	waited := time.Since(start)
	_ = holder.Wait()
	if waited < time.Second {
		t.Errorf("prune ran in %v while another process held the catalog for 2s; want it to wait", waited)
	}
	if got := linesIDs(done.stdout, "deleted "); !slices.Equal(sortedIDs(got), sortedIDs(wantGone)) {
		t.Fatalf("prune --keep 1 deleted %v, want %v:\n%s", got, wantGone, done)
	}
	var left []string
	for _, c := range offlineSets(t, dirs.backups) {
		left = append(left, c.ID)
	}
	for _, id := range []string{full.ID, logsSets[4], rootSet.ID} {
		if !slices.Contains(left, id) {
			t.Errorf("after prune --keep 1, set %s is gone; the catalog: %v", id, left)
		}
	}
}

// linesIDs returns the set ids of the lines of out that start with verb
// ("deleted ID: reason").
func linesIDs(out, verb string) []string {
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if rest, ok := strings.CutPrefix(line, verb); ok {
			id, _, _ := strings.Cut(rest, ":")
			ids = append(ids, id)
		}
	}
	return ids
}

func sortedIDs(ids []string) []string { return slices.Sorted(slices.Values(ids)) }
