package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `flowg serve --backup-continuous --backup-dir s3://...` against a real
// MinIO: the journal is staged on local disk and shipped to the bucket; a
// restore --at reads it there; MinIO killed for 10 seconds under ingest
// delays the journal without a gap and without a failed request; a
// restart ships what an earlier run staged; one server holds the journal.

// s3Continuous starts a server with continuous backup into bucket of m.
func s3Continuous(t *testing.T, m *minioServer, dirs serverDirs, bucket string, extra ...string) *flowgServer {
	t.Helper()
	return startServer(t, dirs, with(with(continuousFlags, m.target(bucket)...), extra...)...)
}

// s3RestoreAt runs `flowg admin restore --at` of the catalog in bucket
// into the fresh directories into.
func s3RestoreAt(t *testing.T, m *minioServer, bucket string, into serverDirs, at string, extra ...string) result {
	t.Helper()
	return flowg(t, into.root, with(with([]string{"admin", "restore", "--auth-dir", into.auth, "--config-dir", into.config, "--log-dir", into.logs,
		"--at", at}, m.target(bucket)...), extra...)...)
}

// journalObjects returns the keys of the journal's objects of db in bucket.
func journalObjects(t *testing.T, m *minioServer, bucket, db string) []string {
	t.Helper()
	return sortedKeys(m.objects(t, bucket, s3Prefix+"/journal/"+db+"/"))
}

// TestContinuousS3_RestoreAtAnInstantBetweenTwoBatches writes batch A,
// notes an instant, writes batch B (updates, creations and deletes), and
// restores from the bucket --at the instant (exactly A) and --at latest
// (B); the journal is listed and verified there, and the staging
// directory is left empty and private.
func TestContinuousS3_RestoreAtAnInstantBetweenTwoBatches(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.putDoc(t, root, "/api/v1/pipelines/to-delete", `{"delete":"in batch B"}`)
	stateA := s.readEverything(t, root)
	t1 := pause()
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/to-delete", root, nil)
	s.putDoc(t, root, "/api/v1/pipelines/added-in-b", `{"added":"in batch B"}`)
	s.ingest(t, root, "app", map[string]any{"id": "a-6"}, map[string]any{"id": "a-7"})
	stateB := s.readEverything(t, root)
	time.Sleep(600 * time.Millisecond)
	if lag := metric(t, s, "flowg_backup_continuous_lag_seconds", "config"); lag != 0 {
		t.Fatalf("config's lag is %gs 600ms after its last write with the store up", lag)
	}
	s.stop(t)

	if segs := journalObjects(t, m, bucket, "config"); len(segs) < 2 || !strings.HasSuffix(segs[0], ".seg") || !strings.HasSuffix(segs[len(segs)-1], "/chain.json") {
		t.Fatalf("the bucket holds no journal of config: %v", segs)
	}
	staging := journalStaging(dirs)
	requireNoStagedSegments(t, staging)
	if st, err := os.Stat(staging); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("staging directory %s: %v, mode %v; want 0700", staging, err, st.Mode().Perm())
	}

	at1 := newServerDirs(t)
	r := s3RestoreAt(t, m, bucket, at1, t1.Format(time.RFC3339Nano))
	if r.code != 0 || !strings.Contains(r.stdout, t1.Format(time.RFC3339Nano)) {
		t.Fatalf("restore --at %s from s3: want exit 0 and the instant named:\n%s", t1.Format(time.RFC3339Nano), r)
	}
	requireServerData(t, at1, "restore --at the instant between the batches, from s3", stateA)

	latest := newServerDirs(t)
	if r := s3RestoreAt(t, m, bucket, latest, "latest"); r.code != 0 {
		t.Fatalf("restore --at latest from s3: want exit 0:\n%s", r)
	}
	requireServerData(t, latest, "restore --at latest, from s3", stateB)

	r = s3Admin(t, m, bucket, dirs.root, "admin", "backups", "journal", "--verify")
	for _, db := range []string{"auth", "config", "logs"} {
		if !strings.Contains(r.stdout, db) {
			t.Fatalf("admin backups journal --verify on s3: no window of %s:\n%s", db, r)
		}
	}
	if strings.Contains(r.stdout, "problem") {
		t.Fatalf("admin backups journal --verify on s3: a problem:\n%s", r)
	}
	if r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "list"); !strings.Contains(r.stdout, "journal") || strings.Contains(r.stdout, "gap:") {
		t.Fatalf("admin backups list on s3: want the journal's windows and no gap:\n%s", r)
	}
	if r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "verify", "--all"); !strings.Contains(r.stdout, "journal config") {
		t.Fatalf("admin backups verify --all on s3: want the journal's chains verified:\n%s", r)
	}
}

