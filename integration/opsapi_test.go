package integration

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The console's API with the real binary and curl: who am I, the history
// of operations (offline ones included), async work that outlives its
// client, and single-use download links.

// opRecord is an operation as GET /api/v1/operations answers it.
type opRecord struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Trigger   string   `json:"trigger"`
	Who       string   `json:"who"`
	StartedAt string   `json:"started_at"`
	EndedAt   *string  `json:"ended_at"`
	State     string   `json:"state"`
	Error     *string  `json:"error"`
	SetID     *string  `json:"set_id"`
	Databases []string `json:"databases"`
	Progress  *struct {
		DoneBytes  uint64 `json:"done_bytes"`
		TotalBytes uint64 `json:"total_bytes"`
	} `json:"progress"`
}

// curlAPI runs curl -sS with args, requires HTTP status want (-w) and
// decodes the body into v (when not nil).
func curlAPI(t testing.TB, s *flowgServer, want int, v any, args ...string) string {
	t.Helper()
	r := command(t, s.dirs.client, 2*time.Minute, "curl", append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...)
	if r.code != 0 {
		t.Fatalf("curl failed:\n%s", r)
	}
	i := strings.LastIndex(r.stdout, "\n")
	body, status := r.stdout[:max(i, 0)], strings.TrimSpace(r.stdout[i+1:])
	if status != strconv.Itoa(want) {
		t.Fatalf("curl answered %s, want %d:\n%s", status, want, r)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("curl answered no JSON: %v\n%s", err, r)
		}
	}
	return body
}

// operationsList lists the history with curl.
func operationsList(t testing.TB, s *flowgServer, authz, query string) []opRecord {
	t.Helper()
	var list struct {
		Operations []opRecord `json:"operations"`
	}
	curlAPI(t, s, http.StatusOK, &list, "-H", "Authorization: "+authz, s.url+"/api/v1/operations"+query)
	return list.Operations
}

// operation reads one operation with the Go client (polled often).
func operation(t testing.TB, s *flowgServer, authz, id string) opRecord {
	t.Helper()
	var op opRecord
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/operations/"+id, authz, nil).decode(t, &op)
	return op
}

// opSeconds is how long an ended operation ran.
func opSeconds(op opRecord) float64 {
	start, _ := time.Parse(time.RFC3339Nano, op.StartedAt)
	end, _ := time.Parse(time.RFC3339Nano, *op.EndedAt)
	return end.Sub(start).Seconds()
}

