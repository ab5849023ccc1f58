package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Incremental sets through the API of a running server: POST
// /api/v1/backups?incremental=true builds on the newest set and holds only
// what changed; restoring one by id rebuilds exactly the state when it was
// taken, deletions included; scheduled runs alternate full and incremental
// sets with --backup-full-every 2, and retention keeps every base a kept set
// builds on; a wipe restore starts a new chain.

// localManifest reads the manifest of set id in the server's local catalog.
func localManifest(t testing.TB, s *flowgServer, id string) storedManifest {
	t.Helper()
	path := filepath.Join(s.dirs.backups, id, "manifest.json")
	return parseStoredManifest(t, path, readFile(t, path))
}

// setBytes is the size of every file of a set, from its manifest.
func setBytes(m storedManifest) int64 {
	var n int64
	for _, e := range m.Databases {
		n += e.Bytes
	}
	return n
}

// ingestBulk writes n records of 2 KiB that do not compress away into
// stream, so that a full backup of logs is large next to what changes.
func ingestBulk(t testing.TB, s *flowgServer, authz, stream string, n int) {
	t.Helper()
	for start := 0; start < n; start += 100 {
		var batch []map[string]any
		for i := start; i < min(start+100, n); i++ {
			batch = append(batch, map[string]any{"id": fmt.Sprintf("bulk-%04d", i), "blob": fmt.Sprintf("%x", randomBytes(1024, int64(i+1)))})
		}
		s.ingest(t, authz, stream, batch...)
	}
}

// requireGone fails t unless each path answers 404.
func requireGone(t testing.TB, s *flowgServer, authz, what string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if r := s.send(t, http.MethodGet, p, authz, nil, ""); r.status != http.StatusNotFound {
			t.Errorf("%s: GET %s answers %d, want 404 (the set restored does not hold it):\n%s", what, p, r.status, r)
		}
	}
}

// tokenWorks reports whether a personal access token still authenticates.
func tokenWorks(t testing.TB, s *flowgServer, tok createdToken) bool {
	t.Helper()
	r := s.send(t, http.MethodGet, "/api/v1/streams", tok.authz(), nil, "")
	switch r.status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	t.Fatalf("GET /api/v1/streams with the token: want 200 or 401, got:\n%s", r)
	return false
}

