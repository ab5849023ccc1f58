package integration

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// Noisy streams left out of backups: --exclude-stream on admin backup and
// admin backups create.

func TestExcludeStream_LeftOutOfSetsAndFlatBackups(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-1"}, map[string]any{"id": "a-2"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-1"})
	s.ingest(t, root, "debug-2", map[string]any{"id": "d-2"})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/debug-1", root, map[string]any{"ttl": "48h"})
	s.stop(t)

	r := mustFlowg(t, dirs.root, with([]string{"admin", "backups", "create", "--backup-dir", "./sets", "--exclude-stream", "debug-*"}, dirArgs(dirs)...)...)
	id, _, _ := strings.Cut(lineAfter(r.stdout, "set "), " ")
	requireContains(t, "backups create --exclude-stream", r.stdout, "(streams left out: debug-*)")
	manifest := string(readFile(t, filepath.Join(dirs.root, "sets", id, "manifest.json")))
	if !strings.Contains(strings.Join(strings.Fields(manifest), ""), `"excluded_streams":["debug-*"]`) {
		t.Fatalf("the manifest of set %s does not record the excluded streams:\n%s", id, manifest)
	}
	r = mustFlowg(t, dirs.client, "admin", "export", "--set", id, "--backup-dir", filepath.Join(dirs.root, "sets"), "--only", "logs")
	k := exportKinds(t, []byte(r.stdout))
	if countPrefix(k, "log:app") != 2 || countPrefix(k, "log:debug") != 0 || strings.Contains(r.stdout, `"name":"debug-1"`) {
		t.Fatalf("set %s with debug-* excluded: want the 2 app records and nothing of debug-*:\n%s", id, r.stdout)
	}

	// Other exclusions: an incremental set cannot build on it.
	r = mustFlowg(t, dirs.root, with([]string{"admin", "backups", "create", "--backup-dir", "./sets", "--incremental"}, dirArgs(dirs)...)...)
	requireContains(t, "incremental after a change of exclusions", r.stdout, "full, not incremental", "--exclude-stream")

	// A flat backup directory.
	mustFlowg(t, dirs.root, with([]string{"admin", "backup", "--backup-dir", "./flat", "--only", "logs", "--exclude-stream", "debug-2"}, dirArgs(dirs)...)...)
	if m := string(readFile(t, filepath.Join(dirs.root, "flat", "manifest.json"))); !strings.Contains(strings.Join(strings.Fields(m), ""), `"excluded_streams":["debug-2"]`) {
		t.Fatalf("the flat manifest does not record the excluded stream:\n%s", m)
	}
	r = mustFlowg(t, dirs.root, "admin", "export", "--file", "./flat/log.db")
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:debug-1") != 1 || countPrefix(k, "log:debug-2") != 0 {
		t.Fatalf("flat backup with debug-2 excluded: %v", k)
	}

	if r := flowg(t, dirs.root, with([]string{"admin", "backup", "--backup-dir", "./bad", "--exclude-stream", "debug-["}, dirArgs(dirs)...)...); r.code != 2 || !strings.Contains(r.stderr, "--exclude-stream") {
		t.Fatalf("a malformed glob: want a usage error naming --exclude-stream:\n%s", r)
	}
	if r := flowg(t, dirs.root, with([]string{"admin", "backup", "--backup-dir", "./raw", "--format", "badger", "--exclude-stream", "debug-1"}, dirArgs(dirs)...)...); r.code != 2 || !strings.Contains(r.stderr, "flowg's format only") {
		t.Fatalf("--exclude-stream with --format badger: want a usage error:\n%s", r)
	}
}

// serve --backup-exclude-stream: the sets the server takes (here one asked
// for with POST /api/v1/backups) leave the streams out.
func TestExcludeStream_ServeSets(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-exclude-stream", "debug-*")
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-1"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-1"})
	var set catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &set)
	s.stop(t)
	if m := string(readFile(t, filepath.Join(dirs.backups, set.ID, "manifest.json"))); !strings.Contains(strings.Join(strings.Fields(m), ""), `"excluded_streams":["debug-*"]`) {
		t.Fatalf("the manifest of set %q does not record the excluded streams:\n%s", set.ID, m)
	}
	r := mustFlowg(t, dirs.client, "admin", "export", "--set", set.ID, "--backup-dir", dirs.backups, "--only", "logs")
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:app") != 1 || countPrefix(k, "log:debug") != 0 {
		t.Fatalf("set of a server with --backup-exclude-stream debug-*: %v", k)
	}
	if r := flowg(t, dirs.root, with([]string{"serve", "--backup-exclude-stream", "["}, dirArgs(dirs)...)...); r.code != 2 || !strings.Contains(r.stderr, "--backup-exclude-stream") {
		t.Fatalf("serve with a malformed glob: want a usage error:\n%s", r)
	}
}