// requireNoStagedSegments fails t if a segment waits under staging.
func requireNoStagedSegments(t *testing.T, staging string) {
	t.Helper()
	if segs := stagedSegments(t, staging); len(segs) > 0 {
		t.Fatalf("segments still staged in %s after a clean stop with the store up: %v", staging, segs)
	}
}

// stagedSegments lists the segments waiting under staging, checking each
// is 0600 in 0700 directories.
func stagedSegments(t *testing.T, staging string) []string {
	t.Helper()
	var segs []string
	err := filepath.Walk(staging, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		switch {
		case info.IsDir() && info.Mode().Perm() != 0o700:
			t.Errorf("staging directory %s has mode %v, want 0700", path, info.Mode().Perm())
		case strings.HasSuffix(path, ".seg"):
			if info.Mode().Perm() != 0o600 {
				t.Errorf("staged segment %s has mode %v, want 0600", path, info.Mode().Perm())
			}
			segs = append(segs, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", staging, err)
	}
	return segs
}

// ingestFor ingests one record at a time into stream for d; every request
// must succeed. It returns the ids written.
func ingestFor(t *testing.T, s *flowgServer, authz, stream, prefix string, d time.Duration) []string {
	t.Helper()
	var ids []string
	for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
		id := fmt.Sprintf("%s-%05d", prefix, i)
		s.ingest(t, authz, stream, map[string]any{"id": id})
		ids = append(ids, id)
		time.Sleep(5 * time.Millisecond)
	}
	return ids
}

// TestContinuousS3_MinioOutageCatchesUpWithoutAGap kills MinIO for 10
// seconds under ingest: every ingest request succeeds, the lag grows and
// shows in the metrics, and once MinIO is back on the same data and port
// the journal catches up: the lag returns to 0, verify passes, the list
// shows no gap, and a restore --at latest holds every record.
func TestContinuousS3_MinioOutageCatchesUpWithoutAGap(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t)
	root := s.rootJWT(t)
	ids := ingestFor(t, s, root, "outage", "before", time.Second)

	m.kill(t)
	ids = append(ids, ingestFor(t, s, root, "outage", "during", 10*time.Second)...)
	lag := metric(t, s, "flowg_backup_continuous_lag_seconds", "logs")
	if lag < 5 {
		t.Fatalf("logs' lag is %gs after 10s of an object store outage under ingest; want it to show the outage", lag)
	}
	if staged := stagedSegments(t, journalStaging(dirs)); len(staged) == 0 {
		t.Fatal("no segment staged on local disk during the outage")
	}
	if staged := metric(t, s, "flowg_backup_continuous_staged_bytes", "logs"); staged <= 0 {
		t.Fatalf("flowg_backup_continuous_staged_bytes of logs is %g during the outage", staged)
	}
	m.start(t)
	back := time.Now()
	ids = append(ids, ingestFor(t, s, root, "outage", "after", time.Second)...)
	waitForNoLag(t, s, "logs")
	if staged := metric(t, s, "flowg_backup_continuous_staged_bytes", "logs"); staged != 0 {
		t.Fatalf("flowg_backup_continuous_staged_bytes of logs is %g once the journal caught up", staged)
	}
	t.Logf("outage: lag %gs after 10s; %d records ingested, none refused; lag back to 0 %s after the store came back", lag, len(ids), time.Since(back).Round(time.Millisecond))
	s.stop(t)
	log := s.log.String()
	if !strings.Contains(log, "the object store does not take the journal's segments") || !strings.Contains(log, "the journal caught up") {
		t.Fatalf("the log does not tell the outage and the catch-up:\n%s", log)
	}
	if strings.Contains(log, "new journal chain") && strings.Count(log, "new journal chain") > 3 {
		t.Fatalf("the outage started new chains:\n%s", log)
	}

	r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "journal", "--verify")
	if strings.Contains(r.stdout, "problem") || strings.Count(r.stdout, "\nlogs") > 1 {
		t.Fatalf("admin backups journal --verify after the outage: want one chain of logs and no problem:\n%s", r)
	}
	if r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "list"); strings.Contains(r.stdout, "gap:") {
		t.Fatalf("admin backups list after the outage shows a gap:\n%s", r)
	}
	requireAllRecords(t, m, bucket, "outage", ids)
}

