package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// The bounds of continuous backup to s3://: the bytes staged while the
// store is down, and compaction of the segments in the bucket.

// stagedBytes sums the sizes of the segments waiting under staging.
func stagedBytes(t *testing.T, staging string) int64 {
	t.Helper()
	var n int64
	for _, path := range stagedSegments(t, staging) {
		n += fileSizeOf(t, path)
	}
	return n
}

// TestContinuousS3_StagedBytesAreBounded kills MinIO and ingests more than
// --backup-continuous-max-staged (1MiB) of incompressible records: the
// staging directory stops growing near the bound, the log says the chain
// ends and why, ingest never fails; once MinIO is back a new chain starts
// from a new set, the list names the gap, and a restore --at latest holds
// every record.
func TestContinuousS3_StagedBytesAreBounded(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t, "--backup-continuous-max-staged", "1MiB")
	root := s.rootJWT(t)
	m.kill(t)
	var ids []string
	for i := 0; i < 120; i++ { // 120 records of 16KiB of random base64: about 1.9MB
		id := fmt.Sprintf("big-%03d", i)
		s.ingest(t, root, "bounded", incompressibleRecord(id))
		ids = append(ids, id)
		if i%10 == 9 {
			time.Sleep(250 * time.Millisecond) // a segment per interval
		}
	}
	waitForLog(t, s, 5*time.Second, "the journal chain ends here")
	staging := journalStaging(dirs)
	if n := stagedBytes(t, staging); n > 1<<20+512<<10 {
		t.Fatalf("%d bytes staged with --backup-continuous-max-staged 1MiB", n)
	} else {
		t.Logf("%d bytes staged under a bound of 1MiB", n)
	}
	if !strings.Contains(s.log.String(), "byte bound of segments waited in the staging directory") {
		t.Fatalf("the log does not say why the chain ended:\n%s", s.log)
	}

	m.start(t)
	waitForLog(t, s, 30*time.Second, `msg="continuous backup: new journal chain"`, `reason="more than the 1048576-byte bound of segments waited in the staging directory`)
	ids = append(ids, ingestFor(t, s, root, "bounded", "after", 500*time.Millisecond)...)
	waitForNoLag(t, s, "logs")
	s.stop(t)
	requireNoStagedSegments(t, staging)
	if r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "list"); !strings.Contains(r.stdout, "gap:") || !strings.Contains(r.stdout, "staging directory") {
		t.Fatalf("admin backups list: want the gap the bound made, and why:\n%s", r)
	}
	requireAllRecords(t, m, bucket, "bounded", ids)
}

// TestContinuousS3_SegmentsAreCompactedInTheBucket runs with
// --backup-continuous-compact-after 1s: the bucket ends up holding
// compacted segments (named for a run), not the ones they replaced, and the
// journal still verifies and restores every record.
func TestContinuousS3_SegmentsAreCompactedInTheBucket(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t, "--backup-continuous-compact-after", "1s")
	root := s.rootJWT(t)
	ids := ingestFor(t, s, root, "compacted", "c", 2500*time.Millisecond)
	waitForLog(t, s, 10*time.Second, "continuous backup: compacted")
	s.stop(t)
	compacted := 0
	for _, key := range journalObjects(t, m, bucket, "logs") {
		if strings.Contains(filepath.Base(key), "_") {
			compacted++
		}
	}
	if compacted == 0 {
		t.Fatalf("no compacted segment in the bucket: %v", journalObjects(t, m, bucket, "logs"))
	}
	r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "journal", "--verify")
	if strings.Contains(r.stdout, "problem") {
		t.Fatalf("admin backups journal --verify after compaction: a problem:\n%s", r)
	}
	requireAllRecords(t, m, bucket, "compacted", ids)
}

