package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The data the server tests write through the API, change after a backup and
// check after a restore: in each database one value changed after the backup
// (a merge must put it back) and one key added after it (a merge must keep
// it, a wipe must remove it); and the reads that compare all the data a
// client can see before and after.

// writeBaseData writes, through the API, a role and a user (auth), a
// document of each kind (config), and two streams of records, one with a TTL
// (logs).
func writeBaseData(t testing.TB, s *flowgServer, authz string) {
	t.Helper()
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", authz, map[string]any{"scopes": []string{"read_streams"}})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/alice", authz, map[string]any{"password": "alice-pw-123", "roles": []string{"auditor"}})
	s.putDoc(t, authz, "/api/v1/pipelines/ingest", `{"version":1,"nodes":["parse","route"]}`)
	s.putDoc(t, authz, "/api/v1/transformers/clean", `. | del(.secret)`)
	s.putDoc(t, authz, "/api/v1/alerts/oncall", `{"webhook":"http://example.invalid/hook"}`)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/app", authz, map[string]any{"ttl": "720h"})
	for i := 1; i <= 5; i++ {
		s.ingest(t, authz, "app", map[string]any{"id": fmt.Sprintf("a-%d", i), "level": "info", "msg": fmt.Sprintf("request %d served", i),
			"big": json.Number("12345678901234567890")})
	}
	s.ingest(t, authz, "audit", map[string]any{"id": "b-1", "who": "root"}, map[string]any{"id": "b-2", "who": "alice"})
}

// changeAfterBackup changes one value and adds one key in each database.
func changeAfterBackupAPI(t testing.TB, s *flowgServer, authz string) {
	t.Helper()
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", authz, map[string]any{"scopes": []string{"read_streams", "send_logs"}})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/latecomer", authz, map[string]any{"scopes": []string{"read_alerts"}})
	s.putDoc(t, authz, "/api/v1/pipelines/ingest", `{"version":2,"nodes":["changed after the backup"]}`)
	s.putDoc(t, authz, "/api/v1/pipelines/late", `{"added":"after the backup"}`)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/app", authz, map[string]any{"ttl": "48h"})
	s.ingest(t, authz, "late", map[string]any{"id": "l-1", "msg": "written after the backup"})

	// The changes are visible before the restore, so the checks after it
	// test the restore and not a write that did not happen.
	if got := s.roleScopes(t, authz, "auditor"); !slices.Equal(got, []string{"read_streams", "send_logs"}) {
		t.Fatalf("role auditor holds %v after the change", got)
	}
	if r := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/app", authz, nil); !jsonEqual(r.body, `{"stream":"app","ttl":"48h"}`) {
		t.Fatalf("stream app after the change:\n%s", r)
	}
}

// addedAfterBackup are the reads that find what changeAfterBackupAPI added.
var addedAfterBackup = []string{"/api/v1/roles/latecomer", "/api/v1/pipelines/late", "/api/v1/streams/late/logs"}

// listPaths are the reads of readEverything that list what a collection
// holds, so they gain entries when a key is added.
var listPaths = []string{"/api/v1/roles", "/api/v1/pipelines", "/api/v1/streams"}

// requireMerged fails t unless a merge restore of the backup taken when the
// data read base put back every value changed since and kept every key added
// since.
func requireMerged(t testing.TB, s *flowgServer, authz string, base map[string]string) {
	t.Helper()
	after := s.readEverything(t, authz)
	for path, want := range base {
		if slices.Contains(listPaths, path) {
			continue
		}
		if got := after[path]; got != want {
			t.Fatalf("after the merge restore, GET %s answers\n%s\nwant (as when the backup was taken)\n%s", path, got, want)
		}
	}
	if got := s.roleScopes(t, authz, "auditor"); !slices.Equal(got, []string{"read_streams"}) {
		t.Fatalf("after the merge restore role auditor holds %v, want [read_streams] as backed up", got)
	}
	if r := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/app", authz, nil); !jsonEqual(r.body, `{"stream":"app","ttl":"720h"}`) {
		t.Fatalf("after the merge restore stream app is not as backed up (ttl 720h):\n%s", r)
	}
	// Kept: what was added after the backup.
	if got := s.roleScopes(t, authz, "latecomer"); !slices.Equal(got, []string{"read_alerts"}) {
		t.Fatalf("after the merge restore role latecomer (added after the backup) holds %v, want it kept with [read_alerts]", got)
	}
	if r := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/late", authz, nil); !jsonEqual(r.body, `{"added":"after the backup"}`) {
		t.Fatalf("after the merge restore pipeline late (added after the backup) is not kept:\n%s", r)
	}
	if ids := recordIDs(s.streamRecords(t, authz, "late")); !slices.Equal(ids, []string{"l-1"}) {
		t.Fatalf("after the merge restore stream late (added after the backup) holds %v, want [l-1]", ids)
	}
}

