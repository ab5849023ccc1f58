package integration

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// The fast path of an offline restore --at into empty directories or with
// --wipe: the database rebuilt at the instant is moved into place, not
// dumped and loaded again.

// TestContinuous_RestoreAtMovesTheRebuiltDatabaseIntoPlace writes a batch
// through a server with --backup-continuous and stops it: its databases,
// read on disk, are the state at the instant. A second batch (updates,
// creations, deletes) follows on a restarted server. A restore --at the
// instant into empty directories, and a --wipe --at over the changed
// databases, both say they moved the rebuilt database into place and hold
// exactly the state at the instant, record for record; the wipe keeps the
// previous database beside.
func TestContinuous_RestoreAtMovesTheRebuiltDatabaseIntoPlace(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"in batch B"}`)
	t1 := pause()
	s.stop(t)
	want := map[kv.Name]map[string]string{}
	for _, n := range kv.Names {
		want[n] = dbtest.OfDir(t, dirArgsOf(dirs, n)).Briefs()
	}

	s = startServer(t, dirs, continuousFlags...)
	root = s.rootJWT(t)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
	s.putDoc(t, root, "/api/v1/pipelines/added-in-b", `{"added":"in batch B"}`)
	s.ingest(t, root, "app", map[string]any{"id": "a-6"})
	pause()
	s.stop(t)
	instant := t1.Format(time.RFC3339Nano)

	fresh := newServerDirs(t)
	r := restoreAt(t, dirs.backups, fresh, instant)
	if r.code != 0 || strings.Count(r.stderr, "rebuilt at the instant and moved into place") != 3 {
		t.Fatalf("restore --at %s into empty directories: want exit 0 and each database moved into place (exit %d):\n%s", instant, r.code, r)
	}
	for _, n := range kv.Names {
		dbtest.Require(t, "restore --at into an empty "+string(n)+" directory", want[n], dbtest.OfDir(t, dirArgsOf(fresh, n)).Briefs())
	}

	r = restoreAt(t, dirs.backups, dirs, instant, "--wipe", "--catalog-dir", filepath.Join(dirs.root, "safety"))
	if r.code != 0 || strings.Count(r.stderr, "rebuilt at the instant and moved into place") != 3 || !strings.Contains(r.stderr, "before-restore-") {
		t.Fatalf("restore --wipe --at %s: want exit 0, each database moved into place and the previous kept:\n%s", instant, r)
	}
	for _, n := range kv.Names {
		dbtest.Require(t, "restore --wipe --at of "+string(n), want[n], dbtest.OfDir(t, dirArgsOf(dirs, n)).Briefs())
	}
}

// dirArgsOf is the directory of database n of dirs.
func dirArgsOf(dirs serverDirs, n kv.Name) string {
	return kv.Dirs{Auth: dirs.auth, Config: dirs.config, Logs: dirs.logs}.Of(n)
}
