package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file runs `flowg serve` for the server tests and talks to it: start
// on a free loopback port, wait for /healthz, stop with SIGTERM and require
// exit code 0, print the server's log when a test fails; plus the HTTP calls
// the tests make (login, tokens, backups, restores).

// serverRootPassword is root's password on every test server (--root-password).
const serverRootPassword = "root-pw-for-tests-1"

// serverDirs are the directories of one test server; they outlive a stop,
// so a test can run offline commands and start the server again.
type serverDirs struct {
	root                     string
	auth, config, logs       string
	backups, uploads, client string
}

func newServerDirs(t testing.TB) serverDirs {
	t.Helper()
	root := t.TempDir()
	d := serverDirs{
		root:    root,
		auth:    filepath.Join(root, "data", "auth"),
		config:  filepath.Join(root, "data", "config"),
		logs:    filepath.Join(root, "data", "logs"),
		backups: filepath.Join(root, "backups"),
		uploads: filepath.Join(root, "uploads"),
		client:  filepath.Join(root, "client"),
	}
	if err := os.MkdirAll(d.client, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// flowgServer is one running `flowg serve`.
type flowgServer struct {
	dirs   serverDirs
	args   []string
	url    string // http://127.0.0.1:PORT
	port   string
	cmd    *exec.Cmd
	log    *serverLog
	exited chan struct{}
	err    error // of cmd.Wait, once exited is closed
	http   *http.Client
}

// serverLog collects the server's stderr and signals the line that says
// where it listens.
type serverLog struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	partial   []byte
	listening chan string
	sent      bool
}

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.sent {
		return len(p), nil
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if addr, ok := strings.CutPrefix(line, "flowg listening on "); ok {
			l.listening <- strings.TrimSpace(addr)
			l.sent = true
			l.partial = nil
			break
		}
	}
	return len(p), nil
}

func (l *serverLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// tail returns at most the last n bytes of the log, from a line start.
func (l *serverLog) tail(n int) string {
	s := l.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "[... earlier lines cut ...]\n" + s
}

// startServer runs `flowg serve` on dirs with --http-bind 127.0.0.1:0 (the
// kernel picks a free port, which the server prints), root's password and
// extra flags, and waits until GET /healthz answers 200. The server is
// stopped, and must exit 0, when the test ends; if the test failed, its log
// goes to the test output.
func startServer(t testing.TB, dirs serverDirs, extra ...string) *flowgServer {
	t.Helper()
	args := append([]string{"serve",
		"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs,
		"--http-bind", "127.0.0.1:0", "--backup-dir", dirs.backups, "--upload-dir", dirs.uploads,
		"--root-password", serverRootPassword}, extra...)
	s := &flowgServer{
		dirs:   dirs,
		args:   args,
		log:    &serverLog{listening: make(chan string, 1)},
		exited: make(chan struct{}),
		http:   &http.Client{Timeout: 2 * time.Minute, Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	s.cmd = exec.Command(flowgBin, args...)
	s.cmd.Dir = dirs.root
	s.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", shellQuote(flowgBin, args), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("server log of %s (%s):\n%s", s.url, shellQuote(flowgBin, s.args), s.log.tail(64<<10))
		}
	})

	select {
	case addr := <-s.log.listening:
		s.url = addr
	case <-s.exited:
		t.Fatalf("flowg serve exited before listening: %v\n%s", s.err, s.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("flowg serve did not say where it listens within 30s:\n%s", s.log)
	}
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		t.Fatalf("flowg serve listens on %q, want http://127.0.0.1:PORT", s.url)
	}
	s.port = strings.TrimPrefix(s.url, "http://127.0.0.1:")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.http.Get(s.url + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz did not answer 200 within 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// stop sends SIGTERM and requires the server to exit 0 within 30 seconds.
// It is safe to call more than once.
func (s *flowgServer) stop(t testing.TB) {
	t.Helper()
	select {
	case <-s.exited:
	default:
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("send SIGTERM to flowg serve: %v", err)
		}
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("flowg serve did not exit within 30s of SIGTERM; killed")
			return
		}
	}
	if s.err != nil {
		t.Errorf("flowg serve exited with %v after SIGTERM, want exit code 0; log:\n%s", s.err, s.log.tail(16<<10))
	}
	s.http.CloseIdleConnections()
}

// reply is one HTTP answer.
type reply struct {
	method, path string
	status       int
	header       http.Header
	trailer      http.Header // filled once the body was read
	body         []byte
}

