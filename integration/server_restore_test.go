package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServer_RestoreRefusesBadUploads posts damaged and wrong files to the
// restore endpoints, as a merge and as a wipe: each gets a 400 whose hint
// says nothing was changed, a full read of the data through the API is the
// same before and after, and no staged upload is left behind.
func TestServer_RestoreRefusesBadUploads(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	// A record that does not compress away, so the file has a body to cut.
	s.ingest(t, root, "bulk", map[string]any{"id": "big", "blob": fmt.Sprintf("%x", randomBytes(200<<10, 3))})
	files := map[string][]byte{}
	for _, db := range dbNames {
		files[db] = s.download(t, root, db)
	}
	logs := files["logs"]
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(logs)
	zw.Close()
	flipped := append([]byte(nil), logs...)
	flipped[len(flipped)/2] ^= 0x01

	type upload struct {
		name   string
		db     string
		body   []byte
		raw    bool   // the file as the request body, not a form
		inText string // the error or hint must say this
	}
	rows := []upload{
		{name: "random bytes", db: "logs", body: randomBytes(64<<10, 7), inText: "not a backup"},
		{name: "random bytes as the body", db: "config", body: randomBytes(4096, 8), raw: true, inText: "not a backup"},
		{name: "truncated to half", db: "logs", body: logs[:len(logs)/2], inText: "truncated"},
		{name: "truncated by one byte", db: "logs", body: logs[:len(logs)-1], inText: "truncated"},
		{name: "header only", db: "config", body: files["config"][:64], inText: "truncated"},
		{name: "one byte flipped", db: "logs", body: flipped, inText: "checksum"},
		{name: "config.db posted to auth", db: "auth", body: files["config"], inText: "another database"},
		{name: "logs.db posted to config", db: "config", body: files["logs"], inText: "another database"},
		{name: "auth.db posted to logs", db: "logs", body: files["auth"], raw: true, inText: "another database"},
		{name: "empty body", db: "auth", body: nil, raw: true, inText: "empty"},
		{name: "empty file", db: "logs", body: []byte{}, inText: "empty"},
		{name: "gzip-wrapped backup", db: "logs", body: gz.Bytes(), inText: "gzip"},
	}
	before := s.readEverything(t, root)
	for _, row := range rows {
		for _, wipe := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/wipe=%v", row.name, wipe), func(t *testing.T) {
				var r reply
				if row.raw {
					r = s.send(t, http.MethodPost, restorePath(row.db, wipe), root, bytes.NewReader(row.body), "application/octet-stream")
				} else {
					r = s.upload(t, root, row.db, row.body, wipe)
				}
				t.Logf("%s", r)
				if r.status != http.StatusBadRequest {
					t.Fatalf("want 400, got:\n%s", r)
				}
				msg, hint := r.errorBody(t)
				if !strings.Contains(hint, "nothing was changed") {
					t.Fatalf("the hint does not say that nothing was changed:\n%s", r)
				}
				if row.inText != "" && !strings.Contains(strings.ToLower(msg+" "+hint), row.inText) {
					t.Fatalf("the answer does not mention %q:\n%s", row.inText, r)
				}
				requireSameData(t, "after a refused upload", before, s.readEverything(t, root))
			})
		}
	}
	if left := entries(t, dirs.uploads); len(left) != 0 {
		t.Fatalf("staged uploads left behind in %s: %v", dirs.uploads, left)
	}
	// The good files still restore: the refusals were about the files.
	for _, db := range dbNames {
		s.mustRestore(t, root, db, files[db], false)
	}
}

