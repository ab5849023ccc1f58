package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
)

// S3Options locate an S3-compatible service. Credentials never come from
// here: they come from the standard AWS chain (see s3Credentials).
type S3Options struct {
	Endpoint string // host[:port]; s3.amazonaws.com when empty
	Region   string
	Insecure bool // plain HTTP, for a loopback MinIO
	// CreateBucket creates the bucket when it does not exist, instead of
	// failing; Created, when set, is told its name.
	CreateBucket bool
	Created      func(bucket string)
}

// ErrTarget is wrapped by every error reaching an object store: a missing
// bucket, refused credentials, an unreachable endpoint.
var ErrTarget = errors.New("backup target unavailable")

// IsS3URL reports whether dir names an S3 target (s3://bucket/prefix).
func IsS3URL(dir string) bool { return strings.HasPrefix(dir, "s3://") }

// OpenTarget returns the catalog at dir: a local directory, or an
// S3-compatible bucket prefix given as s3://bucket/prefix. For S3 it checks
// at once that the bucket exists and the credentials are accepted.
func OpenTarget(ctx context.Context, dir string, s3 S3Options) (*Catalog, error) {
	if !IsS3URL(dir) {
		return OpenCatalog(dir), nil
	}
	store, err := openS3(ctx, dir, s3)
	if err != nil {
		return nil, err
	}
	return &Catalog{store: store, running: map[string]string{}}, nil
}

// s3Store keeps sets under a bucket prefix: <prefix>/<id>/<file> and
// <prefix>/<id>/manifest.json. The manifest object is written last, so a
// set without one is incomplete and never taken for a good one. Files are
// streamed into multipart uploads as they are produced; memory stays at a
// few parts.
type s3Store struct {
	client *minio.Client
	bucket string
	prefix string // without trailing slash; may be empty
	url    string
	mu     sync.Mutex
	active map[string]bool // set ids being written by this process
}

const s3PartSize = 16 << 20

func openS3(ctx context.Context, dir string, o S3Options) (*s3Store, error) {
	u, err := url.Parse(dir)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not s3://bucket/prefix", ErrTarget, dir)
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	endpoint = strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	transport, err := minio.DefaultTransport(!o.Insecure)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTarget, err)
	}
	// Fail in bounded time when the store goes away mid-run, rather than
	// retrying for minutes: the set is then marked failed and the next run
	// cleans up.
	transport.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.ResponseHeaderTimeout = time.Minute
	creds, err := s3Credentials(ctx, transport)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:      creds,
		Secure:     !o.Insecure,
		Region:     o.Region,
		Transport:  transport,
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTarget, err)
	}
	s := &s3Store{client: client, bucket: u.Host, prefix: strings.Trim(u.Path, "/"), url: dir, active: map[string]bool{}}
	ok, err := client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, s.explain(err)
	}
	if !ok && o.CreateBucket {
		if err := client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: o.Region}); err != nil {
			return nil, fmt.Errorf("create bucket %q: %w", s.bucket, s.explain(err))
		}
		if o.Created != nil {
			o.Created(s.bucket)
		}
		return s, nil
	}
	if !ok {
		return nil, fmt.Errorf("%w: bucket %q does not exist at %s; %s", ErrTarget, s.bucket, endpoint, createBucketAdvice(s.bucket, endpoint, o))
	}
	return s, nil
}

// createBucketAdvice gives the exact commands that create bucket at
// endpoint, with the AWS CLI and with MinIO's mc, and the flag that makes
// flowg create it.
func createBucketAdvice(bucket, endpoint string, o S3Options) string {
	aws := "aws s3 mb s3://" + bucket
	if o.Endpoint != "" {
		scheme := "https://"
		if o.Insecure {
			scheme = "http://"
		}
		aws += " --endpoint-url " + scheme + endpoint
	}
	if o.Region != "" {
		aws += " --region " + o.Region
	}
	return fmt.Sprintf("create it with `%s` (or `mc mb ALIAS/%s` with MinIO's client), or run again with --s3-create-bucket", aws, bucket)
}

// explain turns an object store error into one a user can act on.
func (s *s3Store) explain(err error) error {
	var resp minio.ErrorResponse
	var netErr net.Error
	switch {
	case errors.As(err, &resp) && (resp.Code == "InvalidAccessKeyId" || resp.Code == "SignatureDoesNotMatch" || resp.Code == "AccessDenied"):
		return fmt.Errorf("%w: %s refused the credentials (%s); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile AWS_PROFILE of the shared credentials file", ErrTarget, s.url, resp.Code)
	case errors.As(err, &resp) && resp.Code == "NoSuchBucket":
		return fmt.Errorf("%w: bucket %q does not exist; create it first", ErrTarget, s.bucket)
	case errors.As(err, &netErr), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: cannot reach the object store for %s: %w (check --s3-endpoint and that the service is up)", ErrTarget, s.url, err)
	}
	return fmt.Errorf("%s: %w", s.url, err)
}