func (r reply) String() string {
	b := string(r.body)
	if len(b) > 2000 {
		b = b[:2000] + fmt.Sprintf("... (%d bytes)", len(r.body))
	}
	return fmt.Sprintf("%s %s -> %d\n%s", r.method, r.path, r.status, b)
}

// errorBody decodes the {"error","hint","code"} of an error answer; it
// fails t if the body is not that JSON, or carries no code.
func (r reply) errorBody(t testing.TB) (string, string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
		Hint  string `json:"hint"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" || e.Code == "" {
		t.Fatalf("want a JSON error body {\"error\",\"hint\",\"code\"}:\n%s", r)
	}
	return e.Error, e.Hint
}

// decode decodes the JSON body into v, failing t.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode the answer: %v\n%s", err, r)
	}
}

// send makes one request; authz is the whole Authorization header ("" for
// none). A request that gets no answer fails t.
func (s *flowgServer) send(t testing.TB, method, path, authz string, body io.Reader, contentType string) reply {
	t.Helper()
	r, err := s.trySend(context.Background(), s.http, method, path, authz, body, contentType)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// trySend is send returning the transport error instead of failing, for
// goroutines and polls.
func (s *flowgServer) trySend(ctx context.Context, c *http.Client, method, path, authz string, body io.Reader, contentType string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, body)
	if err != nil {
		return reply{}, err
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read the answer: %w", err)
	}
	return reply{method: method, path: path, status: resp.StatusCode, header: resp.Header, trailer: resp.Trailer, body: b}, nil
}

// sendJSON sends in as a JSON body (none when in is nil).
func (s *flowgServer) sendJSON(t testing.TB, method, path, authz string, in any) reply {
	t.Helper()
	if in == nil {
		return s.send(t, method, path, authz, nil, "")
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return s.send(t, method, path, authz, bytes.NewReader(b), "application/json")
}

// must sends a JSON request and fails t unless the status is want.
func (s *flowgServer) must(t testing.TB, want int, method, path, authz string, in any) reply {
	t.Helper()
	r := s.sendJSON(t, method, path, authz, in)
	if r.status != want {
		t.Fatalf("want status %d, got:\n%s", want, r)
	}
	return r
}

// putDoc stores a config document as given (JSON or text).
func (s *flowgServer) putDoc(t testing.TB, authz, path, body string) {
	t.Helper()
	r := s.send(t, http.MethodPut, path, authz, strings.NewReader(body), "application/json")
	if r.status != http.StatusOK {
		t.Fatalf("want status 200, got:\n%s", r)
	}
}

// login logs user in and returns the Authorization header of its JWT.
func (s *flowgServer) login(t testing.TB, user, password string) string {
	t.Helper()
	var out struct{ Token string }
	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": user, "password": password}).decode(t, &out)
	if strings.Count(out.Token, ".") != 2 {
		t.Fatalf("login answered %q, not a JWT", out.Token)
	}
	return "Bearer jwt:" + out.Token
}

// rootJWT is the Authorization header of a JWT of root.
func (s *flowgServer) rootJWT(t testing.TB) string {
	t.Helper()
	return s.login(t, "root", serverRootPassword)
}

// createdToken is the answer to POST /api/v1/tokens.
type createdToken struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	Owner string `json:"owner"`
}

// authz is the Authorization header of the token.
func (c createdToken) authz() string { return "Bearer pat:" + c.Token }

// createToken creates a personal access token with authz, narrowed to
// scopes when given, expiring after expiresIn when not "".
func (s *flowgServer) createToken(t testing.TB, authz string, expiresIn string, scopes ...string) createdToken {
	t.Helper()
	req := map[string]any{}
	if len(scopes) > 0 {
		req["scopes"] = scopes
	}
	if expiresIn != "" {
		req["expires_in"] = expiresIn
	}
	var c createdToken
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/tokens", authz, req).decode(t, &c)
	if c.ID == "" || !strings.HasPrefix(c.Token, c.ID+"_") || c.Owner == "" {
		t.Fatalf("POST /api/v1/tokens answered %+v; want an id, a token <id>_<secret> and an owner", c)
	}
	return c
}

// download takes an online backup of db and returns the file.
func (s *flowgServer) download(t testing.TB, authz, db string) []byte {
	t.Helper()
	r := s.send(t, http.MethodGet, "/api/v1/backup/"+db, authz, nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("want status 200, got:\n%s", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("GET /api/v1/backup/%s: Content-Type %q, want application/octet-stream", db, ct)
	}
	name := db + ".db"
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="`+name+`"`) {
		t.Fatalf("GET /api/v1/backup/%s: Content-Disposition %q, want the file name %s", db, cd, name)
	}
	// After a complete stream the server sends the file's SHA-256 and key
	// count as trailers.
	sum := sha256.Sum256(r.body)
	if got := r.trailer.Get("X-Flowg-Backup-Sha256"); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("GET /api/v1/backup/%s: trailer X-Flowg-Backup-Sha256 %q, want the SHA-256 of the %d bytes received, %x (trailers %v)",
			db, got, len(r.body), sum, r.trailer)
	}
	if r.trailer.Get("X-Flowg-Backup-Keys") == "" {
		t.Fatalf("GET /api/v1/backup/%s: no trailer X-Flowg-Backup-Keys (trailers %v)", db, r.trailer)
	}
	return r.body
}