// fileSizeOf returns the size of the file at path.
func fileSizeOf(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestContinuousS3_PruneDeletesAChainInTheBucket takes a manual set after
// the first chains end, starts the server on new databases (new chains),
// and prunes with --keep 1: the chain that ends before the oldest set kept is
// deleted from the bucket, saying why, and a restore --at latest still
// works.
func TestContinuousS3_PruneDeletesAChainInTheBucket(t *testing.T) {
	m, bucket, dirs, s := startS3ContinuousServer(t)
	writeBaseData(t, s, s.rootJWT(t))
	s.stop(t)
	first := journalObjects(t, m, bucket, "auth")
	nextSecond()
	mustS3Flowg(t, dirs.root, with(with([]string{"admin", "backups", "create"}, s3DataFlags...), m.target(bucket)...)...)
	for _, dir := range []string{dirs.auth, dirs.config, dirs.logs} {
		if err := os.RemoveAll(dir); err != nil { // new databases: their versions start over
			t.Fatal(err)
		}
	}
	nextSecond()
	s = s3Continuous(t, m, dirs, bucket)
	s.stop(t)

	r := s3Admin(t, m, bucket, dirs.root, "admin", "backups", "prune", "--keep", "1")
	if !strings.Contains(r.stdout, "deleted journal chain ") || !strings.Contains(r.stdout, "of auth") {
		t.Fatalf("prune --keep 1 on s3: want auth's first chain deleted:\n%s", r)
	}
	left := m.objects(t, bucket, s3Prefix+"/journal/auth/")
	for _, key := range first {
		if _, ok := left[key]; ok {
			t.Fatalf("%s of the pruned chain is still in the bucket", key)
		}
	}
	if len(left) == 0 {
		t.Fatal("prune deleted auth's newest chain too")
	}
	into := newServerDirs(t)
	if r := s3RestoreAt(t, m, bucket, into, "latest"); r.code != 0 {
		t.Fatalf("restore --at latest after prune on s3:\n%s", r)
	}
}

// TestContinuousS3_OverflowDuringAnOutageLosesNothing overflows the
// capture buffer (--backup-continuous-max-buffer 64KiB) while MinIO is
// down: the chain ends there and, once MinIO is back, a new chain starts
// from a new set, so a restore --at latest holds every record (the changes
// the overflow dropped are in the new set, never silently missing from a
// chain that went on).
func TestContinuousS3_OverflowDuringAnOutageLosesNothing(t *testing.T) {
	m, bucket, _, s := startS3ContinuousServer(t, "--backup-continuous-max-buffer", "64KiB")
	root := s.rootJWT(t)
	m.kill(t)
	var ids []string
	var burst []map[string]any
	for i := 0; i < 12; i++ { // 12 records of 16KiB in one request: past the 64KiB buffer at once
		id := fmt.Sprintf("burst-%02d", i)
		burst = append(burst, incompressibleRecord(id))
		ids = append(ids, id)
	}
	s.ingest(t, root, "overflow", burst...)
	ids = append(ids, ingestFor(t, s, root, "overflow", "down", 600*time.Millisecond)...)
	m.start(t)
	restarted := `msg="continuous backup: new journal chain"`
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !logHasLine(s, restarted, "capture buffer passed"); {
		time.Sleep(100 * time.Millisecond)
	}
	ids = append(ids, ingestFor(t, s, root, "overflow", "up", 600*time.Millisecond)...)
	time.Sleep(time.Second) // shipped
	s.stop(t)
	requireAllRecords(t, m, bucket, "overflow", ids)
	waitForLog(t, s, 0, "the journal chain ends here", "capture buffer passed its 65536-byte bound")
	waitForLog(t, s, 0, restarted, "capture buffer passed its 65536-byte bound")
}

// logHasLine reports whether one line of the server's log holds every want.
func logHasLine(s *flowgServer, wants ...string) bool {
	_, ok := logLine(s, wants...)
	return ok
}

// TestContinuousS3_EncryptedJournal runs continuous backup to s3:// with
// --encrypt-to: segments staged during an outage and the segments in the
// bucket are age ciphertext that never shows a record, and a restore --at
// latest needs the identity and then holds every record.
func TestContinuousS3_EncryptedJournal(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	m, bucket, dirs, s := startS3ContinuousServer(t, "--encrypt-to", id.Recipient().String())
	identity := filepath.Join(dirs.root, "identity")
	if err := os.WriteFile(identity, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := s.rootJWT(t)
	const marker = "journal-plaintext-marker-7f3a"
	var ids []string
	ingest := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			rid := fmt.Sprintf("%s-%03d", prefix, i)
			s.ingest(t, root, "sealed", map[string]any{"id": rid, "msg": marker})
			ids = append(ids, rid)
		}
	}
	ingest("up", 20)
	m.kill(t)
	ingest("down", 20)
	time.Sleep(500 * time.Millisecond) // staged
	staged := stagedSegments(t, journalStaging(dirs))
	if len(staged) == 0 {
		t.Fatal("nothing staged during the outage")
	}
	for _, path := range staged {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		requireSealed(t, "staged segment "+path, b, marker)
	}
	m.start(t)
	waitForNoLag(t, s, "logs")
	s.stop(t)
	for _, key := range journalObjects(t, m, bucket, "logs") {
		if strings.HasSuffix(key, ".seg") {
			requireSealed(t, key, m.get(t, bucket, key), marker)
		}
	}
	if r := s3RestoreAt(t, m, bucket, newServerDirs(t), "latest", "--only", "logs"); r.code == 0 {
		t.Fatalf("restore --at latest of an encrypted journal without --identity: want a refusal:\n%s", r)
	}
	requireRecordsAt(t, m, bucket, "latest", "sealed", ids, "--identity", identity)
}

// requireSealed fails t unless b is an age file that does not show marker.
func requireSealed(t *testing.T, what string, b []byte, marker string) {
	t.Helper()
	if !strings.HasPrefix(string(b), "age-encryption.org/v1\n") || strings.Contains(string(b), marker) {
		t.Fatalf("%s is not age ciphertext hiding the records: %.60q", what, b)
	}
}
