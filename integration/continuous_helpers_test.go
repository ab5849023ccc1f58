package integration

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// Helpers shared by the continuous backup tests, local and s3://.

// startS3ContinuousServer starts a fresh MinIO with a fresh bucket and a
// server on fresh directories with continuous backup into it.
func startS3ContinuousServer(t *testing.T, extra ...string) (*minioServer, string, serverDirs, *flowgServer) {
	t.Helper()
	requirePrograms(t, "curl")
	setS3ServerEnv(t)
	m := startMinio(t)
	bucket := m.bucket(t)
	dirs := newServerDirs(t)
	return m, bucket, dirs, s3Continuous(t, m, dirs, bucket, extra...)
}

// journalStaging is the directory where a server on dirs stages its
// journal's segments by default.
func journalStaging(dirs serverDirs) string {
	return filepath.Join(dirs.root, "data", "journal-staging")
}

// s3Admin runs `flowg <args>` in dir against the catalog in bucket of m;
// it must exit 0.
func s3Admin(t *testing.T, m *minioServer, bucket, dir string, args ...string) result {
	t.Helper()
	return mustS3Flowg(t, dir, with(args, m.target(bucket)...)...)
}

// waitForNoLag waits up to 30s for db's continuous backup lag to return
// to 0 once the object store is back.
func waitForNoLag(t *testing.T, s *flowgServer, db string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); metric(t, s, "flowg_backup_continuous_lag_seconds", db) != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s' lag did not return to 0 within 30s of the store coming back:\n%s", db, s.log)
		}
	}
}

// ingestAcked ingests one record at a time into stream for d, each id
// prefix-NNNN, and returns when each was acknowledged.
func ingestAcked(t *testing.T, s *flowgServer, authz, stream, prefix string, d time.Duration) map[string]time.Time {
	t.Helper()
	acked := map[string]time.Time{}
	for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		s.ingest(t, authz, stream, map[string]any{"id": id})
		acked[id] = time.Now()
	}
	return acked
}

// killServer kills s (SIGKILL), waits for its process to go, and returns
// the instant it was gone.
func killServer(t *testing.T, s *flowgServer) time.Time {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	s.err = nil // killed on purpose
	return time.Now()
}

// incompressibleRecord is a record with id and 12KiB of random bytes in
// base64 (about 16KiB).
func incompressibleRecord(id string) map[string]any {
	pad := make([]byte, 12<<10)
	_, _ = rand.Read(pad)
	return map[string]any{"id": id, "pad": base64.StdEncoding.EncodeToString(pad)}
}

// requireServerData starts a server on into, fails t unless it holds
// exactly want (what names the case), and stops it.
func requireServerData(t *testing.T, into serverDirs, what string, want map[string]string) {
	t.Helper()
	s := startServer(t, into)
	requireSameData(t, what, want, s.readEverything(t, s.rootJWT(t)))
	s.stop(t)
}
