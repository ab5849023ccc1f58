package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/minio/minio-go/v7"
)

// A catalog keeps small JSON records beside its sets, one folder per kind
// (drills/, operations/): a 0600 file each in a local catalog, one object
// each in an s3:// catalog. Each kind gives its folder and says which
// names are its records; the storage is written once, here.

// recordStore keeps the records of a catalog's folders.
type recordStore interface {
	// putRecord writes (or replaces) dir/name with body.
	putRecord(ctx context.Context, dir, name string, body []byte) error
	// recordNames lists the names in dir that valid accepts, in no order.
	recordNames(ctx context.Context, dir string, valid func(string) bool) ([]string, error)
	openRecord(ctx context.Context, dir, name string) (io.ReadCloser, error)
	removeRecord(ctx context.Context, dir, name string) error
}

var (
	_ recordStore = localStore{}
	_ recordStore = (*s3Store)(nil)
)

// readRecord returns at most limit bytes of dir/name.
func readRecord(ctx context.Context, st recordStore, dir, name string, limit int64) ([]byte, error) {
	rc, err := st.openRecord(ctx, dir, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

func (s localStore) putRecord(_ context.Context, dir, name string, body []byte) error {
	dir = filepath.Join(s.dir, dir)
	var f *os.File
	err := os.ErrNotExist
	for try := 0; try < 2 && errors.Is(err, os.ErrNotExist); try++ { // once more should removeRecord drop dir meanwhile
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.CreateTemp(dir, ".tmp-record-*") // 0600
		}
	}
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, filepath.Base(name)))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(dir)
}

func (s localStore) recordNames(_ context.Context, dir string, valid func(string) bool) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && valid(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (s localStore) openRecord(_ context.Context, dir, name string) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(s.dir, dir, filepath.Base(name)))
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, ErrNotRegularFile)
	}
	return f, nil
}

// removeRecord deletes dir/name, and dir when that left it empty: a
// catalog whose only record was dropped is as it was before.
func (s localStore) removeRecord(_ context.Context, dir, name string) error {
	if err := os.Remove(filepath.Join(s.dir, dir, filepath.Base(name))); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(s.dir, dir)) // fails, as it should, unless empty
	return nil
}

func (s *s3Store) putRecord(ctx context.Context, dir, name string, body []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.key(dir, name), bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return s.explain(err)
	}
	return nil
}

func (s *s3Store) recordNames(ctx context.Context, dir string, valid func(string) bool) ([]string, error) {
	var names []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(dir) + "/"}) {
		if obj.Err != nil {
			return nil, s.explain(obj.Err)
		}
		if name := path.Base(obj.Key); valid(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

func (s *s3Store) openRecord(ctx context.Context, dir, name string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(dir, name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.explain(err)
	}
	return obj, nil
}

func (s *s3Store) removeRecord(ctx context.Context, dir, name string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(dir, name), minio.RemoveObjectOptions{}); err != nil {
		return s.explain(err)
	}
	return nil
}
