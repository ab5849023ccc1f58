package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// localStore keeps sets in a directory, one subdirectory per set. A set is
// written under .tmp-<id> and renamed to <id> when complete, so a set
// directory always holds every file its manifest names.
type localStore struct{ dir string }

func (s localStore) String() string { return s.dir }

func (s localStore) localPath(id, file string) (string, bool) {
	return filepath.Join(s.dir, id, filepath.Base(file)), true
}

func (s localStore) begin(ctx context.Context, id string) (setWriter, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create catalog %s: %w", s.dir, err)
	}
	tmp := filepath.Join(s.dir, ".tmp-"+id)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("create set in %s: %w", s.dir, err)
	}
	return &localSetWriter{store: s, id: id, tmp: tmp}, nil
}

type localSetWriter struct {
	store localStore
	id    string
	tmp   string
}

func (w *localSetWriter) create(_ context.Context, file string) (fileWriter, error) {
	f, err := os.OpenFile(filepath.Join(w.tmp, filepath.Base(file)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", file, err)
	}
	return localFile{f}, nil
}

func (w *localSetWriter) commit(_ context.Context, m Manifest) error {
	if err := WriteManifest(w.tmp, m); err != nil {
		return err
	}
	if err := os.Rename(w.tmp, filepath.Join(w.store.dir, w.id)); err != nil {
		return fmt.Errorf("move set %s into place: %w", w.id, err)
	}
	return syncDir(w.store.dir)
}

func (w *localSetWriter) abort(_ context.Context, m Manifest) {
	os.RemoveAll(w.tmp)
	dir := filepath.Join(w.store.dir, w.id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	if err := WriteManifest(dir, m); err != nil {
		os.RemoveAll(dir) // the disk may be full: leave nothing rather than half a manifest
	}
}

type localFile struct{ f *os.File }

func (l localFile) Write(p []byte) (int, error) { return l.f.Write(p) }

func (l localFile) close(context.Context, string) error {
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	return nil
}

func (l localFile) discard() {
	l.f.Close()
	os.Remove(l.f.Name())
}

func (s localStore) ids(context.Context) (complete, unfinished []string, err error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read catalog %s: %w", s.dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if id, ok := strings.CutPrefix(e.Name(), ".tmp-"); ok && ValidSetID(id) {
			unfinished = append(unfinished, id)
		} else if ValidSetID(e.Name()) {
			complete = append(complete, e.Name())
		}
	}
	return complete, unfinished, nil
}

// manifest reads set id's manifest through openInSet, so a link or a
// special file (a FIFO) in its place is refused at once with
// ErrNotRegularFile, never followed outside the catalog nor waited on.
func (s localStore) manifest(_ context.Context, id string) (Manifest, error) {
	f, _, err := s.openInSet(id, ManifestName)
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	return decodeManifest(io.LimitReader(f, 16<<20), filepath.Join(s.dir, id, ManifestName))
}

func (s localStore) putManifest(_ context.Context, id string, m Manifest) error {
	return WriteManifest(filepath.Join(s.dir, id), m)
}

func (s localStore) size(_ context.Context, id, file string) (int64, error) {
	f, st, err := s.openInSet(id, file)
	if err != nil {
		return 0, err
	}
	f.Close()
	return st.Size(), nil
}

// open opens a file of set id; see openInSet.
func (s localStore) open(_ context.Context, id, file string) (io.ReadCloser, int64, error) {
	f, st, err := s.openInSet(id, file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %s", ErrMissingFile, filepath.Join(s.dir, id, filepath.Base(file)))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open backup: %w", err)
	}
	return f, st.Size(), nil
}

func (s localStore) remove(_ context.Context, id string) error {
	dir := filepath.Join(s.dir, id)
	gone := filepath.Join(s.dir, ".deleting-"+id)
	if err := os.Rename(dir, gone); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrSetNotFound, id)
		}
		return fmt.Errorf("delete set %s: %w", id, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("delete set %s: %w", id, err)
	}
	return syncDir(s.dir)
}