// TestIncremental_RestoreByIDRebuildsTheStateOfThatSet takes a full set, then
// three incremental sets through the API, each after updates, deletions and
// additions: each names the one before as parent and is a fraction of the
// full set's size. After further changes, restoring the newest incremental
// set by id (wipe) gives exactly the data as it was when that set was taken,
// with what was deleted before it still deleted; so does the first one.
// DELETE of the full set, the chain's base, is refused, and so is an upload
// of an incremental set's file on its own.
func TestIncremental_RestoreByIDRebuildsTheStateOfThatSet(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	ingestBulk(t, s, root, "bulk", 300)
	tok := s.createToken(t, root, "") // revoked in the second step
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"in step 2"}`)

	full := createSet(t, s, root, "")
	if full.Parent != "" {
		t.Fatalf("the first set builds on %s; with no set before it, it must be full", full.Parent)
	}
	fullMan := localManifest(t, s, full.ID)
	if fullMan.Parent != "" {
		t.Fatalf("the full set's manifest names parent %q", fullMan.Parent)
	}

	type step struct {
		name   string
		change func()
		query  string
		label  string // of the new set
	}
	steps := []step{
		{
			name: "update a role and a pipeline, delete a user and an alert, add records and a pipeline",
			change: func() {
				s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", root, map[string]any{"scopes": []string{"read_streams", "send_logs"}})
				s.putDoc(t, root, "/api/v1/pipelines/ingest", `{"version":2}`)
				s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
				s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/alerts/oncall", root, nil)
				s.ingest(t, root, "app", map[string]any{"id": "a-6"}, map[string]any{"id": "a-7"})
				s.putDoc(t, root, "/api/v1/pipelines/added-1", `{"added":"in step 1"}`)
			},
			label: "created, not restore-verified",
		},
		{
			name: "update a stream and a transformer, delete a pipeline and revoke a token, add a role and records",
			change: func() {
				s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/app", root, map[string]any{"ttl": "48h"})
				s.putDoc(t, root, "/api/v1/transformers/clean", `. | del(.password)`)
				s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
				s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/tokens/"+tok.ID, root, nil)
				s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/added-2", root, map[string]any{"scopes": []string{"read_alerts"}})
				s.ingest(t, root, "audit", map[string]any{"id": "b-3", "who": "root"})
			},
			query: "verify=true", // an incremental set verifies like a full one
			label: "restore-verified",
		},
		{
			name: "delete a role and what step 1 added, update a pipeline, add an alert and a stream",
			change: func() {
				s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/roles/auditor", root, nil)
				s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/added-1", root, nil)
				s.putDoc(t, root, "/api/v1/pipelines/ingest", `{"version":3}`)
				s.putDoc(t, root, "/api/v1/alerts/added-3", `{"webhook":"http://example.invalid/3"}`)
				s.ingest(t, root, "added-3", map[string]any{"id": "c-1"})
			},
			label: "created, not restore-verified",
		},
	}
	parent := full.ID
	var sets []chainSet
	var states []map[string]string
	for _, st := range steps {
		st.change()
		states = append(states, s.readEverything(t, root))
		query := "incremental=true"
		if st.query != "" {
			query += "&" + st.query
		}
		set := createSet(t, s, root, query)
		man := localManifest(t, s, set.ID)
		if set.Parent != parent || man.Parent != parent {
			t.Fatalf("after %q, POST /api/v1/backups?%s answered parent %q, its manifest says %q; want %s, the set before it",
				st.name, query, set.Parent, man.Parent, parent)
		}
		if set.Label != st.label {
			t.Errorf("incremental set %v, want label %q", set, st.label)
		}
		// Only the changes and the list of live keys: a fraction of the
		// full set, most of all for logs, whose bulk stream did not change.
		logs, fullLogs := man.Databases["logs"].Bytes, fullMan.Databases["logs"].Bytes
		if logs == 0 || logs*10 > fullLogs || setBytes(man)*5 > setBytes(fullMan) {
			t.Errorf("incremental set %s holds %d bytes (log.db %d); the full set %s holds %d (log.db %d): want under a fifth (log.db under a tenth)",
				set.ID, setBytes(man), logs, full.ID, setBytes(fullMan), fullLogs)
		}
		parentMan := localManifest(t, s, parent)
		for _, db := range dbNames {
			if e, want := man.Databases[db], parentMan.Databases[db].ReadTs; e.SinceTs == 0 || e.SinceTs != want {
				t.Errorf("incremental set %s: %s has since_ts %d, want its parent's read_ts %d", set.ID, db, e.SinceTs, want)
			}
		}
		t.Logf("set %s (%s): %d bytes, log.db %d; full set: %d bytes, log.db %d", set.ID, st.name, setBytes(man), logs, setBytes(fullMan), fullLogs)
		sets = append(sets, set)
		parent = set.ID
	}
	// The offline list shows the same chain as the API's. Verifying a link
	// verified the links before it, so the labels are read again: the first
	// link, created unverified, is restore-verified since the second was
	// verified.
	apiList := apiSets(t, s, root, dirs.backups)
	for _, set := range sets {
		api := findChainSet(t, apiList, set.ID)
		if got := findCatSet(t, offlineSets(t, dirs.backups), set.ID); got.Label != api.Label {
			t.Errorf("flowg admin backups list labels %s %q, the API %q", set.ID, got.Label, api.Label)
		}
	}
	if first := findChainSet(t, apiList, sets[0].ID); first.Label != "restore-verified" {
		t.Errorf("the first link, created unverified, is %q once a later link was verified; want restore-verified", first.Label)
	}

	// The full set is the base of the chain: DELETE refuses it, and changes
	// nothing.
	del := s.send(t, http.MethodDelete, "/api/v1/backups/"+full.ID, root, nil, "")
	if msg, _ := del.errorBody(t); del.status != http.StatusConflict || !strings.Contains(msg, "incremental chain") {
		t.Errorf("DELETE of the full set %s, the base of %s:\n%s\nwant 409 saying it is part of an incremental chain", full.ID, sets[0].ID, del)
	}
	// (Verifying the second link verified the full set too.)
	if got := findChainSet(t, apiSets(t, s, root, dirs.backups), full.ID); got.Label != "restore-verified" {
		t.Errorf("after the refused DELETE the full set is listed %v", got)
	}
	// An incremental set's file alone is no backup of the database: the
	// upload restore refuses it and changes nothing.
	newest := sets[len(sets)-1]
	before := s.readEverything(t, root)
	if body, status := curl(t, dirs.client, root, "--output", "log.db", s.url+"/api/v1/backups/"+newest.ID+"/logs"); status != "200" {
		t.Fatalf("GET /api/v1/backups/%s/logs: status %s %s", newest.ID, status, body)
	}
	body, status := curl(t, dirs.client, root, "-X", "POST", "--form", "backup=@log.db", s.url+"/api/v1/restore/logs?wipe=true")
	if status != "400" || !strings.Contains(body, "restore its set by id") || !strings.Contains(body, "nothing was changed") {
		t.Errorf("upload of an incremental set's log.db with wipe=true: status %s\n%s\nwant 400 saying to restore its set by id and that nothing was changed", status, body)
	}
	requireSameData(t, "after the refused upload of an incremental file", before, s.readEverything(t, root))

	// Further changes, then the newest incremental set restored by id.
	s.putDoc(t, root, "/api/v1/pipelines/ingest", `{"version":4}`)
	s.putDoc(t, root, "/api/v1/pipelines/after-the-sets", `{"added":"after the last set"}`)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/transformers/clean", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/alerts/added-3", root, nil)
	s.ingest(t, root, "app", map[string]any{"id": "a-8"})

	curlRestoreSet(t, s, root, newest.ID, "wipe=true", dbNames...)
	requireSameData(t, "after the wipe restore of the newest incremental set "+newest.ID, states[len(states)-1], s.readEverything(t, root))
	requireGone(t, s, root, "after restoring "+newest.ID,
		"/api/v1/users/alice", "/api/v1/alerts/oncall", "/api/v1/pipelines/to-delete", "/api/v1/roles/auditor",
		"/api/v1/pipelines/added-1", "/api/v1/pipelines/after-the-sets")
	if tokenWorks(t, s, tok) {
		t.Errorf("after restoring %s the token revoked before it authenticates again", newest.ID)
	}

	// The first incremental set: what step 1 added is back, what steps 2
	// and 3 deleted too, and what was deleted before it stays deleted.
	curlRestoreSet(t, s, root, sets[0].ID, "wipe=true", dbNames...)
	requireSameData(t, "after the wipe restore of the first incremental set "+sets[0].ID, states[0], s.readEverything(t, root))
	requireGone(t, s, root, "after restoring "+sets[0].ID, "/api/v1/users/alice", "/api/v1/alerts/oncall", "/api/v1/pipelines/after-the-sets")
	if !tokenWorks(t, s, tok) {
		t.Errorf("after restoring %s, taken before the token was revoked, the token does not authenticate", sets[0].ID)
	}
}

// TestIncremental_ScheduledSetsAlternateAndRetentionKeepsTheirBases runs the
// schedule every 2 seconds with --backup-incremental --backup-full-every 2
// --backup-keep 2: the sets, in the order taken, are full, incremental on
// the one before, full, incremental, ...; at no time is a listed set's parent
// missing, and retention drops the oldest chain once two newer sets are kept.
func TestIncremental_ScheduledSetsAlternateAndRetentionKeepsTheirBases(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-schedule", "@every 2s", "--backup-incremental", "--backup-full-every", "2", "--backup-keep", "2")
	root := s.rootJWT(t)
	writeBaseData(t, s, root)

	seen := map[string]chainSet{} // every complete set ever listed
	var last []chainSet
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		last = apiSets(t, s, root, dirs.backups)
		listed := map[string]bool{}
		for _, c := range last {
			listed[c.ID] = true
		}
		for _, c := range last {
			if strings.Contains(c.Problem, "chain is broken") {
				t.Fatalf("set %v is listed with a broken chain; the list: %v", c, last)
			}
			if c.Label != "created, not restore-verified" && c.Label != "restore-verified" {
				continue // running, or caught while being deleted
			}
			if c.Trigger != "scheduled" {
				t.Fatalf("set %v: want only scheduled sets", c)
			}
			if c.Parent != "" && !listed[c.Parent] {
				t.Fatalf("set %v builds on %s, which is no longer listed: retention broke a chain; the list: %v", c, c.Parent, last)
			}
			seen[c.ID] = c
		}
		order := sortedSets(seen)
		if len(order) >= 4 && !listed[order[0].ID] && !listed[order[1].ID] && listed[order[2].ID] && listed[order[3].ID] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 30s the schedule did not take four sets and prune the first two; seen %v; listed %v", order, last)
		}
		if i%5 == 0 {
			s.ingest(t, root, "app", map[string]any{"id": fmt.Sprintf("tick-%d", i)})
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The run of the third set pruned nothing: by count (--backup-keep 2)
	// the first set was due, but the second, kept, builds on it. The run of
	// the fourth pruned both.
	order := sortedSets(seen)
	// (The line's full_reason names the second set too: only pruned counts.)
	third := waitForLog(t, s, 5*time.Second, "backup set written", "id="+order[2].ID)
	if pruned := logAttr(third, "pruned"); strings.Contains(pruned, order[0].ID) || strings.Contains(pruned, order[1].ID) {
		t.Errorf("the run of the third set %s pruned the first or the second set, which was still kept:\n%s", order[2].ID, third)
	}
	fourth := waitForLog(t, s, 5*time.Second, "backup set written", "id="+order[3].ID)
	requireContains(t, "what the fourth run pruned", logAttr(fourth, "pruned"), order[0].ID, order[1].ID)

	// The schedule stops with the server, so the catalog holds still.
	s.stop(t)
	for k, c := range order {
		want := ""
		if k%2 == 1 {
			want = order[k-1].ID
		}
		if c.Parent != want {
			t.Errorf("set %d of the schedule, %v: parent %q, want %q (full, incremental, full, ...); the sets: %v", k+1, c, c.Parent, want, order)
		}
	}
	final := offlineSets(t, dirs.backups)
	ids := map[string]bool{}
	for _, c := range final {
		ids[c.ID] = true
	}
	complete := 0
	for _, c := range final {
		if c.Status != "complete" {
			continue
		}
		complete++
		if k := slices.IndexFunc(order, func(o chainSet) bool { return o.ID == c.ID }); k >= 0 {
			if m := localManifest(t, s, c.ID); m.Parent != order[k].Parent {
				t.Errorf("the manifest of %s says parent %q, the API said %q", c.ID, m.Parent, order[k].Parent)
			}
		}
		for p := localManifest(t, s, c.ID).Parent; p != ""; p = localManifest(t, s, p).Parent {
			if !ids[p] {
				t.Fatalf("after the server stopped, set %v builds on %s, which is gone; the catalog: %v", c, p, final)
			}
		}
	}
	if complete > 3 {
		t.Errorf("after the server stopped the catalog holds %d complete sets, want at most 3 (--backup-keep 2 and the base of a kept incremental set): %v", complete, final)
	}
}

// logAttr returns the value of attribute key on a line of the server's
// text log, unquoted; "" when the line has none.
func logAttr(line, key string) string {
	_, v, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return ""
	}
	if strings.HasPrefix(v, `"`) {
		if q, err := strconv.QuotedPrefix(v); err == nil {
			u, _ := strconv.Unquote(q)
			return u
		}
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// sortedSets returns sets oldest first.
func sortedSets(sets map[string]chainSet) []chainSet {
	out := make([]chainSet, 0, len(sets))
	for _, c := range sets {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// TestIncremental_WipeRestoreStartsANewChain restores logs online after a
// full restore-verified set, then asks for an incremental set. After a wipe
// (an upload with ?wipe=true, with or without a safety snapshot, or a set
// restored by id with ?wipe=true) the database was rebuilt and its versions
// started over, so the set is full; after a merge it builds on the full set.
// Either way the chain goes on from there, and its next link restores to
// exactly the data when it was taken.
func TestIncremental_WipeRestoreStartsANewChain(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	rows := []struct {
		name string
		// restore runs the restore of logs; it returns the safety snapshot.
		restore func(t *testing.T, s *flowgServer, root, full string) string
		wipe    bool
	}{
		{name: "upload with wipe=true", wipe: true, restore: func(t *testing.T, s *flowgServer, root, _ string) string {
			var a restoreAnswer
			curlJSON(t, s.dirs.client, root, "200", &a, "-X", "POST", "--form", "backup=@logs.db", s.url+"/api/v1/restore/logs?wipe=true")
			checkRestoreAnswer(t, a, "logs", true)
			return a.SafetySnapshot
		}},
		{name: "upload with wipe=true and no safety snapshot", wipe: true, restore: func(t *testing.T, s *flowgServer, root, _ string) string {
			var a restoreAnswer
			curlJSON(t, s.dirs.client, root, "200", &a, "-X", "POST", "--form", "backup=@logs.db", s.url+"/api/v1/restore/logs?wipe=true&no_safety_snapshot=true")
			if a.Mode != "wipe" || a.SafetySnapshot != "" || a.Written == 0 {
				t.Fatalf("restore answer %+v, want a wipe without safety snapshot", a)
			}
			return ""
		}},
		{name: "set by id with wipe=true and no safety snapshot", wipe: true, restore: func(t *testing.T, s *flowgServer, root, full string) string {
			curlRestoreSet(t, s, root, full, "only=logs&wipe=true&no_safety_snapshot=true", "logs")
			return ""
		}},
		{name: "upload merged without safety snapshot", wipe: false, restore: func(t *testing.T, s *flowgServer, root, _ string) string {
			var a restoreAnswer
			curlJSON(t, s.dirs.client, root, "200", &a, "-X", "POST", "--form", "backup=@logs.db", s.url+"/api/v1/restore/logs?no_safety_snapshot=true")
			if a.Mode != "merge" || a.SafetySnapshot != "" || a.Written == 0 {
				t.Fatalf("restore answer %+v, want a merge without safety snapshot", a)
			}
			return ""
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			dirs := newServerDirs(t)
			s := startServer(t, dirs)
			root := s.rootJWT(t)
			writeBaseData(t, s, root)
			full := createSet(t, s, root, "verify=true")
			if full.Label != "restore-verified" || full.Parent != "" {
				t.Fatalf("the first set %v, want a full restore-verified set", full)
			}
			if err := os.WriteFile(filepath.Join(dirs.client, "logs.db"), s.download(t, root, "logs"), 0o600); err != nil {
				t.Fatal(err)
			}
			changeAfterBackupAPI(t, s, root)

			pre := row.restore(t, s, root, full.ID)
			// The stream changed after the backup is as backed up again.
			if r := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams/app", root, nil); !jsonEqual(r.body, `{"stream":"app","ttl":"720h"}`) {
				t.Fatalf("after the restore of logs, stream app is not as backed up:\n%s", r)
			}
			preSets := 0
			for _, c := range apiSets(t, s, root, dirs.backups) {
				if c.Trigger == "pre_restore" {
					preSets++
				}
			}
			if want := map[bool]int{false: 0, true: 1}[pre != ""]; preSets != want {
				t.Fatalf("%d pre_restore sets after the restore, want %d", preSets, want)
			}

			next := createSet(t, s, root, "incremental=true")
			want := full.ID
			if row.wipe {
				want = "" // logs was rebuilt: a new chain
			}
			if next.Parent != want || localManifest(t, s, next.ID).Parent != want {
				t.Fatalf("the first ?incremental=true set after the restore, %v, builds on %q (manifest %q); want %q",
					next, next.Parent, localManifest(t, s, next.ID).Parent, want)
			}

			// The chain goes on from that set, and its next link restores.
			s.putDoc(t, root, "/api/v1/pipelines/after-the-restore", `{"n":1}`)
			s.ingest(t, root, "app", map[string]any{"id": "after-the-restore"})
			s.ingest(t, root, "late", map[string]any{"id": "l-2"})
			state := s.readEverything(t, root)
			link := createSet(t, s, root, "incremental=true")
			if link.Parent != next.ID {
				t.Fatalf("the set after %s builds on %q, want %s", next.ID, link.Parent, next.ID)
			}
			s.putDoc(t, root, "/api/v1/pipelines/after-the-restore", `{"n":2}`)
			s.ingest(t, root, "app", map[string]any{"id": "later"})
			s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/app", root, map[string]any{"ttl": "1h"})
			curlRestoreSet(t, s, root, link.ID, "wipe=true", dbNames...)
			requireSameData(t, "after the wipe restore of "+link.ID, state, s.readEverything(t, root))
		})
	}
}
