package integration

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The backup catalog of a running server: scheduled sets, verification and
// trust labels, restores of a set by id, pre_restore sets that undo them, a
// backup directory that cannot be written, and the metrics an alert reads.

// catSet is a set as GET /api/v1/backups and `flowg admin backups list
// --json` show it.
type catSet struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	Trigger   string    `json:"trigger"`
	By        string    `json:"by"`
	Status    string    `json:"status"`
	Error     string    `json:"error"`
	Label     string    `json:"label"`
	Problem   string    `json:"problem"`
	Databases map[string]struct {
		File  string `json:"file"`
		Bytes int64  `json:"bytes"`
		Keys  uint64 `json:"keys"`
	} `json:"databases"`
}

func (c catSet) String() string {
	dbs := make([]string, 0, len(c.Databases))
	for db := range c.Databases {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	s := fmt.Sprintf("%s %s by %s [%s] %s", c.ID, c.Trigger, c.By, strings.Join(dbs, ","), c.Label)
	if c.Problem != "" {
		s += ": " + c.Problem
	}
	return s
}

// catSets lists the server's sets through the API.
func catSets(t testing.TB, s *flowgServer, authz string) []catSet {
	t.Helper()
	var list struct {
		Catalog string   `json:"catalog"`
		Backups []catSet `json:"backups"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", authz, nil).decode(t, &list)
	if list.Catalog != s.dirs.backups {
		t.Fatalf("GET /api/v1/backups names the catalog %q, want the server's --backup-dir %s", list.Catalog, s.dirs.backups)
	}
	return list.Backups
}

// offlineSets lists the catalog directory with `flowg admin backups list --json`.
func offlineSets(t testing.TB, dir string) []catSet {
	t.Helper()
	r := mustFlowg(t, filepath.Dir(dir), "admin", "backups", "list", "--backup-dir", dir, "--json")
	var sets []catSet
	if err := json.Unmarshal([]byte(r.stdout), &sets); err != nil {
		t.Fatalf("admin backups list --json: %v\n%s", err, r)
	}
	return sets
}

func findCatSet(t testing.TB, sets []catSet, id string) catSet {
	t.Helper()
	for _, s := range sets {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("set %s is not listed; the list: %v", id, sets)
	return catSet{}
}

func catSetsWhere(sets []catSet, fits func(catSet) bool) []catSet {
	var out []catSet
	for _, s := range sets {
		if fits(s) {
			out = append(out, s)
		}
	}
	return out
}

// waitForSet polls the list until a set fits, and returns it.
func waitForSet(t testing.TB, s *flowgServer, authz string, timeout time.Duration, what string, fits func(catSet) bool) catSet {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sets := catSets(t, s, authz)
		if found := catSetsWhere(sets, fits); len(found) > 0 {
			return found[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s; the list: %v", what, timeout, sets)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForLog waits until the server's log holds every one of wants on one line.
func waitForLog(t testing.TB, s *flowgServer, timeout time.Duration, wants ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if line, ok := logLine(s, wants...); ok {
			return line
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server log has no line with %q within %s", wants, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLine returns the first line of the server's log that holds every
// one of wants, and whether there is one.
func logLine(s *flowgServer, wants ...string) (string, bool) {
	for _, line := range strings.Split(s.log.String(), "\n") {
		all := true
		for _, w := range wants {
			all = all && strings.Contains(line, w)
		}
		if all {
			return line, true
		}
	}
	return "", false
}

// backupsCLI runs `flowg backups SUB --server URL --token T ARGS...`.
func backupsCLI(t testing.TB, s *flowgServer, tok createdToken, sub string, args ...string) result {
	t.Helper()
	return flowg(t, s.dirs.client, append([]string{"backups", sub, "--server", s.url, "--token", "pat:" + tok.Token}, args...)...)
}

func mustBackupsCLI(t testing.TB, s *flowgServer, tok createdToken, sub string, args ...string) result {
	t.Helper()
	r := backupsCLI(t, s, tok, sub, args...)
	if r.code != 0 {
		t.Fatalf("want exit code 0:\n%s", r)
	}
	return r
}

// metric reads name{database="db"} from the server's /metrics.
func metric(t testing.TB, s *flowgServer, name, db string) float64 {
	t.Helper()
	r := s.send(t, http.MethodGet, "/metrics", "", nil, "")
	prefix := fmt.Sprintf("%s{database=%q} ", name, db)
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s%s: %v", prefix, v, err)
			}
			return f
		}
	}
	t.Fatalf("GET /metrics has no %s", prefix)
	return 0
}

func unixOf(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// sameJSON reports whether got holds the JSON value want.
func sameJSON(got []byte, want string) bool {
	var g, w any
	return json.Unmarshal(got, &g) == nil && json.Unmarshal([]byte(want), &w) == nil && fmt.Sprint(g) == fmt.Sprint(w)
}

// damage flips one byte in the middle of path, keeping its size.
func damage(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCatalog_ScheduledSetIsVerifiedListedPrunedAndInTheMetrics(t *testing.T) {
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--backup-schedule", "@every 2s", "--backup-verify", "--backup-keep", "1", "--backup-max-age", "30d")
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
	s.ingest(t, root, "app", map[string]any{"id": "1"})
	// --backup-max-age 30d is 720 hours, as the API reads "30d".
	waitForLog(t, s, 5*time.Second, "backup schedule started", "schedule=\"@every 2s\"", "max_age=720h0m0s")

	first := waitForSet(t, s, root, 20*time.Second, "scheduled restore-verified set", func(c catSet) bool {
		return c.Trigger == "scheduled" && c.Label == "restore-verified"
	})
	if first.By != "scheduler" || len(first.Databases) != 3 || first.Status != "complete" {
		t.Fatalf("scheduled set %v: want all three databases, by scheduler, complete", first)
	}
	// The catalog is the directory: the offline list reads the same labels.
	if got := findCatSet(t, offlineSets(t, dirs.backups), first.ID); got.Label != "restore-verified" {
		t.Errorf("flowg admin backups list labels %s %q, want restore-verified", first.ID, got.Label)
	}
	line := waitForLog(t, s, 5*time.Second, "backup set written", "id="+first.ID)
	requireContains(t, "the log line of the run", line, "trigger=scheduled", "label=restore-verified", "duration=")

	// The metrics an alert reads: both timestamps, per database.
	for _, db := range dbNames {
		verified := metric(t, s, "flowg_backup_last_verified_timestamp_seconds", db)
		success := metric(t, s, "flowg_backup_last_success_timestamp_seconds", db)
		if verified < unixOf(first.Created)-1e-3 || verified > float64(time.Now().Unix()+1) || success < verified {
			t.Errorf("%s: last verified %f, last success %f; want both at or after the set's %f, and not in the future",
				db, verified, success, unixOf(first.Created))
		}
	}

	// --backup-keep 1: the next run prunes the first set, which is no longer
	// the newest restore-verified one.
	second := waitForSet(t, s, root, 20*time.Second, "second scheduled set", func(c catSet) bool {
		return c.Trigger == "scheduled" && c.Label == "restore-verified" && c.ID != first.ID
	})
	waitForLog(t, s, 5*time.Second, "backup set written", "id="+second.ID, first.ID)
	sets := catSets(t, s, root)
	for _, c := range sets {
		if c.ID == first.ID {
			t.Errorf("set %s was kept; --backup-keep 1 should have pruned it after %s", first.ID, second.ID)
		}
	}
	if _, err := os.Stat(filepath.Join(dirs.backups, first.ID)); !os.IsNotExist(err) {
		t.Errorf("pruned set %s is still on disk (%v)", first.ID, err)
	}
	if v := metric(t, s, "flowg_backup_last_verified_timestamp_seconds", "config"); v < unixOf(second.Created)-1e-3 {
		t.Errorf("last verified %f after the second run, want at least %f", v, unixOf(second.Created))
	}

	// The schedule stops cleanly with the server (exit code 0 is checked).
	s.stop(t)
	requireContains(t, "the server log", s.log.String(), "backup schedule stopped")
}

func TestCatalog_CorruptedSetIsListedVerifyFailed(t *testing.T) {
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	tok := s.createToken(t, root, "")
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
	mustBackupsCLI(t, s, tok, "create")
	sets := catSets(t, s, root)
	if len(sets) != 1 || sets[0].Label != "created, not restore-verified" || sets[0].Trigger != "manual" {
		t.Fatalf("after flowg backups create: %v, want one manual set, created, not restore-verified", sets)
	}
	id := sets[0].ID

	damage(t, filepath.Join(dirs.backups, id, "config.db"))
	r := backupsCLI(t, s, tok, "verify", id)
	if r.code != 1 || !strings.HasPrefix(r.stdout, id+"  verify failed: config.db") {
		t.Fatalf("flowg backups verify of a damaged set: want exit 1 and the label, got\n%s", r)
	}
	for what, list := range map[string][]catSet{"GET /api/v1/backups": catSets(t, s, root), "flowg admin backups list": offlineSets(t, dirs.backups)} {
		got := findCatSet(t, list, id)
		if got.Label != "verify failed" || !strings.Contains(got.Problem, "config.db") || !strings.Contains(got.Problem, "checksum") {
			t.Errorf("%s: %v, want verify failed naming config.db and the checksum", what, got)
		}
	}
	// A set that failed verification is not restored.
	resp := s.send(t, http.MethodPost, "/api/v1/backups/"+id+"/restore", root, nil, "")
	if msg, _ := resp.errorBody(t); resp.status != http.StatusConflict || !strings.Contains(msg, "verify failed") {
		t.Errorf("restore of a set that failed verification:\n%s\nwant 409", resp)
	}
}

func TestCatalog_RestoreBySetIDAndUndoWithThePreRestoreSets(t *testing.T) {
	for _, mode := range []string{"merge", "wipe"} {
		t.Run(mode, func(t *testing.T) {
			dirs := newServerDirs(t)
			s := startServer(t, dirs)
			root := s.rootJWT(t)
			tok := s.createToken(t, root, "") // in the set, so it survives the restore of auth
			s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
			s.putDoc(t, root, "/api/v1/alerts/deleted-later", `{"hook":"x"}`)
			s.ingest(t, root, "app", map[string]any{"id": "1"})
			var set catSet
			s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups?verify=true", root, nil).decode(t, &set)
			if set.Label != "restore-verified" {
				t.Fatalf("POST /api/v1/backups?verify=true: %v, want restore-verified", set)
			}

			s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":2}`)
			s.putDoc(t, root, "/api/v1/pipelines/created-after", `{"n":1}`)
			s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/alerts/deleted-later", root, nil)
			s.ingest(t, root, "app", map[string]any{"id": "2"})
			before := s.readEverything(t, root)

			args := []string{set.ID}
			if mode == "wipe" {
				args = []string{"--wipe", set.ID}
			}
			r := mustBackupsCLI(t, s, tok, "restore", args...)
			how := map[string]string{"merge": "merged into", "wipe": "wiped and restored on"}[mode]
			if n := strings.Count(r.stdout, how); n != 3 {
				t.Errorf("flowg backups restore printed %d lines %q, want 3:\n%s", n, how, r)
			}
			requireContains(t, "flowg backups restore's stderr", r.stderr, "to undo this restore: flowg backups restore --wipe --only auth ",
				" && flowg backups restore --wipe --only config ", " && flowg backups restore --wipe --only logs ")
			if n := strings.Count(r.stderr, "to undo"); n != 1 {
				t.Errorf("a restore of 3 databases printed %d undo lines, want 1:\n%s", n, r)
			}

			if got := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/p", root, nil); !sameJSON(got.body, `{"v":1}`) {
				t.Errorf("after the restore p = %s, want the set's {\"v\":1}", got.body)
			}
			s.must(t, http.StatusOK, http.MethodGet, "/api/v1/alerts/deleted-later", root, nil)
			createdAfter := s.send(t, http.MethodGet, "/api/v1/pipelines/created-after", root, nil, "")
			wantIDs := []string{"1", "2"}
			if mode == "wipe" {
				wantIDs = []string{"1"}
				if createdAfter.status != http.StatusNotFound {
					t.Errorf("after a wipe restore created-after answers %d, want 404", createdAfter.status)
				}
			} else if createdAfter.status != http.StatusOK {
				t.Errorf("after a merge restore created-after answers %d, want 200 (kept)", createdAfter.status)
			}
			if ids := recordIDs(s.streamRecords(t, root, "app")); strings.Join(ids, ",") != strings.Join(wantIDs, ",") {
				t.Errorf("records after the %s: %v, want %v", mode, ids, wantIDs)
			}

			// One pre_restore set per database restored, holding it as it was.
			pre := catSetsWhere(catSets(t, s, root), func(c catSet) bool { return c.Trigger == "pre_restore" })
			if len(pre) != 3 {
				t.Fatalf("pre_restore sets after the restore: %v, want 3", pre)
			}
			for _, p := range pre {
				if len(p.Databases) != 1 || p.By != "root" || p.Label != "created, not restore-verified" {
					t.Errorf("pre_restore set %v: want one database, by root", p)
				}
			}
			// Undo: restore each pre_restore set with --wipe.
			for _, p := range pre {
				mustBackupsCLI(t, s, tok, "restore", "--wipe", p.ID)
			}
			requireSameData(t, "after restoring the pre_restore sets", before, s.readEverything(t, root))
			if n := len(catSetsWhere(catSets(t, s, root), func(c catSet) bool { return c.Trigger == "pre_restore" })); n != 6 {
				t.Errorf("pre_restore sets after the undo: %d, want 6 (every restore takes one)", n)
			}

			// An upload restore takes one too, listed in the catalog.
			file := s.download(t, root, "config")
			a := s.mustRestore(t, root, "config", file, mode == "wipe")
			if got := findCatSet(t, catSets(t, s, root), a.SafetySnapshot); got.Trigger != "pre_restore" {
				t.Errorf("the upload's safety snapshot is listed as %v, want pre_restore", got)
			}
		})
	}
}

