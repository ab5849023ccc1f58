package backup

import (
	"context"
	"io"
)

// setStore keeps a catalog's backup sets: per set id, one file per database
// and a manifest. A set is complete once its manifest says so; until then it
// is unfinished, and a set whose run failed keeps only a manifest with
// status failed. Implementations: a local directory (store_local.go) and an
// S3-compatible bucket prefix (store_s3.go).
type setStore interface {
	// begin starts writing set id.
	begin(ctx context.Context, id string) (setWriter, error)
	// ids lists the sets: complete (with a manifest) and unfinished ones.
	ids(ctx context.Context) (complete, unfinished []string, err error)
	manifest(ctx context.Context, id string) (Manifest, error)
	// putManifest replaces the manifest of a complete set (verification results).
	putManifest(ctx context.Context, id string, m Manifest) error
	// size returns a file's size, or an error wrapping os.ErrNotExist.
	size(ctx context.Context, id, file string) (int64, error)
	open(ctx context.Context, id, file string) (io.ReadCloser, int64, error)
	// remove deletes a set, manifest and files together.
	remove(ctx context.Context, id string) error
	String() string
}

// setWriter writes one set. Files are created one after the other; commit
// writes the manifest last, which makes the set complete; abort removes
// what was written and leaves a manifest with status failed (best effort).
type setWriter interface {
	create(ctx context.Context, file string) (fileWriter, error)
	commit(ctx context.Context, m Manifest) error
	abort(ctx context.Context, m Manifest)
}

// fileWriter is one file of a set being written: close makes it durable,
// discard drops it.
type fileWriter interface {
	io.Writer
	close(ctx context.Context, sha256 string) error
	discard()
}
