package integration

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ingestLarge writes mib MiB of records that do not compress away (256 KiB
// of random bytes, hex-encoded, each) into stream, so that a backup of logs
// is large enough to outlast the socket buffers between the server and a
// slow curl (a few MiB).
func ingestLarge(t testing.TB, s *flowgServer, authz, stream string, mib int) {
	t.Helper()
	const perRecord, perRequest = 256 << 10, 4 // 512 KiB of JSON each, 2 MiB per request
	records := mib << 20 / (2 * perRecord)
	for start := 0; start < records; start += perRequest {
		var batch []map[string]any
		for i := start; i < min(start+perRequest, records); i++ {
			batch = append(batch, map[string]any{"id": fmt.Sprintf("large-%04d", i), "blob": hex.EncodeToString(randomBytes(perRecord, int64(i+1)))})
		}
		s.ingest(t, authz, stream, batch...)
	}
}

// slowCurl is a curl downloading a backup at a limited rate in the background.
type slowCurl struct {
	cmd    *exec.Cmd
	out    string // the file curl writes
	stderr strings.Builder
	exited chan struct{}
	code   int
}

// startSlowCurl downloads GET path into out at rate bytes per second with
// curl --limit-rate, and returns once curl has written the first bytes (the
// server is streaming).
func startSlowCurl(t testing.TB, s *flowgServer, authz, path, out, rate string) *slowCurl {
	t.Helper()
	c := &slowCurl{out: out, exited: make(chan struct{})}
	args := []string{"--silent", "--show-error", "--fail", "--limit-rate", rate, "-H", "Authorization: " + authz, "--output", out, s.url + path}
	c.cmd = exec.Command("curl", args...)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start curl: %v", err)
	}
	go func() {
		err := c.cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			c.code = exit.ExitCode()
		} else if err != nil {
			c.code = -1
		}
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if fi, err := os.Stat(out); err == nil && fi.Size() > 0 {
			return c
		}
		select {
		case <-c.exited:
			t.Fatalf("curl --limit-rate %s %s exited %d before writing anything: %s", rate, path, c.code, c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("curl --limit-rate %s %s wrote nothing within a minute", rate, path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startStalledDownload sends GET path on a connection of its own, reads
// the first bytes of the answer (the server is streaming) and then never
// reads again, as a client that hangs would.
func startStalledDownload(t testing.TB, s *flowgServer, authz, path string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n", path, strings.TrimPrefix(s.url, "http://"), authz)
	head := make([]byte, 12)
	if err := conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(conn, head); err != nil || string(head) != "HTTP/1.1 200" {
		t.Fatalf("GET %s on a raw connection: read %q, %v; want HTTP/1.1 200", path, head, err)
	}
	return conn
}

// wait waits for curl to exit and returns its exit code.
func (c *slowCurl) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
		return c.code
	case <-time.After(timeout):
		t.Fatalf("curl did not exit within %s", timeout)
		return 0
	}
}

// TestServer_BackupStreamsAreCappedPerDatabase: with --max-backup-streams
// 1, a second download of logs while a slow one runs gets 429 with
// Retry-After and a JSON error, while a backup of another database and the
// other requests to logs are still served.
func TestServer_BackupStreamsAreCappedPerDatabase(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--max-backup-streams", "1")
	root := s.rootJWT(t)
	ingestLarge(t, s, root, "big", 48)

	slow := startSlowCurl(t, s, root, "/api/v1/backup/logs", filepath.Join(dirs.client, "slow.db"), "200K")

	headers := filepath.Join(dirs.client, "second.headers")
	second := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "-H", "Authorization: "+root,
		"--dump-header", headers, "--output", "second.db", "--write-out", "%{http_code}", s.url+"/api/v1/backup/logs")
	if second.stdout != "429" {
		t.Fatalf("a second download of logs with --max-backup-streams 1 answered %q, want 429\n%s", second.stdout, second)
	}
	h := string(readFile(t, headers))
	if !strings.Contains(strings.ToLower(h), "retry-after: 5") {
		t.Fatalf("the 429 has no Retry-After: 5 header:\n%s", h)
	}
	r := reply{method: "GET", path: "/api/v1/backup/logs", status: 429, body: readFile(t, filepath.Join(dirs.client, "second.db"))}
	msg, hint := r.errorBody(t)
	requireContains(t, "429 error", msg, "too many backup streams", "at most 1")
	requireContains(t, "429 hint", hint, "--max-backup-streams")

	// The cap is per database, and only streams count.
	s.download(t, root, "config")
	var streams struct{ Streams []string }
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams", root, nil).decode(t, &streams)
	if !slices.Contains(streams.Streams, "big") {
		t.Fatalf("GET /api/v1/streams = %v during the slow download, want big listed", streams.Streams)
	}
	select {
	case <-slow.exited:
		t.Fatalf("the slow download ended (curl exit %d) before the checks were done; seed more data", slow.code)
	default:
	}
}

// TestServer_WipeCutsASlowBackupAfterTheGrace: a wipe restore of logs
// started while a client downloads a backup of logs at 1 MB/s, and another
// has stopped reading one, waits --wipe-grace (1s) for them, then cuts both
// and completes; curl sees the cut
// (exit 18, partial file), the partial file is refused by flowg admin verify
// and by a restore, and logs holds what the wipe restored.
func TestServer_WipeCutsASlowBackupAfterTheGrace(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--wipe-grace", "1s")
	root := s.rootJWT(t)
	s.ingest(t, root, "small", map[string]any{"id": "small-1"}, map[string]any{"id": "small-2"})
	small := s.download(t, root, "logs")
	ingestLarge(t, s, root, "big", 64)

	partial := filepath.Join(dirs.client, "logs.db")
	slow := startSlowCurl(t, s, root, "/api/v1/backup/logs", partial, "1M")
	stalled := startStalledDownload(t, s, root, "/api/v1/backup/logs")

	// Without the grace the wipe would wait for the whole download (over a
	// minute at this rate).
	body, ct := multipartBody(t, "logs.db", small)
	wipe, err := s.trySend(t.Context(), &http.Client{Timeout: 45 * time.Second}, http.MethodPost, restorePath("logs", true), root, body, ct)
	if err != nil {
		t.Fatalf("wipe restore of logs during a slow download: %v", err)
	}
	if wipe.status != http.StatusOK {
		t.Fatalf("want status 200, got:\n%s", wipe)
	}
	var a restoreAnswer
	wipe.decode(t, &a)
	checkRestoreAnswer(t, a, "logs", true)

	if code := slow.wait(t, 2*time.Minute); code != 18 {
		t.Fatalf("curl exited %d, want 18 (partial file: the server cut the stream): %s", code, slow.stderr.String())
	}
	waitForLog(t, s, 10*time.Second, "cut: a wipe restore of the database waited its grace period")
	// The client that stopped reading is cut too: its connection ends.
	if err := stalled.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, stalled); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the download that stopped reading was not cut: %v", err)
	}

	v := flowg(t, dirs.client, "admin", "verify", partial)
	if v.code == 0 {
		t.Fatalf("flowg admin verify accepted the cut download:\n%s", v)
	}
	requireContains(t, "verify of the cut download", v.stdout+v.stderr, "truncated")
	if r := s.upload(t, root, "logs", readFile(t, partial), false); r.status != http.StatusBadRequest {
		t.Fatalf("restore of the cut download: want status 400, got:\n%s", r)
	}

	if got := recordIDs(s.streamRecords(t, root, "small")); !slices.Equal(got, []string{"small-1", "small-2"}) {
		t.Fatalf("stream small after the wipe holds %v, want small-1 and small-2", got)
	}
	var streams struct{ Streams []string }
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/streams", root, nil).decode(t, &streams)
	if slices.Contains(streams.Streams, "big") {
		t.Fatalf("GET /api/v1/streams = %v after the wipe, want big gone", streams.Streams)
	}
	s.download(t, root, "logs") // the cut stream gave its place back
}