func TestCatalog_UnwritableBackupDirFailsTheRunCleanly(t *testing.T) {
	t.Run("a regular file in the way", func(t *testing.T) {
		dirs := newServerDirs(t)
		if err := os.WriteFile(dirs.backups, []byte("not a directory\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, dirs, "--backup-schedule", "@every 1s")
		root := s.rootJWT(t)
		tok := s.createToken(t, root, "")
		s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
		before := s.readEverything(t, root)

		r := s.send(t, http.MethodPost, "/api/v1/backups", root, nil, "")
		msg, hint := r.errorBody(t)
		if r.status != http.StatusInternalServerError || !strings.Contains(msg, "not a directory") || !strings.Contains(hint, "writable directory") {
			t.Errorf("POST /api/v1/backups with a file as the catalog:\n%s\nwant 500 naming the cause and what to fix", r)
		}
		cli := backupsCLI(t, s, tok, "create", "--verify")
		if cli.code != 1 || !strings.Contains(cli.stderr, "flowg: create failed") || !strings.Contains(cli.stderr, "safe:") || !strings.Contains(cli.stderr, "next:") {
			t.Errorf("flowg backups create: want exit 1 with what happened, what is safe and what next, got\n%s", cli)
		}
		waitForLog(t, s, 10*time.Second, "backup set failed", "trigger=scheduled", "not a directory")
		list := s.send(t, http.MethodGet, "/api/v1/backups", root, nil, "")
		if msg, _ := list.errorBody(t); list.status != http.StatusInternalServerError || !strings.Contains(msg, "could not be read") {
			t.Errorf("GET /api/v1/backups:\n%s\nwant a 500 saying the catalog cannot be read", list)
		}
		if b, _ := os.ReadFile(dirs.backups); string(b) != "not a directory\n" {
			t.Errorf("the file in the way now holds %q", b)
		}
		requireSameData(t, "after the failed runs", before, s.readEverything(t, root))
	})

	t.Run("a full disk keeps the older sets", func(t *testing.T) {
		dirs := newServerDirs(t)
		if err := os.MkdirAll(dirs.backups, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "flowg-test", dirs.backups).CombinedOutput(); err != nil {
			t.Fatalf("mount a 1 MiB tmpfs (this test needs mount(8) to be permitted, as on the CI machine): %v: %s", err, out)
		}
		// Runs after the server stopped (cleanups run last first).
		t.Cleanup(func() {
			if out, err := exec.Command("umount", dirs.backups).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", dirs.backups, err, out)
			}
		})
		// 3 MiB of logs that do not compress: a set of them cannot fit.
		big := content{}
		for i := range 48 {
			b := make([]byte, 32<<10)
			_, _ = rand.Read(b)
			big[fmt.Sprintf("log/app/big-%03d", i)] = record{Value: hex.EncodeToString(b)}
		}
		writeDB(t, dirs.logs, big)
		first := startServer(t, dirs)
		root := first.rootJWT(t)
		first.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
		var older catSet
		first.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups?only=config&verify=true", root, nil).decode(t, &older)
		olderFiles := fingerprint(t, filepath.Join(dirs.backups, older.ID))
		first.stop(t)

		// The same server with a schedule: its runs and a run asked for
		// through the API fail for want of space.
		s := startServer(t, dirs, "--backup-schedule", "@every 1s")
		root = s.rootJWT(t)
		r := s.send(t, http.MethodPost, "/api/v1/backups", root, nil, "")
		msg, hint := r.errorBody(t)
		if r.status != http.StatusInsufficientStorage || !strings.Contains(msg, "no space left on device") || !strings.Contains(hint, "every older set is unchanged") {
			t.Errorf("POST /api/v1/backups on a full disk:\n%s\nwant 507 saying older sets are unchanged", r)
		}
		waitForLog(t, s, 10*time.Second, "backup set failed", "trigger=scheduled", "no space left on device")
		if got := findCatSet(t, catSets(t, s, root), older.ID); got.Label != "restore-verified" {
			t.Errorf("the older set is now %v, want restore-verified", got)
		}
		if v := metric(t, s, "flowg_backup_last_verified_timestamp_seconds", "config"); math.Abs(v-unixOf(older.Created)) > 1e-3 {
			t.Errorf("last verified of config %f, want the older set's %f", v, unixOf(older.Created))
		}
		if v := metric(t, s, "flowg_backup_last_success_timestamp_seconds", "logs"); v != 0 {
			t.Errorf("last success of logs %f, want 0: no set of logs was ever complete", v)
		}
		// The older set still restores (without a safety snapshot, which
		// could not be written either; the set is restore-verified).
		s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":2}`)
		s.must(t, http.StatusOK, http.MethodPost, "/api/v1/backups/"+older.ID+"/restore?no_safety_snapshot=true", root, nil)
		if got := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/p", root, nil); !sameJSON(got.body, `{"v":1}`) {
			t.Errorf("after restoring the older set p = %s, want {\"v\":1}", got.body)
		}

		// Once the server stopped (and with it the schedule), the catalog
		// holds the older set as it was and failed runs, nothing half written.
		s.stop(t)
		for _, c := range offlineSets(t, dirs.backups) {
			switch {
			case c.ID == older.ID && c.Label != "restore-verified":
				t.Errorf("the older set is listed %v, want restore-verified", c)
			case c.ID != older.ID && c.Label != "failed":
				t.Errorf("a failed run is listed as %v, want failed", c)
			}
		}
		for _, name := range entries(t, dirs.backups) {
			if strings.HasPrefix(name, ".tmp-") {
				t.Errorf("a failed run left %s in the catalog", name)
			}
		}
		if got := fingerprint(t, filepath.Join(dirs.backups, older.ID)); got != olderFiles {
			t.Errorf("the older set's files changed:\nbefore:\n%s\nafter:\n%s", olderFiles, got)
		}
		mustFlowg(t, dirs.root, "admin", "backups", "verify", "--backup-dir", dirs.backups, older.ID)
	})
}