func (s *s3Store) String() string { return s.url }

func (s *s3Store) key(parts ...string) string {
	if s.prefix == "" {
		return path.Join(parts...)
	}
	return path.Join(append([]string{s.prefix}, parts...)...)
}

func (s *s3Store) begin(ctx context.Context, id string) (setWriter, error) {
	s.mu.Lock()
	s.active[id] = true
	s.mu.Unlock()
	s.cleanOrphans(ctx)
	if err := s.putMarker(ctx, id); err != nil {
		s.done(id)
		return nil, err
	}
	return &s3SetWriter{store: s, id: id}, nil
}

func (s *s3Store) done(id string) {
	s.mu.Lock()
	delete(s.active, id)
	s.mu.Unlock()
}

// runningMarker is the object <id>/.running a set holds while it is being
// written: it names the process writing it, so another run can tell a set
// still being written from one whose writer died.
const runningMarker = ".running"

type marker struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

func (s *s3Store) putMarker(ctx context.Context, id string) error {
	host, _ := os.Hostname()
	body, _ := json.Marshal(marker{Host: host, PID: os.Getpid(), Started: time.Now().UTC()})
	_, err := s.client.PutObject(ctx, s.bucket, s.key(id, runningMarker), bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return s.explain(err)
	}
	return nil
}

// orphanAge is how old a set being written by another machine must be
// before it is taken for abandoned.
const orphanAge = 24 * time.Hour

// abandoned reports whether unfinished set id has no live writer: its
// writer on this machine is gone, or it is older than orphanAge.
func (s *s3Store) abandoned(ctx context.Context, id string) bool {
	s.mu.Lock()
	mine := s.active[id]
	s.mu.Unlock()
	if mine {
		return false
	}
	r, _, err := s.open(ctx, id, runningMarker)
	if err != nil {
		return true // no marker: nothing is writing it
	}
	defer r.Close()
	var m marker
	if err := json.NewDecoder(io.LimitReader(r, 4096)).Decode(&m); err != nil {
		return true
	}
	host, _ := os.Hostname()
	if m.Host == host && !processAlive(m.PID) {
		return true
	}
	return time.Since(m.Started) > orphanAge
}

// cleanOrphans finishes off sets whose writer died (the process killed, the
// store down when it tried to clean up): their half-uploaded multipart
// uploads are aborted, their objects removed and a manifest with status
// failed left, so the catalog shows the failed run and retention drops it.
// Best effort; it runs before every new set.
func (s *s3Store) cleanOrphans(ctx context.Context) {
	_, unfinished, err := s.ids(ctx)
	if err != nil {
		return
	}
	for _, id := range unfinished {
		if !s.abandoned(ctx, id) {
			continue
		}
		for _, db := range []string{"auth", "config", "logs"} {
			_ = s.client.RemoveIncompleteUpload(ctx, s.bucket, s.key(id, FileName(db)))
		}
		s.removeObjects(ctx, id)
		m := Manifest{ID: id, Status: StatusFailed, Databases: map[string]DBEntry{},
			Error: "interrupted: the run writing this set stopped before it was complete"}
		if t, err := time.Parse("20060102T150405Z", id[:16]); err == nil {
			m.Created = t
		}
		_ = s.putManifest(ctx, id, m)
	}
}

// removeObjects deletes every object of set id but its manifest.
func (s *s3Store) removeObjects(ctx context.Context, id string) {
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(id) + "/", Recursive: true}) {
		if obj.Err != nil || path.Base(obj.Key) == ManifestName {
			continue
		}
		_ = s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{})
	}
}

type s3SetWriter struct {
	store *s3Store
	id    string
	keys  []string
}

func (w *s3SetWriter) create(ctx context.Context, file string) (fileWriter, error) {
	key := w.store.key(w.id, path.Base(file))
	w.keys = append(w.keys, key)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	f := &s3File{store: w.store, key: key, pw: pw, cancel: cancel, done: make(chan error, 1)}
	go func() {
		_, err := w.store.client.PutObject(ctx, w.store.bucket, key, pr, -1, minio.PutObjectOptions{
			PartSize: s3PartSize, ContentType: "application/octet-stream", NumThreads: 1,
		})
		pr.CloseWithError(err)
		f.done <- err
		close(f.done) // close and discard may both wait for the result
	}()
	return f, nil
}

