package integration

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestS3VerifyAndInspect reads sets of an s3:// catalog on a real MinIO
// with `flowg admin verify` and `flowg admin inspect`, as they read a
// directory: the newest complete set when none is named, set ID with
// --set. Neither writes to the bucket. A file damaged in the bucket fails
// both, and only in the set that holds it.
func TestS3VerifyAndInspect(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	root, bucket := t.TempDir(), m.bucket(t)
	writeDataset(t, root, sampleData())
	older := m.backupToS3(t, root, bucket)
	nextSecond()
	newest := m.backupToS3(t, root, bucket)
	verify := with([]string{"admin", "verify"}, m.target(bucket)...)
	inspect := with([]string{"admin", "inspect"}, m.target(bucket)...)
	before := m.objects(t, bucket, "")

	r := mustS3Flowg(t, root, verify...)
	requireContains(t, "stderr", r.stderr, "reading set "+newest+" of s3://"+bucket+"/"+s3Prefix, "all 3 files verified")
	for _, file := range s3DataFiles {
		if line := lineAfter(r.stdout, file); !strings.Contains(line, "ok") || !strings.Contains(line, "loads back whole") {
			t.Errorf("verify of the newest set: the line of %s is %q, want ok:\n%s", file, line, r)
		}
	}
	r = mustS3Flowg(t, root, with(verify, "--set", older)...)
	requireContains(t, "stderr", r.stderr, "reading set "+older, "all 3 files verified")

	r = mustS3Flowg(t, root, with(inspect, "--json")...)
	var files []struct {
		File     string `json:"file"`
		Checksum string `json:"checksum"`
		Header   struct {
			Database string `json:"database"`
		} `json:"header"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &files); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, r)
	}
	if len(files) != 3 {
		t.Fatalf("inspect --json lists %d files, want 3:\n%s", len(files), r)
	}
	for i, f := range files {
		want := "s3://" + bucket + "/" + s3Prefix + "/" + newest + "/" + s3DataFiles[i]
		if f.File != want || f.Checksum != "ok" || f.Header.Database != dbNames[i] {
			t.Errorf("inspect: file %d is %+v, want %s of %s with checksum ok", i, f, want, dbNames[i])
		}
	}
	requireObjectsUnchanged(t, m, bucket, before)

	// Damage config.db of the older set in the bucket.
	key := s3Prefix + "/" + older + "/config.db"
	b := m.get(t, bucket, key)
	b[len(b)/2] ^= 0x20
	if _, err := m.client.PutObject(t.Context(), bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	r = s3Flowg(t, root, rootCreds, with(verify, "--set", older)...)
	if r.code != 1 || !strings.Contains(lineAfter(r.stdout, "config.db"), "FAILED") || !strings.Contains(r.stdout, "checksum mismatch") ||
		!strings.Contains(r.stderr, "1 of 3 files are bad") {
		t.Errorf("verify of the damaged set: want exit 1 and config.db FAILED, got\n%s", r)
	}
	r = s3Flowg(t, root, rootCreds, with(inspect, "--set", older)...)
	if r.code != 1 || !strings.Contains(r.stdout, "checksums    bad") {
		t.Errorf("inspect of the damaged set: want exit 1 and a bad checksum, got\n%s", r)
	}
	mustS3Flowg(t, root, verify...) // the newest set is untouched

	r = s3Flowg(t, root, rootCreds, with(verify, "--set", "20000101T000000Z-abcdef")...)
	if r.code != 1 || !strings.Contains(r.stderr, "backup set not found") {
		t.Errorf("verify of a set the catalog does not hold: want exit 1 saying so, got\n%s", r)
	}
}
