package integration

import (
	"strings"
	"testing"
	"time"
)

// Export from the catalog instead of the databases: at an instant of the
// continuous journal (--at), and from the set a restore would pick when
// only --backup-dir is given.

func TestExport_AtAnInstantAndTheNewestSet(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/before", `{"written":"before the instant"}`)
	t1 := pause()
	s.putDoc(t, root, "/api/v1/pipelines/after", `{"written":"after the instant"}`)
	time.Sleep(600 * time.Millisecond) // shipped by the next interval
	s.stop(t)

	at := t1.Format(time.RFC3339Nano)
	r := mustFlowg(t, dirs.client, "admin", "export", "--at", at, "--backup-dir", dirs.backups, "--only", "config")
	requireContains(t, "export --at the instant", r.stderr, "exporting config as it was at "+at)
	if k := exportKinds(t, []byte(r.stdout)); !strings.Contains(r.stdout, `"name":"before"`) || strings.Contains(r.stdout, `"name":"after"`) || k[len(k)-1] != "end:" {
		t.Fatalf("export --at %s: want the pipeline before and not the one after, and the end line:\n%s", at, r)
	}
	r = mustFlowg(t, dirs.client, "admin", "export", "--at", "latest", "--backup-dir", dirs.backups, "--only", "config")
	if !strings.Contains(r.stdout, `"name":"before"`) || !strings.Contains(r.stdout, `"name":"after"`) {
		t.Fatalf("export --at latest: want both pipelines:\n%s", r)
	}
	if r := flowg(t, dirs.client, "admin", "export", "--at", "yesterday", "--backup-dir", dirs.backups); r.code != 2 || !strings.Contains(r.stderr, "RFC 3339") {
		t.Fatalf("export --at yesterday: want a usage error asking for RFC 3339:\n%s", r)
	}
	if r := flowg(t, dirs.client, "admin", "export", "--at", "latest", "--set", "x", "--backup-dir", dirs.backups); r.code != 2 || !strings.Contains(r.stderr, "drop --file and --set") {
		t.Fatalf("export --at with --set: want a usage error:\n%s", r)
	}

	// --backup-dir alone: the set a restore would pick, named.
	mustFlowg(t, dirs.root, with([]string{"admin", "backups", "create", "--backup-dir", dirs.backups}, dirArgs(dirs)...)...)
	r = mustFlowg(t, dirs.client, "admin", "export", "--backup-dir", dirs.backups, "--only", "config")
	requireContains(t, "export --backup-dir alone", r.stderr, "no --set: picked set ")
	if !strings.Contains(r.stdout, `"name":"after"`) {
		t.Fatalf("export of the newest set: want the pipeline written last:\n%s", r)
	}
}
