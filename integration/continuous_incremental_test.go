package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// journalEntry is what a manifest says of how an incremental file was made.
type journalEntry struct {
	Journal *struct {
		Chain        string `json:"chain"`
		FirstSegment uint64 `json:"first_segment"`
		LastSegment  uint64 `json:"last_segment"`
		Changes      uint64 `json:"changes"`
	} `json:"journal"`
	NotFromJournal string `json:"not_from_journal"`
	Keys           uint64 `json:"keys"`
	SinceTs        uint64 `json:"since_ts"`
}

// journalEntries reads, per database, how set id's files were made.
func journalEntries(t *testing.T, s *flowgServer, id string) map[string]journalEntry {
	t.Helper()
	var m struct {
		Databases map[string]journalEntry `json:"databases"`
	}
	path := filepath.Join(s.dirs.backups, id, "manifest.json")
	if err := json.Unmarshal(readFile(t, path), &m); err != nil {
		t.Fatal(err)
	}
	return m.Databases
}

// restoreSet restores set id of the catalog at backups, with its chain,
// into the empty directories into.
func restoreSet(t *testing.T, backups string, into serverDirs, id string) {
	t.Helper()
	mustFlowg(t, into.root, "admin", "restore", "--auth-dir", into.auth, "--config-dir", into.config, "--log-dir", into.logs,
		"--backup-dir", backups, "--set", id)
}

// TestContinuous_IncrementalSetIsBuiltFromTheJournal takes a full set from
// a server with --backup-continuous, changes every database (updates,
// creations and deletes), and takes an incremental set with POST
// /api/v1/backups?incremental=true: each file is built from the journal
// (its manifest names the chain and segments, the log says so), and the
// chain restored into empty directories is exactly the data of the server.
// Then a segment of config goes missing: the next incremental set reads
// config from the database, saying why (a gap), builds the others from the
// journal, and restores exactly too.
func TestContinuous_IncrementalSetIsBuiltFromTheJournal(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"after the full set"}`)
	full := createSet(t, s, root, "")

	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", root, map[string]any{"scopes": []string{"read_streams", "send_logs"}})
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/alerts/oncall", root, nil)
	s.putDoc(t, root, "/api/v1/transformers/clean", `. | del(.password)`)
	s.putDoc(t, root, "/api/v1/pipelines/added", `{"added":"after the full set"}`)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/app", root, map[string]any{"ttl": "48h"})
	s.ingest(t, root, "app", map[string]any{"id": "a-6"}, map[string]any{"id": "a-7"})
	s.ingest(t, root, "late", map[string]any{"id": "l-1", "msg": "after the full set"})
	incr := createSet(t, s, root, "incremental=true")
	stateB := s.readEverything(t, root)
	if incr.Parent != full.ID {
		t.Fatalf("the incremental set builds on %q, not the full set %s", incr.Parent, full.ID)
	}
	for db, e := range journalEntries(t, s, incr.ID) {
		if e.Journal == nil || e.Journal.Chain == "" || e.Journal.FirstSegment == 0 || e.NotFromJournal != "" || e.SinceTs == 0 {
			t.Fatalf("%s's file of the incremental set was not built from the journal: %+v", db, e)
		}
	}
	if !strings.Contains(s.log.String(), "incremental set built from the journal") {
		t.Fatalf("the server does not log that the set was built from the journal:\n%s", s.log)
	}

	// A segment of config holding a change goes missing: a gap.
	seg := newestSegmentWithChanges(t, filepath.Join(dirs.backups, "journal", "config"))
	if err := os.Remove(seg); err != nil {
		t.Fatal(err)
	}
	s.putDoc(t, root, "/api/v1/pipelines/after-the-gap", `{"added":"after the gap"}`)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/added", root, nil)
	s.ingest(t, root, "late", map[string]any{"id": "l-2", "msg": "after the gap"})
	gap := createSet(t, s, root, "incremental=true")
	stateC := s.readEverything(t, root)
	entries := journalEntries(t, s, gap.ID)
	if e := entries["config"]; e.Journal != nil || !strings.Contains(e.NotFromJournal, "a gap after segment") {
		t.Fatalf("config's file with a gap in its journal: want it read from the database, saying why: %+v", e)
	}
	if e := entries["logs"]; e.Journal == nil {
		t.Fatalf("logs' journal has no gap, yet its file was read from the database: %+v", e)
	}
	if r := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups/"+gap.ID, root, nil); !strings.Contains(string(r.body), `"not_from_journal":"the journal chain`) ||
		!strings.Contains(string(r.body), `"journal":{"chain":`) {
		t.Fatalf("GET /api/v1/backups/%s: want each database to say how its file was made:\n%s", gap.ID, r)
	}
	if !strings.Contains(s.log.String(), "incremental set read from the database, not from the journal") {
		t.Fatalf("the server does not log why config was read from the database:\n%s", s.log)
	}
	s.stop(t)

	for _, c := range []struct {
		id    string
		state map[string]string
	}{{incr.ID, stateB}, {gap.ID, stateC}} {
		into := newServerDirs(t)
		restoreSet(t, dirs.backups, into, c.id)
		r := startServer(t, into)
		requireSameData(t, "the chain of set "+c.id+" restored into empty directories", c.state, r.readEverything(t, r.rootJWT(t)))
		r.stop(t)
	}
}
