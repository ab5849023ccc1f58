package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The MinIO server the S3 tests run against.
const (
	minioUser     = "flowg-tests-root"
	minioPassword = "flowg-tests-root-secret-51c3"
	// s3Prefix is the prefix of every catalog the tests write: s3://BUCKET/flowg.
	s3Prefix = "flowg"
)

// s3DataFlags point flowg at the databases under the working directory, as
// the seed's commands do.
var s3DataFlags = []string{"--auth-dir", "./data/auth", "--config-dir", "./data/config", "--log-dir", "./data/logs"}

// minioBinary returns the path of the minio server; without it the test
// fails (see pinnedTool).
func minioBinary(t *testing.T) string {
	t.Helper()
	return pinnedTool(t, "minio")
}

// minioServer is one real MinIO server on a loopback port with a temporary
// data directory. It can be killed and started again on the same port and
// data, as an object store that went down and came back.
type minioServer struct {
	bin     string
	data    string
	addr    string // 127.0.0.1:PORT, the S3 API
	console string // 127.0.0.1:PORT, the web console
	log     *syncBuffer
	client  *minio.Client

	cmd    *exec.Cmd
	exited chan struct{}
	err    error // of cmd.Wait, once exited is closed
}

// syncBuffer is a bytes.Buffer written by a child process and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns at most the last n bytes written.
func (b *syncBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "[... earlier output cut ...]\n" + s[len(s)-n:]
	}
	return s
}

// startMinio starts a MinIO server for t and everything t runs; it is
// stopped when t ends, and its log goes to the test output if t failed.
func startMinio(t *testing.T) *minioServer {
	t.Helper()
	m := &minioServer{bin: minioBinary(t), data: t.TempDir(), addr: freeLoopbackAddr(t), console: freeLoopbackAddr(t), log: &syncBuffer{}}
	t.Cleanup(func() {
		m.stop(t)
		if t.Failed() {
			t.Logf("minio log (%s, data %s):\n%s", m.addr, m.data, m.log.tail(32<<10))
		}
	})
	m.start(t)
	client, err := minio.New(m.addr, &minio.Options{Creds: credentials.NewStaticV4(minioUser, minioPassword, ""), Secure: false})
	if err != nil {
		t.Fatal(err)
	}
	m.client = client
	return m
}

