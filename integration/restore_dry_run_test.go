package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The online dry run (?dry_run=true on both restore routes, --dry-run on
// `flowg restore` and `flowg backups restore`): the file checked whole,
// then what would be added, overwritten and removed; nothing written, no
// safety snapshot.

// dryRunPlan is the plan of one database in a dry run's answer.
type dryRunPlan struct {
	Database string `json:"database"`
	DryRun   bool   `json:"dry_run"`
	Plan     *struct {
		Added       uint64 `json:"added"`
		Overwritten uint64 `json:"overwritten"`
		Unchanged   uint64 `json:"unchanged"`
		Removed     uint64 `json:"removed_by_wipe"`
	} `json:"plan"`
	SafetySnapshot string `json:"safety_snapshot"`
}

// curlPost posts to path with curl (extra: more curl arguments) and returns
// the status and the body.
func curlPost(t *testing.T, s *flowgServer, authz, path string, extra ...string) (int, []byte) {
	t.Helper()
	out := filepath.Join(s.dirs.client, "answer.json")
	args := append([]string{"--silent", "--show-error", "-o", out, "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: " + authz}, extra...)
	r := command(t, s.dirs.client, time.Minute, "curl", append(args, s.url+path)...)
	if r.code != 0 {
		t.Fatalf("curl failed:\n%s", r)
	}
	status, err := strconv.Atoi(r.stdout)
	if err != nil {
		t.Fatalf("curl -w %%{http_code} printed %q", r.stdout)
	}
	return status, readFile(t, out)
}

func TestRestoreDryRun_OnlineSaysWhatWouldChangeAndWritesNothing(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	tok := s.createToken(t, root, "")
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
	s.ingest(t, root, "app", map[string]any{"id": "1"})
	if err := os.WriteFile(filepath.Join(dirs.client, "config.db"), s.download(t, root, "config"), 0o600); err != nil {
		t.Fatal(err)
	}
	var set catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups?verify=true", root, nil).decode(t, &set)

	// Since the backup: p overwritten, one pipeline added.
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":2}`)
	s.putDoc(t, root, "/api/v1/pipelines/created-after", `{"n":1}`)
	before := s.readEverything(t, root)
	setsBefore := len(catSets(t, s, root))

	// An upload.
	status, body := curlPost(t, s, root, "/api/v1/restore/config?dry_run=true&wipe=true", "--form", "backup=@config.db")
	var one dryRunPlan
	if err := json.Unmarshal(body, &one); status != http.StatusOK || err != nil || !one.DryRun || one.Plan == nil {
		t.Fatalf("dry run of an upload: %d %s (%v)", status, body, err)
	}
	if one.Plan.Overwritten != 1 || one.Plan.Removed != 1 || one.SafetySnapshot != "" {
		t.Errorf("dry run of config: %s; want 1 overwritten (p), 1 removed by the wipe (created-after), no safety snapshot", body)
	}

	// A set, every database.
	status, body = curlPost(t, s, root, "/api/v1/backups/"+set.ID+"/restore?dry_run=true")
	var all struct {
		DryRun   bool         `json:"dry_run"`
		Restores []dryRunPlan `json:"restores"`
	}
	if err := json.Unmarshal(body, &all); status != http.StatusOK || err != nil || !all.DryRun || len(all.Restores) != 3 {
		t.Fatalf("dry run of set %s: %d %s (%v)", set.ID, status, body, err)
	}
	for _, r := range all.Restores {
		if r.Plan == nil || r.SafetySnapshot != "" {
			t.Errorf("dry run of set %s, %s: no plan or a safety snapshot: %s", set.ID, r.Database, body)
		}
	}

	// The whole file is checked: a byte flipped near its end is a 400.
	bad := readFile(t, filepath.Join(dirs.client, "config.db"))
	bad[len(bad)-40] ^= 0xff
	if err := os.WriteFile(filepath.Join(dirs.client, "bad.db"), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if status, body := curlPost(t, s, root, "/api/v1/restore/config?dry_run=true", "--form", "backup=@bad.db"); status != http.StatusBadRequest {
		t.Errorf("dry run of a damaged file: %d %s, want 400", status, body)
	}
	// A dry run to an instant is planned like a restore to it: without a
	// journal, the instant is not covered.
	if status, body := curlPost(t, s, root, "/api/v1/backups/restore?dry_run=true&at=latest"); status != http.StatusBadRequest ||
		!strings.Contains(string(body), `"code":"journal_not_covered"`) {
		t.Errorf("dry run with at= and no journal: %d %s, want 400 journal_not_covered", status, body)
	}

	// The two commands.
	r := mustBackupsCLI(t, s, tok, "restore", "--dry-run", "--wipe", set.ID)
	if n := strings.Count(r.stdout, "merge would add"); n != 3 || !strings.Contains(r.stderr, "dry run on "+s.url+": nothing was written") {
		t.Errorf("flowg backups restore --dry-run: %d plan lines, want 3:\n%s", n, r)
	}
	r = mustFlowg(t, dirs.client, "restore", "--server", s.url, "--token", "pat:"+tok.Token, "--backup-dir", dirs.client, "--only", "config", "--dry-run")
	requireContains(t, "flowg restore --dry-run", r.stdout, "config", "merge would add 0, overwrite 1", "--wipe would also remove 1")

	requireSameData(t, "after the dry runs", before, s.readEverything(t, root))
	if n := len(catSets(t, s, root)); n != setsBefore {
		t.Errorf("the dry runs left %d sets in the catalog, want %d: no safety snapshot", n, setsBefore)
	}
}
