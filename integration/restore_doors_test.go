package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The two doors of a restore — `flowg admin restore` on a stopped server
// and POST /api/v1/restore/{db} on a running one — run one use case: the
// guard on a restore without a safety copy and the warnings are the same,
// case by case, through one table.

// doorEnv is one door's server: its data, a backup of auth and config
// taken while alice existed, and alice deleted since.
type doorEnv struct {
	s      *flowgServer
	dirs   serverDirs
	backup string // holds auth.db and config.db
}

func newDoorEnv(t *testing.T, online bool) doorEnv {
	t.Helper()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/alice", root, map[string]any{"password": "alice-pw-123", "roles": []string{"admin"}})
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
	bk := filepath.Join(dirs.client, "backup")
	if err := os.MkdirAll(bk, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"auth", "config"} {
		if err := os.WriteFile(filepath.Join(bk, db+".db"), s.download(t, root, db), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
	if !online {
		s.stop(t)
	}
	return doorEnv{s: s, dirs: dirs, backup: bk}
}

// doorOutcome is what a door answered: refused with the code of a missing
// restore-verified set, or restored with these warnings.
type doorOutcome struct {
	refused  bool
	text     string // the refusal, or the warnings
	warnings []string
}

// offline runs `flowg admin restore` of db with the flags of a case.
func (e doorEnv) offline(t *testing.T, db string, flags []string) doorOutcome {
	t.Helper()
	args := append([]string{"admin", "restore", "--backup-dir", e.backup, "--only", db, "--catalog-dir", e.dirs.backups,
		"--auth-dir", e.dirs.auth, "--config-dir", e.dirs.config, "--log-dir", e.dirs.logs}, flags...)
	r := flowg(t, e.dirs.root, args...)
	if r.code != 0 {
		if !strings.Contains(r.stderr, "holds no restore-verified set of the "+db+" database") {
			t.Fatalf("admin restore %v: a failure that is not the guard's:\n%s", flags, r)
		}
		return doorOutcome{refused: true, text: r.stderr}
	}
	var warnings []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if w, ok := strings.CutPrefix(line, "warning: "); ok {
			warnings = append(warnings, w)
		}
	}
	return doorOutcome{text: strings.Join(warnings, "\n"), warnings: warnings}
}

// online posts db's backup file to the running server with curl, with the
// query parameters of a case.
func (e doorEnv) online(t *testing.T, db string, params []string) doorOutcome {
	t.Helper()
	root := e.s.rootJWT(t)
	status, body := curlPost(t, e.s, root, "/api/v1/restore/"+db+"?"+strings.Join(params, "&"), "--form", "backup=@"+filepath.Join(e.backup, db+".db"))
	if status != http.StatusOK {
		if status != http.StatusConflict || !strings.Contains(string(body), `"code":"no_verified_set"`) {
			t.Fatalf("POST restore/%s?%v: %d %s, want 200 or the guard's 409", db, params, status, body)
		}
		return doorOutcome{refused: true, text: string(body)}
	}
	var answer struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("restore answer %s: %v", body, err)
	}
	return doorOutcome{text: strings.Join(answer.Warnings, "\n"), warnings: answer.Warnings}
}

func TestRestoreDoors_GuardAndWarningsAreTheSameOfflineAndOnline(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	off, on := newDoorEnv(t, false), newDoorEnv(t, true)
	tests := []struct {
		name    string
		db      string
		flags   []string // admin restore
		params  []string // the same, as query parameters
		refused bool
		warn    []string // in the warnings of both doors, when not refused
		noWarn  bool     // no warning at all
	}{
		// First, while alice is still deleted.
		{name: "a merge of auth brings alice back", db: "auth",
			warn: []string{"the restore brought back 1 user the database no longer held", "alice"}},
		{name: "a merge keeps its safety snapshot", db: "config", noWarn: true},
		{name: "merge without safety snapshot", db: "config", flags: []string{"--no-safety-snapshot"}, params: []string{"no_safety_snapshot=true"}, refused: true},
		{name: "merge without safety snapshot, check skipped", db: "config",
			flags: []string{"--no-safety-snapshot", "--skip-backup-check"}, params: []string{"no_safety_snapshot=true", "skip_backup_check=true"},
			warn: []string{"no safety snapshot is taken before the merge", "no restore-verified backup was required (skip backup check): this restore cannot be undone"}},
		{name: "wipe keeping nothing", db: "config",
			flags: []string{"--wipe", "--discard-previous", "--no-safety-snapshot"}, params: []string{"wipe=true", "discard_previous=true", "no_safety_snapshot=true"}, refused: true},
		{name: "wipe keeping nothing, check skipped", db: "config",
			flags:  []string{"--wipe", "--discard-previous", "--no-safety-snapshot", "--skip-backup-check"},
			params: []string{"wipe=true", "discard_previous=true", "no_safety_snapshot=true", "skip_backup_check=true"},
			warn:   []string{"the previous database directory is deleted, not kept aside", "this restore cannot be undone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doors := map[string]doorOutcome{"admin restore": off.offline(t, tt.db, tt.flags), "POST /api/v1/restore": on.online(t, tt.db, tt.params)}
			for door, got := range doors {
				if got.refused != tt.refused {
					t.Errorf("%s: refused %v, want %v:\n%s", door, got.refused, tt.refused, got.text)
					continue
				}
				if tt.noWarn && len(got.warnings) > 0 {
					t.Errorf("%s: warnings %q, want none", door, got.warnings)
				}
				for _, w := range tt.warn {
					if !strings.Contains(got.text, w) {
						t.Errorf("%s: warnings %q, want %q", door, got.text, w)
					}
				}
			}
		})
	}
}