// multipartBody returns a form with file as the field "backup", as curl
// --form backup=@name sends it, and its Content-Type.
func multipartBody(t testing.TB, name string, file []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("backup", name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(file); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// restorePath is the restore endpoint of db, with ?wipe=true when wipe.
func restorePath(db string, wipe bool) string {
	p := "/api/v1/restore/" + db
	if wipe {
		p += "?wipe=true"
	}
	return p
}

// upload posts file to the restore endpoint of db as a multipart form.
func (s *flowgServer) upload(t testing.TB, authz, db string, file []byte, wipe bool) reply {
	t.Helper()
	body, ct := multipartBody(t, db+".db", file)
	return s.send(t, http.MethodPost, restorePath(db, wipe), authz, body, ct)
}

// restoreAnswer is the part of a restore answer the tests check.
type restoreAnswer struct {
	Database          string   `json:"database"`
	Mode              string   `json:"mode"`
	Written           uint64   `json:"written"`
	SafetySnapshot    string   `json:"safety_snapshot"`
	SafetySnapshotDir string   `json:"safety_snapshot_dir"`
	SetAside          string   `json:"set_aside"`
	Warnings          []string `json:"warnings"`
}

// mustRestore uploads file and requires a complete restore of db.
func (s *flowgServer) mustRestore(t testing.TB, authz, db string, file []byte, wipe bool) restoreAnswer {
	t.Helper()
	r := s.upload(t, authz, db, file, wipe)
	if r.status != http.StatusOK {
		t.Fatalf("want status 200, got:\n%s", r)
	}
	var a restoreAnswer
	r.decode(t, &a)
	checkRestoreAnswer(t, a, db, wipe)
	return a
}

// checkRestoreAnswer fails t unless a is the answer of a complete restore
// of db in the mode asked for, with a safety snapshot.
func checkRestoreAnswer(t testing.TB, a restoreAnswer, db string, wipe bool) {
	t.Helper()
	mode := "merge"
	if wipe {
		mode = "wipe"
	}
	if a.Database != db || a.Mode != mode || a.SafetySnapshot == "" || a.SafetySnapshotDir == "" || a.Written == 0 {
		t.Fatalf("restore answer %+v; want database %s, mode %s, keys written and a safety snapshot", a, db, mode)
	}
}

// requirePrograms fails t (never skips) when a program the test runs is
// missing.
func requirePrograms(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("%s is required by this test and was not found in PATH: %v", name, err)
		}
	}
}

// runBash runs script with bash -c in dir and fails t unless it exits 0.
func runBash(t testing.TB, dir, script string) result {
	t.Helper()
	r := command(t, dir, 2*time.Minute, "bash", "-c", script)
	if r.code != 0 {
		t.Fatalf("want exit code 0:\n%s", r)
	}
	return r
}

// decodeAll decodes a stream of JSON values (what several curl calls print
// one after the other).
func decodeAll[T any](t testing.TB, s string) []T {
	t.Helper()
	var out []T
	dec := json.NewDecoder(bufio.NewReader(strings.NewReader(s)))
	for {
		var v T
		err := dec.Decode(&v)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("decode the JSON answers: %v\n%s", err, s)
		}
		out = append(out, v)
	}
}

// setManifest is the part of a backup set's manifest.json the tests read.
type setManifest struct {
	ID        string `json:"id"`
	Trigger   string `json:"trigger"`
	Databases map[string]struct {
		File string `json:"file"`
		Keys uint64 `json:"keys"`
	} `json:"databases"`
}

// readSetManifest reads dir/manifest.json.
func readSetManifest(t testing.TB, dir string) setManifest {
	t.Helper()
	var m setManifest
	b := readFile(t, filepath.Join(dir, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s/manifest.json: %v\n%s", dir, err, b)
	}
	return m
}
