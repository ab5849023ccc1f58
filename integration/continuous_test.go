package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// continuousFlags turn continuous backup on, shipping every 200ms.
var continuousFlags = []string{"--backup-continuous", "--backup-continuous-interval", "200ms"}

// restoreAt runs `flowg admin restore --at at` of the catalog at backups
// into the fresh directories into (with extra flags) and returns what it did.
func restoreAt(t *testing.T, backups string, into serverDirs, at string, extra ...string) result {
	t.Helper()
	return flowg(t, into.root, with([]string{"admin", "restore", "--auth-dir", into.auth, "--config-dir", into.config, "--log-dir", into.logs,
		"--backup-dir", backups, "--at", at}, extra...)...)
}

// pause returns an instant between what was written before and what is
// written after: the journal stamps a commit within milliseconds of it.
func pause() time.Time {
	time.Sleep(400 * time.Millisecond)
	at := time.Now().UTC()
	time.Sleep(400 * time.Millisecond)
	return at
}

// TestContinuous_RestoreAtAnInstantBetweenTwoBatches writes batch A through
// the API of a server with --backup-continuous, notes an instant, writes
// batch B (updates, creations and deletes in auth, config and logs), stops
// the server, creates a token offline and restarts it. A restore --at the
// instant into empty directories gives exactly A; --at latest gives A and
// B and the offline token; a truncated segment makes a restore past it
// fail, naming the newest instant that can be restored, and nothing is
// written.
func TestContinuous_RestoreAtAnInstantBetweenTwoBatches(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"in batch B"}`)
	stateA := s.readEverything(t, root)
	t1 := pause()

	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", root, map[string]any{"scopes": []string{"read_streams", "send_logs"}})
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/alerts/oncall", root, nil)
	s.putDoc(t, root, "/api/v1/transformers/clean", `. | del(.password)`)
	s.putDoc(t, root, "/api/v1/pipelines/added-in-b", `{"added":"in batch B"}`)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/streams/app", root, map[string]any{"ttl": "48h"})
	s.ingest(t, root, "app", map[string]any{"id": "a-6"}, map[string]any{"id": "a-7"})
	s.ingest(t, root, "late", map[string]any{"id": "l-1", "msg": "written in batch B"})
	stateB := s.readEverything(t, root)
	s.stop(t)

	// A write the subscription never sees: the next start must ship it.
	token := strings.TrimSpace(mustFlowg(t, dirs.root, "admin", "token", "create", "--auth-dir", dirs.auth, "--user", "root").stdout)
	s = startServer(t, dirs, continuousFlags...)
	if !strings.Contains(s.log.String(), "changed while the server was stopped") {
		t.Fatalf("the restart after an offline write does not say why a new journal chain starts:\n%s", s.log)
	}
	s.stop(t)

	at1 := newServerDirs(t)
	r := restoreAt(t, dirs.backups, at1, t1.Format(time.RFC3339Nano))
	if r.code != 0 || !strings.Contains(r.stdout, t1.Format(time.RFC3339Nano)) {
		t.Fatalf("restore --at %s: want exit 0 and the instant named:\n%s", t1.Format(time.RFC3339Nano), r)
	}
	requireServerData(t, at1, "restore --at the instant between the batches", stateA)

	latest := newServerDirs(t)
	if r := restoreAt(t, dirs.backups, latest, "latest"); r.code != 0 || !strings.Contains(r.stderr, "to its state at") {
		t.Fatalf("restore --at latest: want exit 0 and the instant named:\n%s", r)
	}
	s2 := startServer(t, latest)
	got := s2.readEverything(t, s2.rootJWT(t))
	delete(got, "/api/v1/tokens?all=true") // it lists the token created offline
	delete(stateB, "/api/v1/tokens?all=true")
	requireSameData(t, "restore --at latest", stateB, got)
	if !tokenWorks(t, s2, createdToken{Token: token}) {
		t.Fatal("the token created while the server was stopped is not in the restore --at latest")
	}
	s2.stop(t)

	if r := mustFlowg(t, dirs.root, "admin", "backups", "journal", "--backup-dir", dirs.backups, "--verify"); strings.Count(r.stdout, "problem") > 0 ||
		!strings.Contains(r.stdout, "config") || !strings.Contains(r.stdout, "logs") || !strings.Contains(r.stdout, "auth") {
		t.Fatalf("admin backups journal --verify: want a window of every database and no problem:\n%s", r)
	}

	// A truncated segment: verify names it; a restore past it is refused
	// and writes nothing.
	seg := newestSegmentWithChanges(t, filepath.Join(dirs.backups, "journal", "config"))
	st, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(seg, st.Size()-7); err != nil {
		t.Fatal(err)
	}
	if r := flowg(t, dirs.root, "admin", "backups", "journal", "--backup-dir", dirs.backups, "--verify"); r.code != 1 ||
		!strings.Contains(r.stdout, "problem: segment "+filepath.Base(seg)) || !strings.Contains(r.stderr, "truncated") {
		t.Fatalf("admin backups journal --verify after a truncated segment: want exit 1 naming it:\n%s", r)
	}
	refused := newServerDirs(t)
	r = restoreAt(t, dirs.backups, refused, "latest", "--only", "config")
	if r.code == 0 || !strings.Contains(r.stderr, "truncated") || !strings.Contains(r.stderr, "the newest instant the config database can be restored to is") {
		t.Fatalf("restore past a truncated segment: want a refusal naming the newest restorable instant:\n%s", r)
	}
	if _, err := os.Stat(refused.config); !os.IsNotExist(err) {
		t.Fatalf("a refused restore created %s (%v)", refused.config, err)
	}
	r = restoreAt(t, dirs.backups, refused, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--only", "auth")
	if r.code == 0 || !strings.Contains(r.stderr, "outside what the journal of the auth database can restore") {
		t.Fatalf("restore --at an hour from now: want a refusal naming the window:\n%s", r)
	}
}

// newestSegmentWithChanges returns the newest journal segment under dir
// that holds more than a watermark.
func newestSegmentWithChanges(t *testing.T, dir string) string {
	t.Helper()
	var segs []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".seg") && info.Size() > 400 {
			segs = append(segs, path)
		}
		return err
	})
	if err != nil || len(segs) == 0 {
		t.Fatalf("no journal segment with changes under %s: %v", dir, err)
	}
	sort.Strings(segs) // chains and sequence numbers sort by age
	return segs[len(segs)-1]
}

// TestContinuous_SIGKILLLosesAtMostTheLastInterval ingests records one at a
// time into a server with --backup-continuous, kills it (SIGKILL) and
// restores the logs --at latest: every record acknowledged more than the
// interval plus one second before the kill is there.
func TestContinuous_SIGKILLLosesAtMostTheLastInterval(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	acked := ingestAcked(t, s, root, "crash", "r", 2500*time.Millisecond)
	killed := killServer(t, s)

	into := newServerDirs(t)
	if r := restoreAt(t, dirs.backups, into, "latest", "--only", "logs"); r.code != 0 {
		t.Fatalf("restore --at latest after SIGKILL: want exit 0:\n%s", r)
	}
	mustFlowg(t, into.root, "admin", "restore", "--auth-dir", into.auth, "--backup-dir", dirs.backups, "--at", "latest", "--only", "auth")
	r := startServer(t, into)
	have := map[string]bool{}
	for _, id := range recordIDs(r.streamRecords(t, r.rootJWT(t), "crash")) {
		have[id] = true
	}
	bound := killed.Add(-(200*time.Millisecond + time.Second))
	missing, lost := 0, 0
	for id, at := range acked {
		switch {
		case !have[id] && at.Before(bound):
			missing++
		case !have[id]:
			lost++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d records acknowledged more than 1.2s before the SIGKILL are not in the restore --at latest", missing, len(acked))
	}
	t.Logf("%d records acknowledged; %d acknowledged within 1.2s of the SIGKILL are missing", len(acked), lost)
}

// TestContinuous_OnlineWipeRestoreStartsANewChain restores the config
// database online (wipe) while continuous backup runs: the journal starts a
// new chain on the restored database, and a restore --at latest holds the
// restored state and what was written after it, not what the wipe removed.
func TestContinuous_OnlineWipeRestoreStartsANewChain(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	file := s.download(t, root, "config")
	s.putDoc(t, root, "/api/v1/pipelines/wiped", `{"gone":"after the wipe restore"}`)
	s.mustRestore(t, root, "config", file, true)
	s.putDoc(t, root, "/api/v1/pipelines/after", `{"written":"after the wipe restore"}`)
	time.Sleep(600 * time.Millisecond) // the journal restarts on the new database within an interval
	s.putDoc(t, root, "/api/v1/pipelines/later", `{"written":"once the new chain runs"}`)
	want := s.readEverything(t, root)
	s.stop(t)
	if !strings.Contains(s.log.String(), "replaced by a wipe restore") {
		t.Fatalf("the journal does not say it started a new chain on the restored database:\n%s", s.log)
	}
	into := newServerDirs(t)
	if r := restoreAt(t, dirs.backups, into, "latest"); r.code != 0 {
		t.Fatalf("restore --at latest: want exit 0:\n%s", r)
	}
	r := startServer(t, into)
	got := r.readEverything(t, r.rootJWT(t))
	requireSameData(t, "restore --at latest after an online wipe restore", want, got)
}

// TestContinuous_TwoServersOnOneCatalogAreRefused starts a second server
// with --backup-continuous on the catalog of a running one: it refuses to
// start rather than interleave its journal with the first's.
func TestContinuous_TwoServersOnOneCatalogAreRefused(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	startServer(t, dirs, continuousFlags...)
	other := newServerDirs(t)
	r := flowg(t, other.root, "serve", "--auth-dir", other.auth, "--config-dir", other.config, "--log-dir", other.logs,
		"--http-bind", "127.0.0.1:0", "--backup-dir", dirs.backups, "--root-password", serverRootPassword, "--backup-continuous")
	if r.code == 0 || !strings.Contains(r.stderr, "another flowg server writes its journal to "+dirs.backups) {
		t.Fatalf("a second server on one catalog: want a refusal naming the catalog:\n%s", r)
	}
}

// TestContinuous_FlagsAreChecked refuses bad --backup-continuous* values
// before anything is opened.
func TestContinuous_FlagsAreChecked(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backup-continuous-interval", "1s"}, "add --backup-continuous"},
		{[]string{"--backup-continuous", "--backup-continuous-interval", "1ms"}, "between 10ms and 1h"},
		{[]string{"--backup-continuous", "--backup-continuous-max-buffer", "1KiB"}, "between 4KiB and 1TiB"},
		{[]string{"--backup-continuous", "--backup-continuous-compact-after", "10ms"}, "at least 1s"},
		{[]string{"--backup-continuous-compact-after", "1h"}, "add --backup-continuous"},
		{[]string{"--backup-continuous", "--backup-continuous-staging-dir", "stage"}, "is for an s3:// --backup-dir"},
		{[]string{"--backup-continuous-max-staged", "1GiB"}, "add --backup-continuous"},
		{[]string{"--backup-continuous", "--backup-dir", "s3://bucket/prefix", "--backup-continuous-lease", "1s"}, "between 3s and 1h"},
		{[]string{"--backup-continuous", "--backup-dir", "s3://bucket/prefix", "--backup-continuous-max-staged", "1KiB"}, "between 1MiB and 1TiB"},
	} {
		r := flowg(t, dirs.root, with([]string{"serve", "--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs,
			"--http-bind", "127.0.0.1:0", "--backup-dir", dirs.backups}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Fatalf("serve %v: want exit code 2 and %q:\n%s", c.args, c.want, r)
		}
	}
	if _, err := os.Stat(dirs.auth); !os.IsNotExist(err) {
		t.Fatalf("a refused serve created %s (%v)", dirs.auth, err)
	}
}

// TestContinuous_MergeAtWritesTheStateAndDeletesWhatWasDeleted merges the
// config database as it was at the journal's latest instant into another
// server's populated database: keys of that state are written, keys deleted
// between the base set and the instant are deleted, keys the chain never
// held are kept; a safety snapshot comes first.
func TestContinuous_MergeAtWritesTheStateAndDeletesWhatWasDeleted(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/deleted", `{"v":"deleted later"}`)
	s.putDoc(t, root, "/api/v1/pipelines/changed", `{"v":1}`)
	pause()
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/deleted", root, nil)
	s.putDoc(t, root, "/api/v1/pipelines/changed", `{"v":2}`)
	s.putDoc(t, root, "/api/v1/pipelines/added", `{"v":"added"}`)
	s.stop(t)

	other := newServerDirs(t)
	o := startServer(t, other)
	oroot := o.rootJWT(t)
	o.putDoc(t, oroot, "/api/v1/pipelines/deleted", `{"v":"the other server's"}`)
	o.putDoc(t, oroot, "/api/v1/pipelines/changed", `{"v":"the other server's"}`)
	o.putDoc(t, oroot, "/api/v1/pipelines/local-only", `{"v":"never in the journal"}`)
	o.stop(t)

	// The dry run counts the key a merge to the instant deletes too.
	r := flowg(t, other.root, "admin", "restore", "--config-dir", other.config, "--only", "config", "--backup-dir", dirs.backups,
		"--at", "latest", "--catalog-dir", other.backups, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "remove 1 deleted before the instant") || !strings.Contains(r.stderr, "dry run: nothing was written") {
		t.Fatalf("merge --at latest --dry-run: want exit 0 and the deleted key counted:\n%s", r)
	}
	r = flowg(t, other.root, "admin", "restore", "--config-dir", other.config, "--only", "config", "--backup-dir", dirs.backups,
		"--at", "latest", "--catalog-dir", other.backups)
	if r.code != 0 || !strings.Contains(r.stdout, "merged from the journal of") || !strings.Contains(r.stdout, "1 keys deleted before the instant removed") ||
		!strings.Contains(r.stderr, "safety snapshot of config") {
		t.Fatalf("merge --at latest: want exit 0, a safety snapshot and the deleted key removed:\n%s", r)
	}
	o = startServer(t, other)
	oroot = o.rootJWT(t)
	o.must(t, http.StatusNotFound, http.MethodGet, "/api/v1/pipelines/deleted", oroot, nil)
	for path, want := range map[string]string{
		"/api/v1/pipelines/changed":    `{"v":2}`,
		"/api/v1/pipelines/added":      `{"v":"added"}`,
		"/api/v1/pipelines/local-only": `{"v":"never in the journal"}`,
	} {
		if got := o.must(t, http.StatusOK, http.MethodGet, path, oroot, nil); !jsonEqual(got.body, want) {
			t.Fatalf("GET %s after merge --at: %s, want %s", path, got.body, want)
		}
	}
}

// TestContinuous_MetricsShowTheLagAndTheLastShippedInstant reads the two
// continuous backup metrics of every database after a write was shipped.
func TestContinuous_MetricsShowTheLagAndTheLastShippedInstant(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	s.putDoc(t, s.rootJWT(t), "/api/v1/pipelines/p", `{"v":1}`)
	written := time.Now()
	time.Sleep(600 * time.Millisecond)
	if lag := metric(t, s, "flowg_backup_continuous_lag_seconds", "config"); lag != 0 {
		t.Fatalf("config's lag is %gs 600ms after its last write, with an interval of 200ms", lag)
	}
	if shipped := metric(t, s, "flowg_backup_continuous_last_shipped_timestamp_seconds", "config"); shipped < unixOf(written) {
		t.Fatalf("config was last shipped at %g, before its last write at %g", shipped, unixOf(written))
	}
	for _, db := range []string{"auth", "logs"} {
		if shipped := metric(t, s, "flowg_backup_continuous_last_shipped_timestamp_seconds", db); shipped <= 0 {
			t.Fatalf("%s has no last shipped instant: %g", db, shipped)
		}
	}

	// The windows, through the API.
	var journal struct {
		Windows []struct {
			Database string
			From, To time.Time
			Segments int
		}
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups/journal", s.rootJWT(t), nil).decode(t, &journal)
	seen := map[string]bool{}
	for _, w := range journal.Windows {
		seen[w.Database] = true
		if w.Database == "config" && (w.Segments == 0 || w.To.Before(written)) {
			t.Fatalf("config's window through the API: %+v; want it to cover the write at %s", w, written)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("GET /api/v1/backups/journal lists %v, want the three databases", journal.Windows)
	}
}

// TestContinuous_OnlineRestoreAtAnInstant restores a running server's
// config and logs to an instant between two batches through
// POST /api/v1/backups/restore?at=: a merge writes the state at the
// instant and keeps what the chain never deleted; a wipe gives exactly the
// first batch. An instant outside the journal, or no instant at all, is a
// 400 that changes nothing.
func TestContinuous_OnlineRestoreAtAnInstant(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"in batch B"}`)
	stateA := s.readEverything(t, root)
	t1 := pause().Format(time.RFC3339Nano)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
	s.putDoc(t, root, "/api/v1/pipelines/added-in-b", `{"added":"in batch B"}`)
	s.ingest(t, root, "app", map[string]any{"id": "a-6"})
	time.Sleep(500 * time.Millisecond) // shipped

	for _, q := range []string{"at=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "at=yesterday", ""} {
		r := s.send(t, http.MethodPost, "/api/v1/backups/restore?"+q, root, nil, "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("POST /api/v1/backups/restore?%s: want 400, got:\n%s", q, r)
		}
		if strings.HasPrefix(q, "at=2") && !strings.Contains(string(r.body), `"code":"journal_not_covered"`) {
			t.Fatalf("an instant the journal does not cover: want code journal_not_covered:\n%s", r)
		}
	}
	// A dry run to the instant says what would change and writes nothing.
	var plan struct {
		DryRun   bool `json:"dry_run"`
		Restores []struct {
			Plan struct {
				Added   uint64 `json:"added"`
				Removed uint64 `json:"removed_by_wipe"`
			} `json:"plan"`
			SafetySnapshot string `json:"safety_snapshot"`
		} `json:"restores"`
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/backups/restore?only=config&dry_run=true&at="+t1, root, nil).decode(t, &plan)
	if !plan.DryRun || len(plan.Restores) != 1 || plan.Restores[0].Plan.Added < 1 || plan.Restores[0].Plan.Removed < 1 || plan.Restores[0].SafetySnapshot != "" {
		t.Fatalf("dry run at %s: %+v; want to-delete counted as added back, added-in-b as removed by a wipe, no safety snapshot", t1, plan)
	}
	s.must(t, http.StatusNotFound, http.MethodGet, "/api/v1/pipelines/to-delete", root, nil) // the dry run wrote nothing
	var merged struct {
		Instants []struct {
			Database string
			Instant  time.Time
		}
		Deleted map[string]int
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/backups/restore?only=config&at="+t1, root, nil).decode(t, &merged)
	if len(merged.Instants) != 1 || merged.Instants[0].Instant.Format(time.RFC3339Nano) != t1 {
		t.Fatalf("the merge answer names %+v, want config at %s", merged.Instants, t1)
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/to-delete", root, nil)  // written back
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/pipelines/added-in-b", root, nil) // never deleted: kept

	// The same through the client: flowg backups restore --at.
	tok := s.createToken(t, root, "")
	r := mustFlowg(t, dirs.client, "backups", "restore", "--server", s.url, "--token", tok.Token, "--at", t1, "--only", "config")
	if !strings.Contains(r.stdout, "merged into "+s.url+" at "+t1) || !strings.Contains(r.stderr, "config restored to its state at "+t1) {
		t.Fatalf("flowg backups restore --at: want the instant named:\n%s", r)
	}

	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/backups/restore?only=config,logs&wipe=true&at="+t1, root, nil)
	got := s.readEverything(t, root)
	delete(got, "/api/v1/tokens?all=true") // the client's token
	delete(stateA, "/api/v1/tokens?all=true")
	requireSameData(t, "online wipe restore at the instant between the batches", stateA, got)
}

// TestContinuous_MergedRawBackupKeepsItsEmptyValues merges, online, a raw
// Badger backup holding an empty value into a server with continuous
// backup: a restore --at latest holds the empty value (a write, not a
// delete) beside the other keys.
func TestContinuous_MergedRawBackupKeepsItsEmptyValues(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	src := t.TempDir()
	writeDB(t, filepath.Join(src, "config"), content{"raw/empty": {Value: ""}, "raw/full": {Value: "v"}})
	mustFlowg(t, src, "admin", "backup", "--config-dir", filepath.Join(src, "config"), "--only", "config", "--format", "badger",
		"--backup-dir", filepath.Join(src, "bk"))
	file, err := os.ReadFile(filepath.Join(src, "bk", "config.db"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":1}`)
	if r := s.upload(t, root, "config", file, false); r.status != http.StatusOK {
		t.Fatalf("merge of the raw backup: want 200, got:\n%s", r)
	}
	time.Sleep(500 * time.Millisecond)
	s.stop(t)

	into := newServerDirs(t)
	if r := restoreAt(t, dirs.backups, into, "latest", "--only", "config"); r.code != 0 {
		t.Fatalf("restore --at latest: want exit 0:\n%s", r)
	}
	got := readDB(t, into.config)
	if v, ok := got["raw/empty"]; !ok || v.Value != "" {
		t.Fatalf("the empty value of the raw backup after restore --at latest: %v, %v", v, ok)
	}
	if got["raw/full"].Value != "v" {
		t.Fatalf("raw/full after restore --at latest: %v", got["raw/full"])
	}
}