// requireWiped fails t unless, after a wipe restore of the backup taken when
// the data read base, the data is exactly base again.
func requireWiped(t testing.TB, s *flowgServer, authz string, base map[string]string) {
	t.Helper()
	requireSameData(t, "after the wipe restore, compared with the data when the backup was taken", base, s.readEverything(t, authz))
	for _, path := range addedAfterBackup[:2] {
		if r := s.sendJSON(t, http.MethodGet, path, authz, nil); r.status != http.StatusNotFound {
			t.Fatalf("after the wipe restore, what was added after the backup must be gone; want 404, got:\n%s", r)
		}
	}
	if ids := recordIDs(s.streamRecords(t, authz, "late")); len(ids) != 0 {
		t.Fatalf("after the wipe restore stream late (added after the backup) still holds %v", ids)
	}
}

// roleScopes reads the scopes of a role.
func (s *flowgServer) roleScopes(t testing.TB, authz, role string) []string {
	t.Helper()
	var r struct{ Scopes []string }
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/roles/"+role, authz, nil).decode(t, &r)
	slices.Sort(r.Scopes)
	return r.Scopes
}

// jsonEqual reports whether got and want hold the same JSON value.
func jsonEqual(got []byte, want string) bool {
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

// docKinds are the three kinds of config documents, as their routes name them.
var docKinds = []string{"pipelines", "transformers", "alerts"}

// readEverything reads, through the API, everything the three databases
// hold that a client can see: users, roles, every token, every config
// document, every stream's configuration and records. Keys are the paths
// read, values the bodies answered.
func (s *flowgServer) readEverything(t testing.TB, authz string) map[string]string {
	t.Helper()
	out := map[string]string{}
	get := func(path string) []byte {
		r := s.send(t, http.MethodGet, path, authz, nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("want status 200, got:\n%s", r)
		}
		out[path] = string(r.body)
		return r.body
	}
	get("/api/v1/users")
	get("/api/v1/roles")
	get("/api/v1/tokens?all=true")
	for _, kind := range docKinds {
		var list struct{ Names []string }
		if err := json.Unmarshal(get("/api/v1/"+kind), &list); err != nil {
			t.Fatal(err)
		}
		for _, name := range list.Names {
			get("/api/v1/" + kind + "/" + url.PathEscape(name))
		}
	}
	var streams struct{ Streams []string }
	if err := json.Unmarshal(get("/api/v1/streams"), &streams); err != nil {
		t.Fatal(err)
	}
	for _, st := range streams.Streams {
		get("/api/v1/streams/" + url.PathEscape(st))
		get("/api/v1/streams/" + url.PathEscape(st) + "/logs?limit=10000")
	}
	return out
}

// requireSameData fails t unless two reads of everything are equal.
func requireSameData(t testing.TB, what string, before, after map[string]string) {
	t.Helper()
	var lines []string
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		b, inBefore := before[k]
		a, inAfter := after[k]
		switch {
		case !inAfter:
			lines = append(lines, fmt.Sprintf("  gone    %s (was %.300s)", k, b))
		case !inBefore:
			lines = append(lines, fmt.Sprintf("  new     %s: %.300s", k, a))
		case a != b:
			lines = append(lines, fmt.Sprintf("  changed %s:\n    before %.300s\n    after  %.300s", k, b, a))
		}
	}
	if len(lines) > 0 {
		t.Fatalf("%s: the data changed:\n%s", what, strings.Join(lines, "\n"))
	}
}

// logRecord is a record as GET /api/v1/streams/:stream/logs answers it.
type logRecord struct {
	Timestamp string         `json:"timestamp"`
	Fields    map[string]any `json:"fields"`
	ExpiresAt string         `json:"expires_at"`
}

// streamRecords reads up to 10000 records of stream.
func (s *flowgServer) streamRecords(t testing.TB, authz, stream string) []logRecord {
	t.Helper()
	var out struct{ Records []logRecord }
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/"+stream+"/logs?limit=10000", authz, nil).decode(t, &out)
	return out.Records
}

// recordIDs returns the "id" field of each record.
func recordIDs(records []logRecord) []string {
	ids := make([]string, 0, len(records))
	for _, r := range records {
		id, _ := r.Fields["id"].(string)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ingest appends records to stream and requires them acknowledged.
func (s *flowgServer) ingest(t testing.TB, authz, stream string, records ...map[string]any) {
	t.Helper()
	r := s.must(t, http.StatusOK, http.MethodPost, "/api/v1/streams/"+stream+"/logs", authz, map[string]any{"records": records})
	var out struct{ Written int }
	r.decode(t, &out)
	if out.Written != len(records) {
		t.Fatalf("ingest into %s: written %d, want %d\n%s", stream, out.Written, len(records), r)
	}
}
