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

// journalStore keeps the journal's files in a catalog: per database and
// chain, chain.json and the segments. Everything that reads or changes the
// journal goes through it, so the journal lives wherever the catalog does:
// a local directory (localJournal) or an S3 bucket prefix (s3Journal).
type journalStore interface {
	// chainIDs lists the chains of database db (no order).
	chainIDs(ctx context.Context, db string) ([]string, error)
	// files lists the files of a chain with their sizes.
	files(ctx context.Context, db, chain string) ([]journalFile, error)
	// readInfo returns a chain's chain.json; an error wrapping
	// os.ErrNotExist when it has none.
	readInfo(ctx context.Context, db, chain string) ([]byte, error)
	writeInfo(ctx context.Context, info journalChain, body []byte) error
	// open opens one file of a chain; a missing one is ErrMissingFile.
	open(ctx context.Context, db, chain, name string) (io.ReadCloser, int64, error)
	// create starts a new file of a chain, which appears whole under its
	// name at commit, or not at all.
	create(ctx context.Context, db, chain, name string) (journalFileWriter, error)
	// remove deletes files of a chain (missing ones are no error).
	remove(ctx context.Context, db, chain string, names ...string) error
	// removeChain deletes a chain whole, its chain.json first, so a chain
	// being deleted is never read as one.
	removeChain(ctx context.Context, db, chain string) error
	// where names a chain's place, for messages.
	where(db, chain string) string
}

// journalFile is one file of a chain as listed.
type journalFile struct {
	name string
	size int64
}

// journalFileWriter is a journal file being written: commit makes it
// durable under its name, discard drops it.
type journalFileWriter interface {
	io.Writer
	commit(ctx context.Context) error
	discard()
}

// journal returns the store of the catalog's journal.
func (c *Catalog) journal() journalStore {
	switch s := c.store.(type) {
	case localStore:
		return localJournal{root: s.dir}
	case *s3Store:
		return &s3Journal{s: s, scratch: os.TempDir()}
	}
	return nil
}

// localJournal is the journal of a local catalog: <catalog>/journal/...
type localJournal struct{ root string }

func (l localJournal) chainDir(db, chain string) string {
	return filepath.Join(journalDir(l.root, db), chain)
}

func (l localJournal) where(db, chain string) string { return l.chainDir(db, chain) }

func (l localJournal) chainIDs(_ context.Context, db string) ([]string, error) {
	root := journalDir(l.root, db)
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", root, err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidSetID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

func (l localJournal) files(_ context.Context, db, chain string) ([]journalFile, error) {
	entries, err := os.ReadDir(l.chainDir(db, chain))
	if err != nil {
		return nil, fmt.Errorf("read journal chain: %w", err)
	}
	out := make([]journalFile, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		var size int64
		if info, err := e.Info(); err == nil {
			size = info.Size()
		}
		out = append(out, journalFile{name: e.Name(), size: size})
	}
	return out, nil
}

func (l localJournal) readInfo(_ context.Context, db, chain string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(l.chainDir(db, chain), chainInfoName))
	if err != nil {
		return nil, fmt.Errorf("read journal chain: %w", err)
	}
	return b, nil
}

func (l localJournal) writeInfo(_ context.Context, info journalChain, body []byte) error {
	return writeChainInfo(l.chainDir(info.Database, info.ID), body)
}

func (l localJournal) open(_ context.Context, db, chain, name string) (io.ReadCloser, int64, error) {
	return openFile(filepath.Join(l.chainDir(db, chain), name))
}

func (l localJournal) create(_ context.Context, db, chain, name string) (journalFileWriter, error) {
	dir := l.chainDir(db, chain)
	tmp, err := os.CreateTemp(dir, ".tmp-*"+segmentExt)
	if err != nil {
		return nil, err
	}
	return &localJournalFile{File: tmp, dir: dir, name: name}, nil
}

func (l localJournal) remove(_ context.Context, db, chain string, names ...string) error {
	var errs []error
	for _, name := range names {
		if err := os.Remove(filepath.Join(l.chainDir(db, chain), name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(names) > 0 {
		errs = append(errs, syncDir(l.chainDir(db, chain)))
	}
	return errors.Join(errs...)
}

// removeChain renames the chain aside first, so a restore never reads
// half of it.
func (l localJournal) removeChain(_ context.Context, db, chain string) error {
	gone := filepath.Join(journalDir(l.root, db), ".deleting-"+chain)
	if err := os.Rename(l.chainDir(db, chain), gone); err != nil {
		return fmt.Errorf("delete journal chain %s of %s: %w", chain, db, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("delete journal chain %s of %s: %w", chain, db, err)
	}
	return syncDir(journalDir(l.root, db))
}

// localJournalFile is written to a temporary name, fsync'd, renamed and
// its directory fsync'd.
type localJournalFile struct {
	*os.File
	dir, name string
}

func (f *localJournalFile) commit(context.Context) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(f.dir, f.name))
	}
	if err == nil {
		err = syncDir(f.dir)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func (f *localJournalFile) discard() {
	f.Close()
	os.Remove(f.Name())
}

// isTempName reports whether a chain's file is the temporary file of a
// write cut short.
func isTempName(name string) bool { return strings.HasPrefix(name, ".tmp-") }
