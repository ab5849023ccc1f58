package backup

import (
	"context"
	"io"

	"filippo.io/age"
)

// OpenReader opens the backup file at path, decrypting it with ids when it
// is encrypted with age, and reads its header. The caller closes the
// returned Closer after the last Next. For readers of a file's records
// outside this package (a portable export); opts.Size is set from the file.
func OpenReader(ctx context.Context, path string, ids []age.Identity, opts ReadOptions) (*Reader, io.Closer, error) {
	f, size, err := decrypting(FileOpener(path), ids)(ctx)
	if err != nil {
		return nil, nil, err
	}
	opts.Size = size
	r, err := NewReader(f, opts)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}