func (w *s3SetWriter) commit(ctx context.Context, m Manifest) error {
	defer w.store.done(w.id)
	if err := w.store.putManifest(ctx, w.id, m); err != nil {
		return err
	}
	_ = w.store.client.RemoveObject(ctx, w.store.bucket, w.store.key(w.id, runningMarker), minio.RemoveObjectOptions{})
	return nil
}

func (w *s3SetWriter) abort(ctx context.Context, m Manifest) {
	defer w.store.done(w.id)
	for _, key := range w.keys {
		_ = w.store.client.RemoveIncompleteUpload(ctx, w.store.bucket, key)
	}
	w.store.removeObjects(ctx, w.id)
	_ = w.store.putManifest(ctx, w.id, m)
}

// s3File streams one object through a pipe into a multipart upload.
type s3File struct {
	store  *s3Store
	key    string
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan error
}

func (f *s3File) Write(p []byte) (int, error) {
	n, err := f.pw.Write(p)
	if err != nil {
		return n, f.store.explain(err)
	}
	return n, nil
}

// close completes the upload, then records the object's SHA-256 in its
// metadata (a server-side copy onto itself: the digest is known only once
// the stream has ended).
func (f *s3File) close(ctx context.Context, sha256 string) error {
	f.pw.Close()
	if err := <-f.done; err != nil {
		f.cancel()
		return f.store.explain(err)
	}
	f.cancel()
	dst := minio.CopyDestOptions{Bucket: f.store.bucket, Object: f.key, ReplaceMetadata: true,
		UserMetadata: map[string]string{"Sha256": sha256}}
	src := minio.CopySrcOptions{Bucket: f.store.bucket, Object: f.key}
	if _, err := f.store.client.ComposeObject(ctx, dst, src); err != nil {
		return f.store.explain(err)
	}
	return nil
}

func (f *s3File) discard() {
	f.cancel()
	f.pw.CloseWithError(errors.New("discarded"))
	<-f.done
}

func (s *s3Store) ids(ctx context.Context) (complete, unfinished []string, err error) {
	prefix := s.key() + "/"
	if s.prefix == "" {
		prefix = ""
	}
	seen := map[string]bool{}
	hasManifest := map[string]bool{}
	// Keys come in lexicographic order and set ids start with a digit: the
	// listing stops at the first key past them (the journal's, which may
	// be many).
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, nil, s.explain(obj.Err)
		}
		rel := strings.TrimPrefix(obj.Key, prefix)
		if rel != "" && rel[0] > '9' {
			break
		}
		id, file, ok := strings.Cut(rel, "/")
		if !ok || !ValidSetID(id) {
			continue
		}
		seen[id] = true
		if file == ManifestName {
			hasManifest[id] = true
		}
	}
	s.mu.Lock()
	for id := range s.active {
		seen[id] = true
	}
	s.mu.Unlock()
	for id := range seen {
		if hasManifest[id] {
			complete = append(complete, id)
		} else {
			unfinished = append(unfinished, id)
		}
	}
	return complete, unfinished, nil
}

func (s *s3Store) manifest(ctx context.Context, id string) (Manifest, error) {
	r, _, err := s.open(ctx, id, ManifestName)
	if err != nil {
		return Manifest{}, err
	}
	defer r.Close()
	return decodeManifest(io.LimitReader(r, 16<<20), s.key(id, ManifestName))
}

func (s *s3Store) putManifest(ctx context.Context, id string, m Manifest) error {
	body, err := encodeManifest(m)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.key(id, ManifestName), strings.NewReader(string(body)), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return s.explain(err)
	}
	return nil
}

func (s *s3Store) size(ctx context.Context, id, file string) (int64, error) {
	info, err := s.client.StatObject(ctx, s.bucket, s.key(id, path.Base(file)), minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return 0, fmt.Errorf("%s: %w", file, os.ErrNotExist)
		}
		return 0, s.explain(err)
	}
	return info.Size, nil
}

func (s *s3Store) open(ctx context.Context, id, file string) (io.ReadCloser, int64, error) {
	size, err := s.size(ctx, id, file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s", ErrMissingFile, s.key(id, file))
		}
		return nil, 0, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(id, path.Base(file)), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, s.explain(err)
	}
	return obj, size, nil
}

// remove deletes the manifest first, so an interrupted delete leaves an
// incomplete set, never a complete-looking one with files missing.
func (s *s3Store) remove(ctx context.Context, id string) error {
	if _, err := s.size(ctx, id, ManifestName); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrSetNotFound, id)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(id, ManifestName), minio.RemoveObjectOptions{}); err != nil {
		return s.explain(err)
	}
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(id) + "/", Recursive: true}) {
		if obj.Err != nil {
			return s.explain(obj.Err)
		}
		if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return s.explain(err)
		}
	}
	return nil
}
