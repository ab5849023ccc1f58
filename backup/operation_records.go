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
	"regexp"

	"github.com/minio/minio-go/v7"
)

// operationsDir is the folder of a catalog holding the history of the
// backups, verifications and restores run against it (package operations
// writes it): not a set id, so listing sets never sees it.
const operationsDir = "operations"

// operationRecordLimit bounds the size of an operation record read back.
const operationRecordLimit = 1 << 20

// ErrNoOperationRecords is returned by a catalog that cannot keep operation
// records.
var ErrNoOperationRecords = errors.New("this catalog cannot keep operation records")

// operationName is the shape of a record's name: a few safe characters,
// ".json", never a path.
var operationName = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,80}\.json$`)

// operationStore keeps operation records beside the sets of a catalog.
type operationStore interface {
	putOperation(ctx context.Context, name string, body []byte) error
	operationNames(ctx context.Context) ([]string, error)
	openOperation(ctx context.Context, name string) (io.ReadCloser, error)
	removeOperation(ctx context.Context, name string) error
}

var (
	_ operationStore = localStore{}
	_ operationStore = (*s3Store)(nil)
)

func (c *Catalog) operationStore(name string) (operationStore, error) {
	st, ok := c.store.(operationStore)
	if !ok {
		return nil, fmt.Errorf("%s: %w", c.store, ErrNoOperationRecords)
	}
	if name != "" && !operationName.MatchString(name) {
		return nil, fmt.Errorf("operation record %q: not a record name", name)
	}
	return st, nil
}

// PutOperation writes (or replaces) the operation record name
// (operations/<name>, a 0600 file or one object) with body.
func (c *Catalog) PutOperation(ctx context.Context, name string, body []byte) error {
	st, err := c.operationStore(name)
	if err != nil {
		return err
	}
	if err := st.putOperation(ctx, name, body); err != nil {
		return fmt.Errorf("write operation record %s in %s: %w", name, c.store, err)
	}
	return nil
}

// OperationNames lists the names of the operation records, in no order.
func (c *Catalog) OperationNames(ctx context.Context) ([]string, error) {
	st, err := c.operationStore("")
	if err != nil {
		return nil, err
	}
	names, err := st.operationNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("list operation records in %s: %w", c.store, err)
	}
	return names, nil
}

// ReadOperation returns the body of the operation record name, at most
// 1 MiB of it.
func (c *Catalog) ReadOperation(ctx context.Context, name string) ([]byte, error) {
	st, err := c.operationStore(name)
	if err != nil {
		return nil, err
	}
	rc, err := st.openOperation(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read operation record %s in %s: %w", name, c.store, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, operationRecordLimit))
	if err != nil {
		return nil, fmt.Errorf("read operation record %s in %s: %w", name, c.store, err)
	}
	return body, nil
}

// RemoveOperation deletes the operation record name; one already gone is
// no error.
func (c *Catalog) RemoveOperation(ctx context.Context, name string) error {
	st, err := c.operationStore(name)
	if err != nil {
		return err
	}
	if err := st.removeOperation(ctx, name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove operation record %s in %s: %w", name, c.store, err)
	}
	return nil
}

func (s localStore) putOperation(_ context.Context, name string, body []byte) error {
	dir := filepath.Join(s.dir, operationsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-op-*") // 0600
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
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(dir)
}

func (s localStore) operationNames(context.Context) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, operationsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && operationName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (s localStore) openOperation(_ context.Context, name string) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(s.dir, operationsDir, filepath.Base(name)))
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, ErrNotRegularFile)
	}
	return f, nil
}

func (s localStore) removeOperation(_ context.Context, name string) error {
	return os.Remove(filepath.Join(s.dir, operationsDir, filepath.Base(name)))
}

func (s *s3Store) putOperation(ctx context.Context, name string, body []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.key(operationsDir, name), bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return s.explain(err)
	}
	return nil
}

func (s *s3Store) operationNames(ctx context.Context) ([]string, error) {
	var names []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(operationsDir) + "/"}) {
		if obj.Err != nil {
			return nil, s.explain(obj.Err)
		}
		if name := path.Base(obj.Key); operationName.MatchString(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

func (s *s3Store) openOperation(ctx context.Context, name string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(operationsDir, name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.explain(err)
	}
	return obj, nil
}

func (s *s3Store) removeOperation(ctx context.Context, name string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(operationsDir, name), minio.RemoveObjectOptions{}); err != nil {
		return s.explain(err)
	}
	return nil
}