// requireAllRecords restores the catalog in bucket --at latest into new
// directories and fails t unless stream holds every id.
func requireAllRecords(t *testing.T, m *minioServer, bucket, stream string, ids []string) {
	t.Helper()
	requireRecordsAt(t, m, bucket, "latest", stream, ids)
}

// requireRecordsAt restores the catalog in bucket --at at (with the
// restore's extra flags) into new directories and fails t unless stream
// holds every id.
func requireRecordsAt(t *testing.T, m *minioServer, bucket, at, stream string, ids []string, extra ...string) {
	t.Helper()
	into := newServerDirs(t)
	if r := s3RestoreAt(t, m, bucket, into, at, extra...); r.code != 0 {
		t.Fatalf("restore --at %s from s3: want exit 0:\n%s", at, r)
	}
	r := startServer(t, into)
	have := map[string]bool{}
	for _, id := range recordIDs(r.streamRecords(t, r.rootJWT(t), stream)) {
		have[id] = true
	}
	missing := 0
	for _, id := range ids {
		if !have[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d records acknowledged are not in the restore --at %s", missing, len(ids), at)
	}
	r.stop(t)
}

// TestContinuousS3_RestartShipsStagedSegments stops the server while
// MinIO is down: the last segments stay staged on disk. The next start,
// with MinIO back, ships them first, and the chain continues: a restore
// --at latest holds every record.
func TestContinuousS3_RestartShipsStagedSegments(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t)
	root := s.rootJWT(t)
	ids := ingestFor(t, s, root, "staged", "up", 500*time.Millisecond)
	m.kill(t)
	ids = append(ids, ingestFor(t, s, root, "staged", "down", time.Second)...)
	s.stop(t)
	staging := journalStaging(dirs)
	staged := stagedSegments(t, staging)
	if len(staged) == 0 {
		t.Fatalf("nothing staged after a stop with the object store down:\n%s", s.log)
	}

	m.start(t)
	s = s3Continuous(t, m, dirs, bucket)
	log := s.log.String()
	if !strings.Contains(log, "shipped the segments an earlier run had staged") || !strings.Contains(log, "journal continues") {
		t.Fatalf("the restart does not say it shipped the staged segments and continued the chain:\n%s", log)
	}
	for _, path := range staged {
		rel, _ := filepath.Rel(staging, path) // <db>/<chain>/<segment>
		if _, ok := m.objects(t, bucket, s3Prefix+"/journal/"+filepath.ToSlash(rel))[s3Prefix+"/journal/"+filepath.ToSlash(rel)]; !ok {
			t.Fatalf("the staged segment %s is not in the bucket after the restart", rel)
		}
	}
	s.stop(t)
	requireNoStagedSegments(t, staging)
	requireAllRecords(t, m, bucket, "staged", ids)
}

// TestContinuousS3_TwoServersOnOneCatalogAreRefused starts a second server
// on the s3:// catalog of a running one: it refuses, naming the holder of
// the journal's lease. Once the first is killed (its process gone), the
// next server takes the journal over at once.
func TestContinuousS3_TwoServersOnOneCatalogAreRefused(t *testing.T) {
	m, bucket, firstDirs, first := startS3ContinuousServer(t)
	other := newServerDirs(t)
	firstStaging := journalStaging(firstDirs)
	r := flowg(t, other.root, with([]string{"serve", "--auth-dir", other.auth, "--config-dir", other.config, "--log-dir", other.logs,
		"--http-bind", "127.0.0.1:0", "--root-password", serverRootPassword, "--backup-continuous", "--backup-continuous-staging-dir", firstStaging}, m.target(bucket)...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "another flowg server stages its journal in "+firstStaging) {
		t.Fatalf("a second server on the staging directory of a running one: want a refusal naming it:\n%s", r)
	}
	r = flowg(t, other.root, with([]string{"serve", "--auth-dir", other.auth, "--config-dir", other.config, "--log-dir", other.logs,
		"--http-bind", "127.0.0.1:0", "--root-password", serverRootPassword, "--backup-continuous"}, m.target(bucket)...)...)
	want := "another flowg server (host "
	if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "writes its journal to s3://"+bucket+"/"+s3Prefix) {
		t.Fatalf("a second server on one s3:// catalog: want a refusal naming the holder of the journal:\n%s", r)
	}
	killServer(t, first)
	next := s3Continuous(t, m, other, bucket)
	if !strings.Contains(next.log.String(), "took the journal over from a server that is gone") {
		t.Fatalf("the server after a killed one does not say it took the journal over:\n%s", next.log)
	}
	next.stop(t)
	if objs := m.objects(t, bucket, s3Prefix+"/journal/owner.json"); len(objs) != 0 {
		t.Fatalf("the journal's lease is left in the bucket after a clean stop: %v", sortedKeys(objs))
	}
}

