package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// With an s3:// catalog, incremental sets are built from the journal in
// the bucket (the set waits until the uploader shipped the segments it
// reads) and retention trims a kept chain's oldest segments there.

// s3JournalEntries reads, per database, how set id's files were made, from
// its manifest in bucket.
func s3JournalEntries(t *testing.T, m *minioServer, bucket, id string) map[string]journalEntry {
	t.Helper()
	var man struct {
		Databases map[string]journalEntry `json:"databases"`
	}
	key := s3Prefix + "/" + id + "/manifest.json"
	if err := json.Unmarshal(m.get(t, bucket, key), &man); err != nil {
		t.Fatalf("s3://%s/%s: %v", bucket, key, err)
	}
	return man.Databases
}

// TestContinuousS3_IncrementalSetIsBuiltFromTheJournal takes a full set
// from a server with --backup-continuous into a bucket, changes every
// database (updates, creations and deletes), and takes an incremental set:
// each file is built from the journal read from the bucket (the manifest
// names the chain and segments, the log says so), and the chain restored
// from the bucket into empty directories is exactly the server's data.
func TestContinuousS3_IncrementalSetIsBuiltFromTheJournal(t *testing.T) {
	requirePrograms(t, "curl")
	setS3ServerEnv(t)
	m := startMinio(t)
	bucket := m.bucket(t)
	dirs := newServerDirs(t)
	s := s3Continuous(t, m, dirs, bucket)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"after the full set"}`)
	full := createSet(t, s, root, "")

	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", root, map[string]any{"scopes": []string{"read_streams", "send_logs"}})
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
	s.putDoc(t, root, "/api/v1/pipelines/added", `{"added":"after the full set"}`)
	s.ingest(t, root, "app", map[string]any{"id": "a-6"}, map[string]any{"id": "a-7"})
	incr := createSet(t, s, root, "incremental=true")
	state := s.readEverything(t, root)
	if incr.Parent != full.ID {
		t.Fatalf("the incremental set builds on %q, not the full set %s", incr.Parent, full.ID)
	}
	for db, e := range s3JournalEntries(t, m, bucket, incr.ID) {
		if e.Journal == nil || e.Journal.Chain == "" || e.Journal.FirstSegment == 0 || e.NotFromJournal != "" || e.SinceTs == 0 {
			t.Fatalf("%s's file of the incremental set in the bucket was not built from the journal: %+v", db, e)
		}
	}
	if !strings.Contains(s.log.String(), "incremental set built from the journal") {
		t.Fatalf("the server does not log that the set was built from the journal:\n%s", s.log)
	}
	s.stop(t)

	into := newServerDirs(t)
	mustS3Flowg(t, into.root, with([]string{"admin", "restore", "--auth-dir", into.auth, "--config-dir", into.config, "--log-dir", into.logs,
		"--set", incr.ID}, m.target(bucket)...)...)
	r := startServer(t, into)
	requireSameData(t, "the chain of set "+incr.ID+" restored from the bucket into empty directories", state, r.readEverything(t, r.rootJWT(t)))
	r.stop(t)
}

// TestContinuousS3_PruneTrimsAKeptChainInTheBucket takes two sets into a
// bucket after a server with --backup-continuous stopped: `flowg admin
// backups prune --keep 1` keeps each chain but deletes its segments before
// the set kept from the bucket, and rewrites its chain.json there to start
// from that set. A restore --at latest still works; one --at an instant
// before the set kept is refused, naming what the journal can restore.
func TestContinuousS3_PruneTrimsAKeptChainInTheBucket(t *testing.T) {
	requirePrograms(t, "curl")
	setS3ServerEnv(t)
	m := startMinio(t)
	bucket := m.bucket(t)
	dirs := newServerDirs(t)
	s := s3Continuous(t, m, dirs, bucket)
	writeBaseData(t, s, s.rootJWT(t))
	t1 := pause()
	s.stop(t)
	before := journalObjects(t, m, bucket, "config")
	for range 2 {
		nextSecond() // set IDs are to the second
		mustS3Flowg(t, dirs.root, with(with([]string{"admin", "backups", "create"}, s3DataFlags...), m.target(bucket)...)...)
	}

	r := mustS3Flowg(t, dirs.root, with([]string{"admin", "backups", "prune", "--keep", "1"}, m.target(bucket)...)...)
	if !strings.Contains(r.stdout, "deleted segments 1 to ") || !strings.Contains(r.stdout, "from which the chain now starts") {
		t.Fatalf("prune --keep 1 on s3: want the journal's segments before the set kept deleted:\n%s", r)
	}
	after := m.objects(t, bucket, s3Prefix+"/journal/config/")
	var gone, chainInfo string
	for _, key := range before {
		switch _, ok := after[key]; {
		case strings.HasSuffix(key, "/chain.json"):
			chainInfo = key
		case !ok:
			gone = key
		}
	}
	if gone == "" {
		t.Fatalf("prune --keep 1 on s3 left every segment of config's chain in the bucket: %v", sortedKeys(after))
	}
	if info := string(m.get(t, bucket, chainInfo)); !strings.Contains(info, `"first_seq"`) {
		t.Fatalf("config's chain.json in the bucket does not name its first segment kept after the trim:\n%s", info)
	}

	into := newServerDirs(t)
	if r := s3RestoreAt(t, m, bucket, into, t1.Format(time.RFC3339Nano)); r.code == 0 || !strings.Contains(r.stderr, "outside what the journal of") {
		t.Fatalf("restore --at an instant before the set kept, after prune on s3: want a refusal naming the window:\n%s", r)
	}
	if r := s3RestoreAt(t, m, bucket, into, "latest"); r.code != 0 {
		t.Fatalf("restore --at latest after prune on s3:\n%s", r)
	}
	if r := mustS3Flowg(t, dirs.root, with([]string{"admin", "backups", "journal", "--verify"}, m.target(bucket)...)...); strings.Contains(r.stdout, "problem") {
		t.Fatalf("admin backups journal --verify on s3 after the trim: a problem:\n%s", r)
	}
}