// TestServer_SecondRestoreOfOneDatabaseGets409 holds a logs restore in the
// middle of its upload and starts others meanwhile: a second restore of logs
// (merge or wipe) gets 409 and changes nothing, a restore of config goes
// through, logs keeps answering reads; once the first upload ends it
// completes, and logs can be restored again.
func TestServer_SecondRestoreOfOneDatabaseGets409(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	logsFile := s.download(t, root, "logs")
	configFile := s.download(t, root, "config")
	s.ingest(t, root, "late", map[string]any{"id": "l-1"})

	pr, pw := io.Pipe()
	release := make(chan struct{})
	go func() {
		half := len(logsFile) / 2
		if _, err := pw.Write(logsFile[:half]); err != nil {
			return
		}
		<-release
		if _, err := pw.Write(logsFile[half:]); err != nil {
			return
		}
		pw.Close()
	}()
	first := make(chan reply, 1)
	firstErr := make(chan error, 1)
	go func() {
		r, err := s.trySend(context.Background(), s.http, http.MethodPost, "/api/v1/restore/logs?wipe=true", root, pr, "application/octet-stream")
		if err != nil {
			firstErr <- err
			return
		}
		first <- r
	}()
	endUpload := sync.OnceFunc(func() { close(release) })
	defer endUpload()

	// The first restore has begun once the server counts it.
	deadline := time.Now().Add(20 * time.Second)
	for s.metric(t, `flowg_restores_total{database="logs",mode="wipe"}`) < 1 {
		select {
		case r := <-first:
			t.Fatalf("the held restore ended early:\n%s", r)
		case err := <-firstErr:
			t.Fatalf("the held restore: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the held restore was not counted as started within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	before := s.readEverything(t, root)
	for _, wipe := range []bool{false, true} {
		r := s.upload(t, root, "logs", logsFile, wipe)
		if r.status != http.StatusConflict {
			t.Fatalf("a second restore of logs (wipe=%v) while one runs: want 409, got:\n%s", wipe, r)
		}
		if msg, _ := r.errorBody(t); !strings.Contains(msg, "already running") {
			t.Fatalf("the 409 does not say a restore is already running:\n%s", r)
		}
	}
	requireSameData(t, "after the refused second restores", before, s.readEverything(t, root))
	s.mustRestore(t, root, "config", configFile, false)

	endUpload()
	select {
	case r := <-first:
		if r.status != http.StatusOK {
			t.Fatalf("the held restore, once its upload ended: want 200, got:\n%s", r)
		}
	case err := <-firstErr:
		t.Fatalf("the held restore: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the held restore did not answer within a minute of its upload ending")
	}
	if ids := recordIDs(s.streamRecords(t, root, "late")); len(ids) != 0 {
		t.Fatalf("after the wipe restore stream late (written after the backup) holds %v", ids)
	}
	s.mustRestore(t, root, "logs", logsFile, false)
}

// metric reads one sample of GET /metrics (0 when absent).
func (s *flowgServer) metric(t testing.TB, series string) float64 {
	t.Helper()
	r := s.send(t, http.MethodGet, "/metrics", "", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got:\n%s", r)
	}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return f
		}
	}
	return 0
}

// TestServer_NoOnlineRestoreRefusesEveryRestore starts the server with
// --no-online-restore: every restore, merge or wipe, gets a 403 saying that
// online restore is disabled and how to restore offline, and changes
// nothing; backups keep working.
func TestServer_NoOnlineRestoreRefusesEveryRestore(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--no-online-restore")
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	files := map[string][]byte{}
	for _, db := range dbNames {
		files[db] = s.download(t, root, db)
	}
	changeAfterBackupAPI(t, s, root)
	before := s.readEverything(t, root)
	for _, db := range dbNames {
		for _, wipe := range []bool{false, true} {
			r := s.upload(t, root, db, files[db], wipe)
			if r.status != http.StatusForbidden {
				t.Fatalf("restore of %s (wipe=%v) with --no-online-restore: want 403, got:\n%s", db, wipe, r)
			}
			msg, hint := r.errorBody(t)
			if !strings.Contains(msg, "online restore is disabled") || !strings.Contains(hint, "flowg admin restore") {
				t.Fatalf("the 403 must say online restore is disabled and how to restore offline:\n%s", r)
			}
		}
	}
	requireSameData(t, "after the refused restores", before, s.readEverything(t, root))
	if left := entries(t, dirs.uploads); len(left) != 0 {
		t.Fatalf("refused restores left uploads in %s: %v", dirs.uploads, left)
	}
}

// TestServer_RestoreRefusedWithoutSafetySnapshotOrOverTheLimit starts the
// server with a --backup-dir that cannot be created (under a regular file)
// and a --max-upload of 4 KiB: a restore whose safety snapshot cannot be
// written does not start (5xx, nothing changed, merge or wipe), and an upload
// over the limit gets 413 and changes nothing.
func TestServer_RestoreRefusedWithoutSafetySnapshotOrOverTheLimit(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	blocker := filepath.Join(dirs.root, "not-a-directory")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dirs.backups = filepath.Join(blocker, "backups")
	s := startServer(t, dirs, "--max-upload", "4KiB")
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	config := s.download(t, root, "config")
	changeAfterBackupAPI(t, s, root)
	before := s.readEverything(t, root)

	for _, wipe := range []bool{false, true} {
		r := s.upload(t, root, "config", config, wipe)
		if r.status < 500 {
			t.Fatalf("restore (wipe=%v) with an unwritable backup directory: want a 5xx, got:\n%s", wipe, r)
		}
		msg, hint := r.errorBody(t)
		if !strings.Contains(msg, "safety snapshot") || !strings.Contains(hint, "nothing was changed") {
			t.Fatalf("the answer must say the safety snapshot failed and nothing was changed:\n%s", r)
		}
	}
	requireSameData(t, "after restores refused for want of a safety snapshot", before, s.readEverything(t, root))

	r := s.upload(t, root, "logs", randomBytes(8<<10, 5), false)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("an upload over --max-upload: want 413, got:\n%s", r)
	}
	if _, hint := r.errorBody(t); !strings.Contains(hint, "nothing was changed") {
		t.Fatalf("the 413 must say nothing was changed:\n%s", r)
	}
	requireSameData(t, "after an upload over the limit", before, s.readEverything(t, root))
	if left := entries(t, dirs.uploads); len(left) != 0 {
		t.Fatalf("refused uploads left behind in %s: %v", dirs.uploads, left)
	}
}

// TestServer_PathTraversalInNamesIsRefused sends names holding "..", "/"
// and their escapes to every kind of route: each gets a 4xx (never a 2xx or
// a 500) and nothing changes.
func TestServer_PathTraversalInNamesIsRefused(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	before := s.readEverything(t, root)
	paths := []string{
		"/api/v1/backup/..%2f..%2fetc%2fpasswd", "/api/v1/backup/%2e%2e", "/api/v1/restore/..%2fauth",
		"/api/v1/pipelines/..%2F..%2Fauth", "/api/v1/transformers/%2e%2e", "/api/v1/alerts/..%5Cx",
		"/api/v1/tokens/..%2F..%2Fx", "/api/v1/users/..%2Froot", "/api/v1/roles/..%2Fadmin",
		"/api/v1/streams/..%2Fapp", "/api/v1/streams/..%2Fapp/logs", "/api/v1/streams/%2e%2e/logs",
	}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
			r := s.send(t, method, path, root, strings.NewReader(`{"scopes":[],"ttl":"1h","records":[{"a":1}]}`), "application/json")
			if r.status < 400 || r.status >= 500 {
				t.Fatalf("want a 4xx, got:\n%s", r)
			}
		}
	}
	requireSameData(t, "after requests with traversal in names", before, s.readEverything(t, root))
}