// A wipe restore of a set that left streams out keeps their current data
// (and says so); everything else is exactly the backup.
func TestExcludeStream_WipeRestoreKeepsTheExcludedStreams(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-1"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-1"})
	s.stop(t)
	r := mustFlowg(t, dirs.root, with([]string{"admin", "backups", "create", "--backup-dir", "./sets", "--exclude-stream", "debug-*"}, dirArgs(dirs)...)...)
	id, _, _ := strings.Cut(lineAfter(r.stdout, "set "), " ")

	s = startServer(t, dirs)
	root = s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-2"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-2"})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/debug-1", root, map[string]any{"ttl": "48h"})
	s.stop(t)

	r = mustFlowg(t, dirs.root, with([]string{"admin", "restore", "--backup-dir", "./sets", "--set", id, "--only", "logs", "--wipe",
		"--no-safety-snapshot", "--skip-backup-check"}, dirArgs(dirs)...)...)
	requireContains(t, "wipe restore of a set with debug-* excluded", r.stderr, "debug-*", "the wipe kept their current data (3 keys)")
	r = mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", "logs"}, dirArgs(dirs)...)...)
	k := exportKinds(t, []byte(r.stdout))
	if countPrefix(k, "log:app") != 1 || strings.Contains(r.stdout, `"a-2"`) || countPrefix(k, "log:debug-1") != 2 || !strings.Contains(r.stdout, `"name":"debug-1","ttl":"48h"`) {
		t.Fatalf("after the wipe: want app as in the set (a-1 only) and debug-1 as it was (d-1, d-2, ttl 48h):\n%s", r.stdout)
	}
}

// The online wipe restore of a set the server took with
// --backup-exclude-stream keeps the excluded streams too, and says so.
func TestExcludeStream_OnlineWipeKeepsTheExcludedStreams(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-exclude-stream", "debug-*")
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-1"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-1"})
	var set catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &set)
	s.ingest(t, root, "app", map[string]any{"id": "a-2"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-2"})
	got := s.must(t, http.StatusOK, http.MethodPost, "/api/v1/backups/"+set.ID+"/restore?only=logs&wipe=true&no_safety_snapshot=true&skip_backup_check=true", root, nil)
	if !strings.Contains(got.String(), "the wipe kept their current data (2 keys)") {
		t.Fatalf("online wipe of a set with debug-* excluded: want the note of what it kept:\n%s", got)
	}
	logs := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/debug-1/logs?limit=100", root, nil).String()
	app := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/app/logs?limit=100", root, nil).String()
	if !strings.Contains(logs, "d-1") || !strings.Contains(logs, "d-2") || !strings.Contains(app, "a-1") || strings.Contains(app, "a-2") {
		t.Fatalf("after the online wipe: want debug-1 as it was (d-1, d-2) and app as in the set (a-1):\ndebug-1: %s\napp: %s", logs, app)
	}
}

// Continuous backup leaves the streams out of its journal and of the set
// its chain starts from: a rebuild at the newest instant has none of them.
func TestExcludeStream_ContinuousJournal(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, append([]string{"--backup-exclude-stream", "debug-*"}, continuousFlags...)...)
	root := s.rootJWT(t)
	s.ingest(t, root, "app", map[string]any{"id": "a-1"})
	s.ingest(t, root, "debug-1", map[string]any{"id": "d-1"})
	pause()
	s.stop(t)
	r := mustFlowg(t, dirs.client, "admin", "export", "--at", "latest", "--backup-dir", dirs.backups, "--only", "logs")
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:app") != 1 || countPrefix(k, "log:debug") != 0 || strings.Contains(r.stdout, "d-1") {
		t.Fatalf("the journal of a server with --backup-exclude-stream debug-*: %v\n%s", k, r.stdout)
	}

	// A wipe to an instant of that journal keeps the excluded streams'
	// current data, as a wipe of the set does.
	r = mustFlowg(t, dirs.root, with([]string{"admin", "restore", "--backup-dir", dirs.backups, "--at", "latest", "--only", "logs", "--wipe",
		"--catalog-dir", filepath.Join(dirs.root, "safety")}, dirArgs(dirs)...)...)
	requireContains(t, "wipe restore --at latest with debug-* excluded", r.stderr, "debug-*", "the wipe kept their current data", "rebuilt at the instant and moved into place")
	r = mustFlowg(t, dirs.root, with([]string{"admin", "export", "--only", "logs"}, dirArgs(dirs)...)...)
	if k := exportKinds(t, []byte(r.stdout)); countPrefix(k, "log:app") != 1 || countPrefix(k, "log:debug-1") != 1 || !strings.Contains(r.stdout, "d-1") {
		t.Fatalf("after the wipe --at latest: want app from the journal and debug-1 as it was (d-1): %v\n%s", k, r.stdout)
	}
}