// freeLoopbackAddr returns 127.0.0.1:PORT with a port nothing listens on.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// start runs the server on m.addr and m.data and waits until
// GET /minio/health/live answers 200.
func (m *minioServer) start(t testing.TB) {
	t.Helper()
	args := []string{"server", m.data, "--address", m.addr, "--console-address", m.console}
	m.cmd = exec.Command(m.bin, args...)
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+minioPassword, "MINIO_UPDATE=off")
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	setParentDeathSignal(m.cmd)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", shellQuote(m.bin, args), err)
	}
	exited := make(chan struct{})
	m.exited = exited
	go func(cmd *exec.Cmd) {
		m.err = cmd.Wait()
		close(exited)
	}(m.cmd)
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get("http://" + m.addr + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-exited:
			t.Fatalf("minio exited before it was live: %v\n%s", m.err, m.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /minio/health/live on %s did not answer 200 within 30s: %v\n%s", m.addr, err, m.log)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// kill stops the server at once (SIGKILL), as a crash or a cut cable would.
func (m *minioServer) kill(t testing.TB) {
	t.Helper()
	select {
	case <-m.exited:
		return
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill minio: %v", err)
	}
	<-m.exited
}

// stop asks the server to exit (SIGTERM), then kills it after 10 seconds.
func (m *minioServer) stop(t testing.TB) {
	t.Helper()
	if m.cmd == nil || m.exited == nil {
		return
	}
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		t.Logf("minio did not exit within 10s of SIGTERM; killing it")
		m.kill(t)
	}
}

var bucketSeq atomic.Int64

// bucket creates a new, empty bucket and returns its name.
func (m *minioServer) bucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("flowg-tests-%03d", bucketSeq.Add(1))
	if err := m.client.MakeBucket(t.Context(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	return name
}

// target returns the flags that make flowg use the catalog s3://bucket/flowg
// on this server.
func (m *minioServer) target(bucket string) []string {
	return []string{"--backup-dir", "s3://" + bucket + "/" + s3Prefix, "--s3-endpoint", m.addr, "--s3-insecure"}
}

// s3Creds are the credentials flowg gets in its environment; an empty
// field is left unset.
type s3Creds struct{ id, secret string }

var rootCreds = s3Creds{minioUser, minioPassword}

// s3Flowg runs flowg in dir with creds as AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY and every other variable that could choose S3
// credentials or settings removed, through env(1) so that the command
// helpers of main_test.go run it.
func s3Flowg(t testing.TB, dir string, creds s3Creds, args ...string) result {
	t.Helper()
	return s3FlowgEnv(t, dir, creds, nil, args...)
}

// s3FlowgEnv is s3Flowg with the variables env (NAME=VALUE) set besides.
func s3FlowgEnv(t testing.TB, dir string, creds s3Creds, env []string, args ...string) result {
	t.Helper()
	return command(t, dir, 2*time.Minute, "env", append(append(s3EnvArgs(creds), env...), append([]string{flowgBin}, args...)...)...)
}

// mustS3Flowg is s3Flowg with the root credentials, failing t unless the
// command exits 0.
func mustS3Flowg(t testing.TB, dir string, args ...string) result {
	t.Helper()
	r := s3Flowg(t, dir, rootCreds, args...)
	if r.code != 0 {
		t.Fatalf("want exit code 0:\n%s", r)
	}
	return r
}

// s3EnvArgs are env(1)'s arguments for creds. Every other source of the
// AWS credential chain is shut: no profile, shared files that do not exist,
// no web identity nor container credentials, and the EC2 metadata service
// never asked (no test sends traffic beyond the loopback).
func s3EnvArgs(creds s3Creds) []string {
	var unset []string
	set := []string{"AWS_EC2_METADATA_DISABLED=true",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent/flowg-tests/aws-credentials", "AWS_CONFIG_FILE=/nonexistent/flowg-tests/aws-config"}
	for _, v := range []string{"AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_REGION", "FLOWG_S3_ENDPOINT", "FLOWG_S3_REGION", "FLOWG_S3_INSECURE",
		"FLOWG_S3_CREATE_BUCKET", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		unset = append(unset, "-u", v)
	}
	for _, kv := range [][2]string{{"AWS_ACCESS_KEY_ID", creds.id}, {"AWS_SECRET_ACCESS_KEY", creds.secret}} {
		if kv[1] == "" {
			unset = append(unset, "-u", kv[0])
		} else {
			set = append(set, kv[0]+"="+kv[1])
		}
	}
	return append(unset, set...) // env(1) takes its options first
}

// s3Object is one object of a bucket as the tests look at it.
type s3Object struct {
	Size int64
	ETag string
	// SHA256 is the user metadata flowg records on data objects.
	SHA256 string
}

// objects lists every object of bucket under prefix, by key.
func (m *minioServer) objects(t testing.TB, bucket, prefix string) map[string]s3Object {
	t.Helper()
	out := map[string]s3Object{}
	ctx := t.Context()
	for obj := range m.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, obj.Err)
		}
		if strings.HasPrefix(obj.Key, s3Prefix+"/operations/") && !strings.HasPrefix(prefix, s3Prefix+"/operations/") {
			continue // the history of operations, which opsapi_test.go checks
		}
		info, err := m.client.StatObject(ctx, bucket, obj.Key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatalf("stat s3://%s/%s: %v", bucket, obj.Key, err)
		}
		o := s3Object{Size: info.Size, ETag: info.ETag}
		for k, v := range info.UserMetadata {
			if strings.EqualFold(k, "sha256") {
				o.SHA256 = v
			}
		}
		out[obj.Key] = o
	}
	return out
}

// sortedKeys returns the sorted keys of objs.
func sortedKeys[V any](objs map[string]V) []string {
	out := make([]string, 0, len(objs))
	for k := range objs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// get downloads one object.
func (m *minioServer) get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	obj, err := m.client.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	return b
}

// incompleteUploads returns the keys of the multipart uploads in progress
// for key. MinIO lists the uploads of one exact key only (by design it
// does not list by prefix), so callers name every key they care about.
func (m *minioServer) incompleteUploads(t testing.TB, bucket, key string) []string {
	t.Helper()
	var out []string
	for up := range m.client.ListIncompleteUploads(t.Context(), bucket, key, true) {
		if up.Err != nil {
			t.Fatalf("list incomplete uploads of s3://%s/%s: %v", bucket, key, up.Err)
		}
		out = append(out, up.Key+" (upload "+up.UploadID+")")
	}
	return out
}

