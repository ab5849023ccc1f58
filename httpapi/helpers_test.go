package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

const rootPassword = "root-secret"

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running test server on real Badger databases in a temp dir,
// with root bootstrapped and logged in.
type env struct {
	t         testing.TB
	store     *kv.Store
	srv       *httpapi.Server
	http      *httptest.Server
	url       string
	dirs      kv.Dirs
	backupDir string
	clock     *clock
	root      string // Authorization header of root (a JWT)
}

// newEnv starts a server; tune, when set, changes its options first.
func newEnv(t testing.TB, tune func(*httpapi.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, clock: &clock{t: time.Now().UTC()}, backupDir: filepath.Join(dir, "backups")}
	e.dirs = kv.Dirs{Auth: filepath.Join(dir, "data", "auth"), Config: filepath.Join(dir, "data", "config"), Logs: filepath.Join(dir, "data", "logs")}
	store, err := kv.OpenStore(e.dirs)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e.store = store
	t.Cleanup(func() { _ = store.Close() })
	db, release, err := store.Acquire(kv.Auth)
	if err != nil {
		t.Fatalf("acquire auth: %v", err)
	}
	_, _, err = auth.NewService(db, auth.Options{Now: e.clock.Now}).Bootstrap(rootPassword)
	release()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	opts := httpapi.Options{
		BackupDir: e.backupDir,
		Logger:    slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)),
		Version:   "test",
		UploadDir: t.TempDir(),
		Now:       e.clock.Now,
		JWTKey:    []byte("httpapi-test-jwt-key-of-32-bytes"),
	}
	if tune != nil {
		tune(&opts)
	}
	e.srv = httpapi.New(store, opts)
	e.http = httptest.NewServer(e.srv.Handler())
	e.url = e.http.URL
	t.Cleanup(func() {
		e.http.Close()
		logMu.Lock()
		defer logMu.Unlock()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	e.root = "Bearer jwt:" + e.login("root", rootPassword)
	return e
}

// lockedWriter keeps the first 4 MiB of the server log (fuzzing writes
// far more), safely for concurrent use.
type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 4<<20 {
		w.buf.Write(p)
	}
	return len(p), nil
}

// reply is an answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string {
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(string(r.body)))
}

// json decodes the body into a map.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %s is not a JSON object: %v", r, err)
	}
	return m
}

// do sends a request; authz is the Authorization header ("" for none).
func (e *env) do(method, path, authz string, body io.Reader, contentType string) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// doJSON sends v as a JSON body.
func (e *env) doJSON(method, path, authz string, v any) reply {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatalf("marshal: %v", err)
	}
	return e.do(method, path, authz, bytes.NewReader(b), "application/json")
}

// must fails the test unless the answer has status want.
func (r reply) must(t testing.TB, want int) reply {
	t.Helper()
	if r.status != want {
		t.Fatalf("answer = %s, want status %d", r, want)
	}
	return r
}

// wantError checks an error answer: status, the JSON shape (a code
// included), and that the error and hint hold the given fragments.
func (r reply) wantError(t testing.TB, status int, inError, inHint string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("answer = %s, want status %d", r, status)
	}
	var body struct {
		Error string `json:"error"`
		Hint  string `json:"hint"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error == "" || body.Hint == "" || body.Code == "" {
		t.Fatalf("answer %s is not {\"error\", \"hint\", \"code\"} (%v)", r, err)
	}
	if !strings.Contains(body.Error, inError) {
		t.Errorf("error %q does not mention %q", body.Error, inError)
	}
	if !strings.Contains(body.Hint, inHint) {
		t.Errorf("hint %q does not mention %q", body.Hint, inHint)
	}
}

func (e *env) login(user, password string) string {
	e.t.Helper()
	r := e.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password}).must(e.t, 200)
	tok, _ := r.json(e.t)["token"].(string)
	if tok == "" {
		e.t.Fatalf("login answer %s has no token", r)
	}
	return tok
}

// token creates a personal access token with authz and returns its
// Authorization header.
func (e *env) token(authz string, scopes ...string) string {
	e.t.Helper()
	body := map[string]any{}
	if scopes != nil {
		body["scopes"] = scopes
	}
	r := e.doJSON("POST", "/api/v1/tokens", authz, body).must(e.t, http.StatusCreated)
	tok, _ := r.json(e.t)["token"].(string)
	return "Bearer pat:" + tok
}

// backupOf downloads the online backup of db.
func (e *env) backupOf(db string) []byte {
	e.t.Helper()
	return e.do("GET", "/api/v1/backup/"+db, e.root, nil, "").must(e.t, 200).body
}

// form builds a multipart body with one field; fileName "" makes it a text
// field, as curl --form backup=auth.db does.
func form(field, fileName string, content []byte) (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	var part io.Writer
	if fileName == "" {
		part, _ = w.CreateFormField(field)
	} else {
		part, _ = w.CreateFormFile(field, fileName)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

// restore uploads file to /api/v1/restore/<db><query> as curl --form
// backup=@<db>.db does.
func (e *env) restore(db, query string, file []byte) reply {
	e.t.Helper()
	body, ct := form("backup", db+".db", file)
	return e.do("POST", "/api/v1/restore/"+db+query, e.root, body, ct)
}

// content returns every live key of database n with its value and expiry.
func (e *env) content(t testing.TB, n kv.Name) map[string]string {
	t.Helper()
	db, release, err := e.store.Acquire(n)
	if err != nil {
		t.Fatalf("acquire %s: %v", n, err)
	}
	defer release()
	return dbtest.Of(t, db).Briefs()
}

// sameContent fails unless two contents are equal, naming a difference.
func sameContent(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	dbtest.Require(t, what, want, got)
}
