package integration

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The length of incremental chains is capped whoever asks for the set: the
// server's --backup-full-every applies to POST /api/v1/backups?incremental=true
// as to scheduled sets, and `flowg admin backups create --incremental` takes
// --full-every (default 7). The set past the cap is full, says why, and
// starts a chain that goes on and restores.

// createdSet is the answer of POST /api/v1/backups.
type createdSet struct {
	chainSet
	FullReason string `json:"full_reason"`
}

// createIncremental asks for an incremental set with POST
// /api/v1/backups?incremental=true and requires 201 and a complete set.
func createIncremental(t testing.TB, s *flowgServer, authz string) createdSet {
	t.Helper()
	var set createdSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups?incremental=true", authz, nil).decode(t, &set)
	if set.ID == "" || set.Status != "complete" {
		t.Fatalf("POST /api/v1/backups?incremental=true answered %v, want a complete set", set)
	}
	return set
}

// TestIncremental_APIChainIsCappedByBackupFullEvery runs the server with
// --backup-full-every 3 and asks for an incremental set after each change:
// the first two build on the set before; the third would make the chain 4
// long, so it is full (no parent in the answer nor in its manifest, and
// full_reason names the full chain), and the next builds on it. Restoring
// that next set by id gives exactly the data when it was taken.
func TestIncremental_APIChainIsCappedByBackupFullEvery(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-full-every", "3")
	root := s.rootJWT(t)
	writeBaseData(t, s, root)

	full := createSet(t, s, root, "")
	if full.Parent != "" {
		t.Fatalf("the first set %v builds on %s; want a full set", full, full.Parent)
	}
	prev := full.ID
	for i := 1; i <= 2; i++ {
		s.ingest(t, root, "app", map[string]any{"id": fmt.Sprintf("link-%d", i)})
		set := createIncremental(t, s, root)
		if set.Parent != prev || localManifest(t, s, set.ID).Parent != prev || set.FullReason != "" {
			t.Fatalf("incremental set %d, %v (full_reason %q): want it to build on %s, with no full_reason", i, set, set.FullReason, prev)
		}
		prev = set.ID
	}

	// The chain holds 3 sets: the next is full.
	s.ingest(t, root, "app", map[string]any{"id": "past-the-cap"})
	capped := createIncremental(t, s, root)
	if capped.Parent != "" || localManifest(t, s, capped.ID).Parent != "" {
		t.Fatalf("the set asked for past --backup-full-every 3, %v, builds on %q (manifest %q); want a full set",
			capped, capped.Parent, localManifest(t, s, capped.ID).Parent)
	}
	wantReason := fmt.Sprintf("the chain of set %s already holds 3 sets, the most a chain may hold (3): a new chain starts", prev)
	if capped.FullReason != wantReason {
		t.Errorf("full_reason of the capped set %s:\n got %q\nwant %q", capped.ID, capped.FullReason, wantReason)
	}
	waitForLog(t, s, 5*time.Second, "backup set written", "id="+capped.ID, "full_reason=")

	// A new chain starts at the capped set, and its next link restores.
	s.putDoc(t, root, "/api/v1/pipelines/new-chain", `{"n":1}`)
	s.ingest(t, root, "app", map[string]any{"id": "new-chain"})
	state := s.readEverything(t, root)
	next := createIncremental(t, s, root)
	if next.Parent != capped.ID || next.FullReason != "" {
		t.Fatalf("the set after the capped one, %v (full_reason %q), want it to build on %s", next, next.FullReason, capped.ID)
	}
	s.putDoc(t, root, "/api/v1/pipelines/new-chain", `{"n":2}`)
	s.ingest(t, root, "app", map[string]any{"id": "after-the-last-set"})
	curlRestoreSet(t, s, root, next.ID, "wipe=true", dbNames...)
	requireSameData(t, "after the wipe restore of "+next.ID, state, s.readEverything(t, root))
}

// TestIncremental_AdminCreateCapsTheChain runs `flowg admin backups create
// --incremental` on a stopped server's databases: with the default
// --full-every 7 the eighth set is full and says why; with --full-every 2
// every other set is; --full-every 0 is a usage error that writes nothing.
func TestIncremental_AdminCreateCapsTheChain(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeDataset(t, root, sampleData())
	catalog := filepath.Join(root, "backups")
	create := func(extra ...string) (id, kind string) {
		t.Helper()
		args := with([]string{"admin", "backups", "create", "--backup-dir", catalog,
			"--auth-dir", dataDir(root, "auth"), "--config-dir", dataDir(root, "config"), "--log-dir", dataDir(root, "logs"), "--incremental"}, extra...)
		r := mustFlowg(t, root, args...)
		first, _, _ := strings.Cut(r.stdout, "\n")
		rest, ok := strings.CutPrefix(first, "set ")
		id, kind, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || !strings.HasPrefix(kind, "(") || !strings.HasSuffix(kind, ")") {
			t.Fatalf("flowg %s: the first line %q is not \"set ID (KIND)\"\n%s", strings.Join(args, " "), first, r)
		}
		return id, strings.TrimSuffix(strings.TrimPrefix(kind, "("), ")")
	}
	manifestParent := func(id string) string {
		t.Helper()
		path := filepath.Join(catalog, id, "manifest.json")
		return parseStoredManifest(t, path, readFile(t, path)).Parent
	}

	first, kind := create()
	if want := "full, not incremental: there is no complete set to build on"; kind != want || manifestParent(first) != "" {
		t.Fatalf("the first set %s is %q (manifest parent %q); want %q", first, kind, manifestParent(first), want)
	}
	prev := first
	for i := 2; i <= 7; i++ {
		id, kind := create()
		if kind != "incremental on "+prev || manifestParent(id) != prev {
			t.Fatalf("set %d, %s, is %q (manifest parent %q); want incremental on %s", i, id, kind, manifestParent(id), prev)
		}
		prev = id
	}
	eighth, kind := create()
	want := fmt.Sprintf("full, not incremental: the chain of set %s already holds 7 sets, the most a chain may hold (7): a new chain starts", prev)
	if kind != want || manifestParent(eighth) != "" {
		t.Fatalf("the eighth set %s is %q (manifest parent %q); want %q", eighth, kind, manifestParent(eighth), want)
	}

	// --full-every 2: the set on the eighth, then a full one again.
	ninth, kind := create("--full-every", "2")
	if kind != "incremental on "+eighth || manifestParent(ninth) != eighth {
		t.Fatalf("the ninth set %s is %q; want incremental on %s", ninth, kind, eighth)
	}
	tenth, kind := create("--full-every", "2")
	if !strings.HasPrefix(kind, "full, not incremental: the chain of set "+ninth+" already holds 2 sets") || manifestParent(tenth) != "" {
		t.Fatalf("the tenth set %s is %q; want a full set after the chain of %s", tenth, kind, ninth)
	}

	before := entries(t, catalog)
	for _, bad := range []string{"0", "-1"} {
		r := flowg(t, root, "admin", "backups", "create", "--backup-dir", catalog, "--auth-dir", dataDir(root, "auth"),
			"--config-dir", dataDir(root, "config"), "--log-dir", dataDir(root, "logs"), "--incremental", "--full-every", bad)
		if want := "flowg: --full-every " + bad + ": give how many sets a chain may hold, at least 1\n"; r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("--full-every %s: want exit 2, no stdout and stderr starting %q, got\n%s", bad, want, r)
		}
	}
	if after := entries(t, catalog); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("refused creates changed the catalog: %v, then %v", before, after)
	}
}
