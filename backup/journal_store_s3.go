package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
)

// s3Journal is the journal of an s3:// catalog, under the catalog's prefix:
//
//	<prefix>/journal/<db>/<chain>/chain.json
//	<prefix>/journal/<db>/<chain>/<segment>.seg
//
// An object appears whole at the end of its PUT, so no temporary names are
// needed; a file being created is written to a temporary file in scratch
// first and uploaded at commit.
type s3Journal struct {
	s       *s3Store
	scratch string
}

func (j *s3Journal) key(db, chain string, name ...string) string {
	return j.s.key(append([]string{journalDirName, db, chain}, name...)...)
}

func (j *s3Journal) where(db, chain string) string {
	return strings.TrimSuffix(j.s.url, "/") + "/" + path.Join(journalDirName, db, chain)
}

func (j *s3Journal) chainIDs(ctx context.Context, db string) ([]string, error) {
	prefix := j.s.key(journalDirName, db) + "/"
	var ids []string
	for obj := range j.s.client.ListObjects(ctx, j.s.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("read journal %s: %w", j.where(db, ""), j.s.explain(obj.Err))
		}
		id := strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		if ValidSetID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (j *s3Journal) files(ctx context.Context, db, chain string) ([]journalFile, error) {
	prefix := j.key(db, chain) + "/"
	var out []journalFile
	for obj := range j.s.client.ListObjects(ctx, j.s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("read journal chain %s: %w", j.where(db, chain), j.s.explain(obj.Err))
		}
		name := strings.TrimPrefix(obj.Key, prefix)
		if name != "" && !strings.Contains(name, "/") {
			out = append(out, journalFile{name: name, size: obj.Size})
		}
	}
	return out, nil
}

func (j *s3Journal) readInfo(ctx context.Context, db, chain string) ([]byte, error) {
	r, _, err := j.open(ctx, db, chain, chainInfoName)
	if err != nil {
		return nil, fmt.Errorf("read journal chain: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read journal chain %s: %w", j.where(db, chain), j.s.explain(err))
	}
	return b, nil
}

func (j *s3Journal) writeInfo(ctx context.Context, info journalChain, body []byte) error {
	_, err := j.s.client.PutObject(ctx, j.s.bucket, j.key(info.Database, info.ID, chainInfoName), bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return fmt.Errorf("create journal chain: %w", j.s.explain(err))
	}
	return nil
}

func (j *s3Journal) open(ctx context.Context, db, chain, name string) (io.ReadCloser, int64, error) {
	key := j.key(db, chain, name)
	info, err := j.s.client.StatObject(ctx, j.s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, 0, fmt.Errorf("%w: s3://%s/%s: %w", ErrMissingFile, j.s.bucket, key, os.ErrNotExist)
		}
		return nil, 0, j.s.explain(err)
	}
	obj, err := j.s.client.GetObject(ctx, j.s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, j.s.explain(err)
	}
	return obj, info.Size, nil
}

// put uploads the local file at local as one file of a chain.
func (j *s3Journal) put(ctx context.Context, db, chain, name, local string) error {
	_, err := j.s.client.FPutObject(ctx, j.s.bucket, j.key(db, chain, name), local,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: s3PartSize, NumThreads: 1})
	if err != nil {
		return j.s.explain(err)
	}
	return nil
}

func (j *s3Journal) create(ctx context.Context, db, chain, name string) (journalFileWriter, error) {
	tmp, err := os.CreateTemp(j.scratch, ".tmp-*"+segmentExt)
	if err != nil {
		return nil, err
	}
	return &s3JournalFile{File: tmp, j: j, db: db, chain: chain, name: name}, nil
}

func (j *s3Journal) remove(ctx context.Context, db, chain string, names ...string) error {
	for _, name := range names {
		if err := j.s.client.RemoveObject(ctx, j.s.bucket, j.key(db, chain, name), minio.RemoveObjectOptions{}); err != nil {
			return j.s.explain(err)
		}
	}
	return nil
}

func (j *s3Journal) removeChain(ctx context.Context, db, chain string) error {
	if err := j.remove(ctx, db, chain, chainInfoName); err != nil {
		return fmt.Errorf("delete journal chain %s of %s: %w", chain, db, err)
	}
	files, err := j.files(ctx, db, chain)
	if err != nil {
		return fmt.Errorf("delete journal chain %s of %s: %w", chain, db, err)
	}
	for _, f := range files {
		if err := j.remove(ctx, db, chain, f.name); err != nil {
			return fmt.Errorf("delete journal chain %s of %s: %w", chain, db, err)
		}
	}
	return nil
}

// s3JournalFile is written to a local temporary file, then uploaded whole.
type s3JournalFile struct {
	*os.File
	j               *s3Journal
	db, chain, name string
}

func (f *s3JournalFile) commit(ctx context.Context) error {
	defer os.Remove(f.Name())
	if err := f.Close(); err != nil {
		return err
	}
	return f.j.put(ctx, f.db, f.chain, f.name, f.Name())
}

func (f *s3JournalFile) discard() {
	f.Close()
	os.Remove(f.Name())
}
