package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// continuous-on-s3 is continuous-on with the catalog on a MinIO the
// harness starts on a loopback port: the server stages each segment on
// local disk and uploads it; a segment counts as shipped when its object
// appears in MinIO's data directory (listed as the local catalog is), and
// after the round the journal is downloaded to read the lags.

// s3ContinuousFlag is a flag of flowg serve that only a binary shipping
// its journal to s3:// has.
const s3ContinuousFlag = "--backup-continuous-staging-dir"

// prepareS3 starts MinIO for the continuous-on-s3 rounds when the flowg
// binary can ship its journal to s3:// and a minio binary is found;
// otherwise the row is left out and the reason printed.
func (c *continuous) prepareS3(ctx context.Context, b *bench) {
	help, _ := exec.CommandContext(ctx, b.online.bin, "serve", "--help").CombinedOutput()
	if !strings.Contains(string(help), s3ContinuousFlag) {
		c.s3NA = "this flowg cannot ship its journal to s3:// (no " + s3ContinuousFlag + ")"
		fmt.Fprintf(b.errOut, "continuous-on-s3: left out: %s\n", c.s3NA)
		return
	}
	m := startMinio(ctx, c.root, b.errOut)
	if m.na != "" || m.err != "" {
		c.s3NA = m.na + m.err
		m.stop()
		return
	}
	// The server takes the credentials from its environment, as an
	// operator would give them.
	for _, kv := range m.env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	c.s3 = m
}

// s3Prefix of a round's catalog in the bucket.
func s3RoundPrefix(dir string) string { return "continuous-" + filepath.Base(dir) }

// s3Flags are the flags of a continuous-on-s3 server: continuous backup to
// s3://flowg-bench/<prefix> on the harness's MinIO, staged in the round's
// directory, and where its segments' objects appear on MinIO's disk.
func (c *continuous) s3Flags(on []string, dir string) ([]string, string, error) {
	if c.s3 == nil {
		return nil, "", fmt.Errorf("no MinIO: %s", c.s3NA)
	}
	prefix := s3RoundPrefix(dir)
	flags := append(on, "--backup-dir", "s3://"+s3Bucket+"/"+prefix, "--s3-endpoint", c.s3.addr, "--s3-insecure",
		s3ContinuousFlag, filepath.Join(dir, "staging"))
	return flags, filepath.Join(c.s3.root, "data", s3Bucket, prefix, "journal", benchDatabase), nil
}

// downloadJournal copies the segments of a round's logs journal from the
// bucket into dir/CHAIN/NAME, for journalLags.
func (c *continuous) downloadJournal(ctx context.Context, round, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	prefix := path.Join(s3RoundPrefix(round), "journal", benchDatabase) + "/"
	for obj := range c.s3.client.ListObjects(ctx, s3Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		rel := strings.TrimPrefix(obj.Key, prefix)
		if !strings.HasSuffix(rel, ".seg") {
			continue
		}
		if err := c.s3.client.FGetObject(ctx, s3Bucket, obj.Key, filepath.Join(dir, filepath.FromSlash(rel)), minio.GetObjectOptions{}); err != nil {
			return fmt.Errorf("download %s: %w", obj.Key, err)
		}
	}
	return nil
}
