package backup

import (
	"context"
	"io"
)

// ReadProgress is told the bytes read from the stored files of a catalog's
// sets as a verification or a restore reads them, so a caller can show how
// far it got. It must return at once.
type ReadProgress func(n int)

type readProgressKey struct{}

// WithReadProgress returns ctx telling fn the bytes read from set files
// opened with it (Catalog.Open, the files of a verification). Downloads
// (OpenStored) are not counted.
func WithReadProgress(ctx context.Context, fn ReadProgress) context.Context {
	return context.WithValue(ctx, readProgressKey{}, fn)
}

// openCounted opens file of set id, counting what is read from it for the
// ReadProgress of ctx, if any.
func (c *Catalog) openCounted(ctx context.Context, id, file string) (io.ReadCloser, int64, error) {
	rc, n, err := c.store.open(ctx, id, file)
	if err != nil {
		return rc, n, err
	}
	if fn, ok := ctx.Value(readProgressKey{}).(ReadProgress); ok && fn != nil {
		return countingReadCloser{ReadCloser: rc, fn: fn}, n, nil
	}
	return rc, n, nil
}

// countingReadCloser tells fn how many bytes each Read returned.
type countingReadCloser struct {
	io.ReadCloser
	fn ReadProgress
}

func (r countingReadCloser) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.fn(n)
	}
	return n, err
}
