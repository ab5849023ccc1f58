package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Catalog set operations: the logs database written as a backup set with
// Catalog.Create into a local catalog directory or an S3 bucket prefix.
const (
	opLocalSet = "local-set"
	opS3Set    = "s3-set"
)

// s3Bucket and s3Prefix name the S3 catalog: s3://flowg-bench/bench.
const (
	s3Bucket = "flowg-bench"
	s3Prefix = "bench"
)

// minioNotInstalled is why s3-set is n/a without a minio binary.
const minioNotInstalled = "minio not installed"

// minioTimeout bounds how long MinIO may take to answer its health check.
const minioTimeout = time.Minute

// minioServer is a MinIO started by the harness on a loopback port with a
// temporary data directory, for the whole run.
type minioServer struct {
	bin    string
	root   string // WORK/minio: data and log
	addr   string
	user   string
	secret string
	client *minio.Client
	cmd    *exec.Cmd
	exited chan struct{}
	// na says why s3-set cannot be measured (minio missing); err why it
	// failed (minio there but not working).
	na, err string
}

// findMinio looks for a minio binary on PATH, then in $(go env GOPATH)/bin.
func findMinio(ctx context.Context) (string, bool) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, true
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output()
	if err != nil {
		return "", false
	}
	for dir := range strings.SplitSeq(strings.TrimSpace(string(out)), string(os.PathListSeparator)) {
		p := filepath.Join(dir, "bin", "minio")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// startMinio starts MinIO and creates the bucket. A missing binary makes
// s3-set n/a; one that does not start makes it fail.
func startMinio(ctx context.Context, work string, progress io.Writer) *minioServer {
	m := &minioServer{root: filepath.Join(work, "minio"), exited: make(chan struct{})}
	bin, ok := findMinio(ctx)
	if !ok {
		m.na = minioNotInstalled
		fmt.Fprintf(progress, "s3-set: n/a: %s (looked on PATH and in $(go env GOPATH)/bin)\n", minioNotInstalled)
		return m
	}
	m.bin = bin
	if err := m.start(ctx); err != nil {
		m.err = fmt.Sprintf("minio (%s): %v", bin, err)
		fmt.Fprintf(progress, "s3-set: %s\n", m.err)
		m.stop()
		return m
	}
	fmt.Fprintf(progress, "s3-set: minio %s serving s3://%s/%s on %s\n", bin, s3Bucket, s3Prefix, m.addr)
	return m
}

func (m *minioServer) start(ctx context.Context) error {
	if err := os.RemoveAll(m.root); err != nil {
		return err
	}
	data := filepath.Join(m.root, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	var err error
	if m.addr, err = freeAddr(); err != nil {
		return err
	}
	console, err := freeAddr()
	if err != nil {
		return err
	}
	var secret [12]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return err
	}
	m.user, m.secret = "flowgbench", hex.EncodeToString(secret[:])
	logPath := filepath.Join(m.root, "minio.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(m.bin, "server", "--quiet", "--address", m.addr, "--console-address", console, data)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.user, "MINIO_ROOT_PASSWORD="+m.secret,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	m.cmd = cmd
	go func() {
		cmd.Wait()
		logFile.Close()
		close(m.exited)
	}()
	if err := m.waitLive(ctx, logPath); err != nil {
		return err
	}
	m.client, err = minio.New(m.addr, &minio.Options{Creds: credentials.NewStaticV4(m.user, m.secret, ""), Secure: false})
	if err != nil {
		return err
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.client.MakeBucket(mctx, s3Bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("create bucket %s: %w", s3Bucket, err)
	}
	return nil
}

func (m *minioServer) waitLive(ctx context.Context, logPath string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(minioTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.exited:
			body, _ := os.ReadFile(logPath)
			return fmt.Errorf("exited before /minio/health/live answered: %s", lastLine(string(body)))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get("http://" + m.addr + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("/minio/health/live did not answer 200 within %s", minioTimeout)
}

// stop ends MinIO (SIGTERM, then SIGKILL after 10 s) and removes its data.
func (m *minioServer) stop() {
	if m.cmd != nil {
		select {
		case <-m.exited:
		default:
			_ = m.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-m.exited:
			case <-time.After(10 * time.Second):
				_ = m.cmd.Process.Kill()
				<-m.exited
			}
		}
	}
	os.RemoveAll(m.root)
}

// url is the S3 catalog the child writes into.
func (m *minioServer) url() string { return "s3://" + s3Bucket + "/" + s3Prefix }

// env gives a child the credentials, as an operator would: in the environment.
func (m *minioServer) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + m.user, "AWS_SECRET_ACCESS_KEY=" + m.secret}
}

// removeSet deletes a set's objects, so the bucket holds one set at a time.
func (m *minioServer) removeSet(ctx context.Context, id string) error {
	if m.client == nil || id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	objects := m.client.ListObjects(ctx, s3Bucket, minio.ListObjectsOptions{Prefix: s3Prefix + "/" + id + "/", Recursive: true})
	var errs []error
	for e := range m.client.RemoveObjects(ctx, s3Bucket, objects, minio.RemoveObjectsOptions{}) {
		errs = append(errs, fmt.Errorf("%s: %w", e.ObjectName, e.Err))
	}
	return errors.Join(errs...)
}

// measureSet runs local-set or s3-set once and removes the set it wrote.
func (b *bench) measureSet(ctx context.Context, round int, op string) sample {
	tmp := b.path("tmp")
	args := []string{"--db", b.ds.Dir, "--tmp", tmp}
	var env []string
	local := b.path("local-catalog")
	switch op {
	case opLocalSet:
		args = append(args, "--catalog", local)
	case opS3Set:
		switch {
		case b.minio.na != "":
			return sample{Round: round, Op: op, NA: b.minio.na}
		case b.minio.err != "":
			return sample{Round: round, Op: op, Error: b.minio.err}
		}
		args = append(args, "--catalog", b.minio.url(), "--endpoint", b.minio.addr)
		env = b.minio.env()
	}
	s := b.child(ctx, round, op, args, env)
	if s.Error == "" {
		s.Error = b.check(s)
	}
	if s.Error == "" {
		s.Error = b.sameContent(s)
	}
	switch op {
	case opLocalSet:
		os.RemoveAll(local)
	case opS3Set:
		if err := b.minio.removeSet(ctx, s.SetID); err != nil && s.Error == "" {
			s.Error = fmt.Sprintf("remove the set from the bucket: %v", err)
		}
	}
	return s
}

// sameContent checks that every catalog set of the dataset, local or S3,
// holds the same records (the content hash of the first one seen).
func (b *bench) sameContent(s sample) string {
	if s.ContentSum == "" {
		return fmt.Sprintf("%s reported no content hash", s.Op)
	}
	if b.setContent == "" {
		b.setContent = s.ContentSum
		return ""
	}
	if s.ContentSum != b.setContent {
		return fmt.Sprintf("%s wrote records with content hash %s, an earlier set %s", s.Op, s.ContentSum, b.setContent)
	}
	return ""
}