// TestContinuousS3_OnlineRestoreAtAnInstant restores a running server's
// config and logs, wiped, to an instant between two batches from its
// s3:// catalog's journal (POST /api/v1/backups/restore?at=): exactly the
// first batch; the journal then starts new chains on the restored
// databases, and GET /api/v1/backups/journal lists the bucket's windows.
func TestContinuousS3_OnlineRestoreAtAnInstant(t *testing.T) {
	_, _, _, s := startS3ContinuousServer(t)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	stateA := s.readEverything(t, root)
	t1 := pause().Format(time.RFC3339Nano)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/ingest", root, nil)
	s.putDoc(t, root, "/api/v1/pipelines/added-in-b", `{"added":"in batch B"}`)
	s.ingest(t, root, "app", map[string]any{"id": "a-6"})
	time.Sleep(600 * time.Millisecond) // shipped

	var journal struct {
		Windows []struct{ Database string }
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups/journal", root, nil).decode(t, &journal)
	if len(journal.Windows) != 3 {
		t.Fatalf("GET /api/v1/backups/journal on an s3:// catalog lists %+v, want a window of each database", journal.Windows)
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/backups/restore?only=config,logs&wipe=true&at="+t1, root, nil)
	requireSameData(t, "online wipe restore from s3 at the instant between the batches", stateA, s.readEverything(t, root))
	waitForLog(t, s, 10*time.Second, "new journal chain", "replaced by a wipe restore")
	s.stop(t)
}

// TestContinuousS3_AnExpiredLeaseIsTakenOver freezes a server (SIGSTOP:
// alive, but renewing nothing) past its 3s lease: a second server then
// takes the journal over, and the first, thawed, learns it lost the lease
// and stops writing the journal.
func TestContinuousS3_AnExpiredLeaseIsTakenOver(t *testing.T) {
	m, bucket, _, first := startS3ContinuousServer(t, "--backup-continuous-lease", "3s")
	if err := first.cmd.Process.Signal(freezeSignal); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = first.cmd.Process.Signal(thawSignal)
		}
	}
	t.Cleanup(thaw)
	time.Sleep(3500 * time.Millisecond)
	next := s3Continuous(t, m, newServerDirs(t), bucket, "--backup-continuous-lease", "3s")
	if !strings.Contains(next.log.String(), "took the journal over from a server that is gone") {
		t.Fatalf("the second server does not say it took an expired lease over:\n%s", next.log)
	}
	thaw()
	waitForLog(t, first, 10*time.Second, "another server took the journal's lease over; this server stops writing its journal")
	next.stop(t)
	first.stop(t)
}

// TestContinuousS3_SIGKILLWithTheStoreDown kills the server (SIGKILL)
// while MinIO is down under ingest, then restarts both: the staged
// segments are shipped first, the dead server's lease is taken over at
// once, and a restore --at the instant an interval plus one second before
// the kill (covered by the first chain only) holds every record
// acknowledged before it.
func TestContinuousS3_SIGKILLWithTheStoreDown(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t)
	root := s.rootJWT(t)
	m.kill(t)
	acked := ingestAcked(t, s, root, "killed", "k", 2*time.Second)
	killed := killServer(t, s)

	m.start(t)
	s = s3Continuous(t, m, dirs, bucket)
	if log := s.log.String(); !strings.Contains(log, "shipped the segments an earlier run had staged") || !strings.Contains(log, "took the journal over from a server that is gone") {
		t.Fatalf("the restart after a SIGKILL with the store down does not ship the staged segments, or does not take the dead server's lease over:\n%s", log)
	}
	s.stop(t)
	bound := killed.Add(-(200*time.Millisecond + time.Second))
	var ids []string
	for id, at := range acked {
		if at.Before(bound) {
			ids = append(ids, id)
		}
	}
	// An instant before the restart: only the first chain, whose last
	// segments were staged when the server died, covers it.
	requireRecordsAt(t, m, bucket, bound.UTC().Format(time.RFC3339Nano), "killed", ids)
	t.Logf("%d records acknowledged, %d of them more than 1.2s before the SIGKILL", len(acked), len(ids))
}