// s3Manifest is the part of a set's manifest.json the tests read.
type s3Manifest struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Encryption string `json:"encryption"`
	Databases  map[string]struct {
		File      string `json:"file"`
		Bytes     int64  `json:"bytes"`
		Keys      uint64 `json:"keys"`
		SHA256    string `json:"sha256"`
		Encrypted bool   `json:"encrypted"`
	} `json:"databases"`
	Verification *struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"verification"`
}

func parseS3Manifest(t testing.TB, what string, b []byte) s3Manifest {
	t.Helper()
	var m s3Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b)
	}
	return m
}

// manifestOf downloads and parses the manifest of set id.
func (m *minioServer) manifestOf(t testing.TB, bucket, id string) s3Manifest {
	t.Helper()
	key := s3Prefix + "/" + id + "/manifest.json"
	return parseS3Manifest(t, "s3://"+bucket+"/"+key, m.get(t, bucket, key))
}

// listedSet is one set as `flowg admin backups list --json` shows it.
type listedSet struct {
	ID         string                     `json:"id"`
	Status     string                     `json:"status"`
	Label      string                     `json:"label"`
	Problem    string                     `json:"problem"`
	Encryption string                     `json:"encryption"`
	Databases  map[string]json.RawMessage `json:"databases"`
}

// listSets runs `flowg admin backups list --json` on the catalog in bucket:
// every set, newest first.
func (m *minioServer) listSets(t testing.TB, bucket string) []listedSet {
	t.Helper()
	r := mustS3Flowg(t, t.TempDir(), with([]string{"admin", "backups", "list", "--json"}, m.target(bucket)...)...)
	var sets []listedSet
	if err := json.Unmarshal([]byte(r.stdout), &sets); err != nil {
		t.Fatalf("backups list --json: %v\n%s", err, r)
	}
	return sets
}

// labelsByID maps each listed set id to its label.
func labelsByID(sets []listedSet) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		out[s.ID] = s.Label
	}
	return out
}

// backupToS3 runs `flowg admin backup` of the databases under root into the
// catalog in bucket, with extra flags, and returns the new set's id.
func (m *minioServer) backupToS3(t testing.TB, root, bucket string, extra ...string) string {
	t.Helper()
	r := mustS3Flowg(t, root, with(with(with([]string{"admin", "backup"}, s3DataFlags...), m.target(bucket)...), extra...)...)
	return setIDFrom(t, r)
}

// nextSecond waits until the wall clock enters a new second, so that the
// next set's id (which has one-second resolution) alone orders it after the
// last one.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now) + 10*time.Millisecond)
}

// s3DataFiles are the objects of a complete set besides its manifest.
var s3DataFiles = []string{"auth.db", "config.db", "log.db"}

// setKeys returns the object keys a complete set id holds.
func s3SetKeys(id string) []string {
	out := []string{}
	for _, f := range append(slices.Clone(s3DataFiles), "manifest.json") {
		out = append(out, s3Prefix+"/"+id+"/"+f)
	}
	return out
}

// hexSHA256 returns the hex SHA-256 of b.
func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// setIDFrom reads the id of the set a `flowg admin backup --backup-dir s3://...`
// wrote from its output.
func setIDFrom(t testing.TB, r result) string {
	t.Helper()
	m := regexp.MustCompile(`/flowg/([0-9]{8}T[0-9]{6}Z-[0-9a-f]{6})/[a-z]+\.db`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("the backup printed no set id:\n%s", r)
	}
	return m[1]
}

// requireObjectsUnchanged fails t unless bucket holds exactly before.
func requireObjectsUnchanged(t testing.TB, m *minioServer, bucket string, before map[string]s3Object) {
	t.Helper()
	after := m.objects(t, bucket, "")
	if !slices.Equal(sortedKeys(after), sortedKeys(before)) {
		t.Fatalf("the bucket's objects changed:\nbefore %v\nafter  %v", sortedKeys(before), sortedKeys(after))
	}
	for k, o := range before {
		if after[k] != o {
			t.Fatalf("object %s changed: before %+v, after %+v", k, o, after[k])
		}
	}
}