func TestOpsAPI_MeHistoryAsyncAndDownloadLinks(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	bigLogs(t, dirs.logs, 40000) // 40 MiB: a backup of logs takes a moment
	// Offline, before the server runs: a set into the catalog.
	mustFlowg(t, dirs.root, "admin", "backups", "create", "--backup-dir", dirs.backups, "--only", "logs",
		"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs)
	s := startServer(t, dirs, "--download-link-ttl", "3s")
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	alice := s.createToken(t, s.login(t, "alice", "alice-pw-123"), "2h", "read_streams")

	// Who am I: a JWT and a personal access token.
	var me struct {
		User           string   `json:"user"`
		Kind           string   `json:"kind"`
		Scopes         []string `json:"scopes"`
		TokenExpiresAt *string  `json:"token_expires_at"`
	}
	curlAPI(t, s, http.StatusOK, &me, "-H", "Authorization: "+root, s.url+"/api/v1/auth/me")
	if me.User != "root" || me.Kind != "jwt" || len(me.Scopes) < 10 || me.TokenExpiresAt == nil {
		t.Fatalf("me with root's JWT = %+v", me)
	}
	curlAPI(t, s, http.StatusOK, &me, "-H", "Authorization: "+alice.authz(), s.url+"/api/v1/auth/me")
	if exp, err := time.Parse(time.RFC3339, *me.TokenExpiresAt); me.User != "alice" || me.Kind != "token" ||
		strings.Join(me.Scopes, ",") != "read_streams" || err != nil || time.Until(exp) < 110*time.Minute {
		t.Fatalf("me with alice's 2h read_streams token = %+v", me)
	}
	curlAPI(t, s, http.StatusUnauthorized, nil, s.url+"/api/v1/auth/me")

	// The offline set is in the history the server lists.
	ops := operationsList(t, s, alice.authz(), "")
	if len(ops) != 1 || ops[0].Kind != "backup" || ops[0].Trigger != "offline" || ops[0].State != "succeeded" || ops[0].SetID == nil {
		t.Fatalf("history after an offline set = %+v", ops)
	}
	offline := ops[0]

	// An async backup whose client gives up after 0.2s still runs to its end.
	r := command(t, s.dirs.client, time.Minute, "curl", "-sS", "--max-time", "0.2", "-X", "POST", "-H", "Authorization: "+root,
		s.url+"/api/v1/backups?async=true&verify=true")
	t.Logf("curl exit %d (28: it gave up)", r.code)
	var running opRecord
	deadline := time.Now().Add(30 * time.Second)
	for running.ID == "" {
		for _, op := range operationsList(t, s, root, "?limit=5") {
			if op.Kind == "backup" && op.Trigger == "manual" {
				running = op
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the async backup never appeared in the history")
		}
	}
	var seen []uint64
	for {
		op := operation(t, s, root, running.ID)
		if op.State != "running" {
			running = op
			break
		}
		if op.Progress != nil && (len(seen) == 0 || seen[len(seen)-1] != op.Progress.DoneBytes) {
			seen = append(seen, op.Progress.DoneBytes)
			if op.Progress.TotalBytes == 0 {
				t.Fatalf("running backup has no total (the offline set gives an estimate): %+v", op.Progress)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("async backup still running after 30s: %+v", op)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if running.State != "succeeded" || running.SetID == nil || running.EndedAt == nil || running.Progress == nil {
		t.Fatalf("async backup after its client left = %+v", running)
	}
	if len(seen) < 2 || seen[len(seen)-1] <= seen[0] || running.Progress.DoneBytes < seen[len(seen)-1] {
		t.Fatalf("progress seen while it ran = %v (final %d), want it to advance", seen, running.Progress.DoneBytes)
	}
	t.Logf("progress seen while the async backup ran: %d samples %v of %d (estimate %d), %.2fs",
		len(seen), seen, running.Progress.DoneBytes, running.Progress.TotalBytes, opSeconds(running))
	set := *running.SetID

	// A token that may only read logs starts nothing async.
	for _, path := range []string{"/api/v1/backups?async=true", "/api/v1/backups/" + set + "/restore?async=true&only=logs", "/api/v1/backups/restore?async=true&at=latest"} {
		curlAPI(t, s, http.StatusForbidden, nil, "-X", "POST", "-H", "Authorization: "+alice.authz(), s.url+path)
	}
	sender := s.createToken(t, root, "", "send_logs")
	curlAPI(t, s, http.StatusForbidden, nil, "-X", "POST", "-H", "Authorization: "+sender.authz(), s.url+"/api/v1/backups/"+set+"/verify?async=true")
	curlAPI(t, s, http.StatusForbidden, nil, "-H", "Authorization: "+sender.authz(), s.url+"/api/v1/operations")

	// An async verify and restore with curl, followed to their end.
	for _, path := range []string{"/api/v1/backups/" + *offline.SetID + "/verify?async=true", "/api/v1/backups/" + set + "/restore?async=true&only=config"} {
		var started struct {
			OperationID string `json:"operation_id"`
		}
		curlAPI(t, s, http.StatusAccepted, &started, "-X", "POST", "-H", "Authorization: "+root, s.url+path)
		for op := operation(t, s, root, started.OperationID); ; op = operation(t, s, root, started.OperationID) {
			if op.State == "succeeded" {
				break
			}
			if op.State != "running" || time.Now().After(deadline) {
				t.Fatalf("%s ended %+v", path, op)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	kinds := []string{}
	for _, op := range operationsList(t, s, root, "") {
		kinds = append(kinds, op.Kind+"/"+op.Trigger+"/"+op.State)
	}
	if got := strings.Join(kinds, " "); got != "restore/manual/succeeded verify/manual/succeeded backup/manual/succeeded backup/offline/succeeded" {
		t.Fatalf("history = %s", got)
	}

	// A download link works once, without Authorization, then expires.
	var link struct {
		URL       string `json:"url"`
		ExpiresAt string `json:"expires_at"`
	}
	curlAPI(t, s, http.StatusCreated, &link, "-X", "POST", "-H", "Authorization: "+alice.authz(), s.url+"/api/v1/backups/"+set+"/logs/link")
	out := filepath.Join(s.dirs.client, "logs.db")
	curlAPI(t, s, http.StatusOK, nil, "-o", out, s.url+link.URL)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	manifest := readSetManifest(t, filepath.Join(dirs.backups, set))
	want, err := os.ReadFile(filepath.Join(dirs.backups, set, manifest.Databases["logs"].File))
	if err != nil || len(want) < 1<<20 || sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("file by link: %d bytes; the set's file: %d bytes (%v), want the same", len(got), len(want), err)
	}
	curlAPI(t, s, http.StatusNotFound, nil, s.url+link.URL)
	curlAPI(t, s, http.StatusForbidden, nil, "-X", "POST", "-H", "Authorization: "+alice.authz(), s.url+"/api/v1/backups/"+set+"/config/link")
	curlAPI(t, s, http.StatusCreated, &link, "-X", "POST", "-H", "Authorization: "+root, s.url+"/api/v1/backups/"+set+"/config/link")
	time.Sleep(3500 * time.Millisecond) // --download-link-ttl 3s
	curlAPI(t, s, http.StatusGone, nil, s.url+link.URL)
	if strings.Contains(s.log.String(), strings.TrimPrefix(link.URL, "/api/v1/downloads/")) {
		t.Fatal("the server log holds a download link's token")
	}
}

// TestOpsAPI_HistoryInAnS3Catalog: with --backup-dir s3://..., the history
// is objects in the bucket: an offline `flowg admin backup` into it and an
// async backup of the server are listed together.
func TestOpsAPI_HistoryInAnS3Catalog(t *testing.T) {
	requirePrograms(t, "curl")
	m := startMinio(t)
	setS3ServerEnv(t)
	bucket, dirs := m.bucket(t), newServerDirs(t)
	s := startServer(t, dirs, m.target(bucket)...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	s.stop(t)
	offlineSet := m.backupToS3(t, dirs.root, bucket)

	s = startServer(t, dirs, m.target(bucket)...)
	root = s.rootJWT(t)
	var started struct {
		OperationID string `json:"operation_id"`
	}
	curlAPI(t, s, http.StatusAccepted, &started, "-X", "POST", "-H", "Authorization: "+root, s.url+"/api/v1/backups?async=true&only=config")
	deadline := time.Now().Add(time.Minute)
	for operation(t, s, root, started.OperationID).State == "running" {
		if time.Now().After(deadline) {
			t.Fatal("async backup into the bucket still running after a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ops := operationsList(t, s, root, "")
	if len(ops) != 2 || ops[0].ID != started.OperationID || ops[0].State != "succeeded" || ops[0].Trigger != "manual" ||
		ops[1].Trigger != "offline" || ops[1].SetID == nil || *ops[1].SetID != offlineSet {
		t.Fatalf("history in the bucket = %+v", ops)
	}
	if objs := m.objects(t, bucket, s3Prefix+"/operations/"); len(objs) != 2 {
		t.Fatalf("the bucket holds %d operation records, want 2: %v", len(objs), sortedKeys(objs))
	}
}
