package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// DirWriter writes a flat backup directory: auth.db, config.db, log.db and
// manifest.json, the layout of the FlowG documentation. `flowg admin
// backup` fills it by dumping databases on this disk (Dump); `flowg
// backup` and `flowg backups download` by receiving files from a server
// (Receive); both end with Commit. It is the one writer of that layout.
//
// Each file is written under a temporary 0600 name in the directory and
// fsynced there. Commit renames them all into place only once every one
// was written and checked, fsyncs the directory, and writes the manifest
// last (keeping the entries of databases not written this time). Abort
// removes the temporary files, and the directories OpenDir created while
// they are still empty, so a failed run leaves an earlier backup in the
// directory as it was. A DirWriter is not safe for concurrent use.
type DirWriter struct {
	dir      string
	created  []string // by OpenDir, deepest first
	manifest Manifest
	pending  []pendingFile
}

// pendingFile is one database's file written and checked under its
// temporary name, waiting for Commit.
type pendingFile struct {
	db     string
	tmp    string
	entry  DBEntry
	loaded bool // loaded back whole into a scratch database in this run
}

// OpenDir prepares dir for a DirWriter: it creates dir and its missing
// parents (0700) and reads its manifest (a fresh one when it has none). On
// error it has removed the directories it created, and returns a
// *DirError (StepOpen or StepReadManifest).
func OpenDir(dir string) (*DirWriter, error) {
	w := &DirWriter{dir: dir}
	created, err := kv.MakeDirs(dir)
	w.created = created
	if err != nil {
		return nil, &DirError{Step: StepOpen, Err: fmt.Errorf("create backup directory: %w", err), Removed: w.removeCreated()}
	}
	if w.manifest, err = readManifestOrEmpty(dir); err != nil {
		return nil, &DirError{Step: StepReadManifest, Err: err, Removed: w.removeCreated()}
	}
	return w, nil
}

// Dir is the directory being written.
func (w *DirWriter) Dir() string { return w.dir }

// Dump writes a backup of src (see Dump) into a temporary file of the
// directory and returns its manifest entry. The file is not loaded back:
// Commit records no verification for it.
func (w *DirWriter) Dump(ctx context.Context, src Source, opts WriteOptions) (DBEntry, error) {
	name := FileName(src.Name)
	tmp, err := createTemp(w.dir, name)
	if err != nil {
		return DBEntry{}, &DirError{Step: StepCreate, Database: src.Name, Err: err}
	}
	entry, err := dumpSource(ctx, tmp, src, opts, 0)
	if err != nil {
		tmp.abandon()
		return DBEntry{}, &DirError{Step: StepReceive, Database: src.Name, Err: fmt.Errorf("back up %s: %w", src.Name, err)}
	}
	digest, err := tmp.finish()
	if err != nil {
		os.Remove(tmp.f.Name())
		return DBEntry{}, &DirError{Step: StepWrite, Database: src.Name, Err: err}
	}
	entry.File, entry.Bytes, entry.SHA256 = name, tmp.n, digest
	w.pending = append(w.pending, pendingFile{db: src.Name, tmp: tmp.f.Name(), entry: entry})
	return entry, nil
}

// Commit moves every file written into place, fsyncs the directory and
// writes its manifest: status complete, the new entries beside those of
// databases not written this run, and a successful verification only when
// every database the manifest lists was loaded back whole in this run.
// A failed Commit may leave some files moved and others not; its
// *DirError says which step failed.
func (w *DirWriter) Commit(toolVersion string) (Manifest, error) {
	for _, p := range w.pending {
		if err := os.Rename(p.tmp, filepath.Join(w.dir, p.entry.File)); err != nil {
			return w.manifest, &DirError{Step: StepMove, Database: p.db, Err: fmt.Errorf("move %s into place: %w", p.entry.File, err)}
		}
	}
	if err := syncDir(w.dir); err != nil {
		return w.manifest, &DirError{Step: StepMove, Err: err}
	}
	m := w.manifest
	m.Databases = map[string]DBEntry{}
	for db, e := range w.manifest.Databases {
		m.Databases[db] = e
	}
	for _, p := range w.pending {
		m.Databases[p.db] = p.entry
	}
	verified := w.allLoaded(m)
	w.pending = nil
	m.ID, m.Trigger, m.By, m.Parent, m.FullReason = "", "", "", "", ""
	m.Created = time.Now().UTC()
	m.Status = StatusComplete
	m.Error = ""
	m.ToolVersion = toolVersion
	m.Encryption = ""
	for _, e := range m.Databases {
		if e.Encrypted {
			m.Encryption = EncryptionAge
		}
	}
	m.Verification = nil
	if verified {
		m.Verification = &Verification{Time: m.Created, OK: true}
	}
	if err := WriteManifest(w.dir, m); err != nil {
		return m, &DirError{Step: StepManifest, Err: err}
	}
	w.manifest = m
	return m, nil
}

// allLoaded reports whether every database m lists was written and loaded
// back whole in this run (see Commit).
func (w *DirWriter) allLoaded(m Manifest) bool {
	loaded := map[string]bool{}
	for _, p := range w.pending {
		loaded[p.db] = p.loaded
	}
	for db := range m.Databases {
		if !loaded[db] {
			return false
		}
	}
	return len(m.Databases) > 0
}

// Abort removes the temporary files not moved into place, then the
// directories OpenDir created, deepest first, while they are empty. It
// returns the outermost directory it removed, "" for none: a directory that
// existed before, or holds anything, is never removed. It is a no-op after
// a successful Commit.
func (w *DirWriter) Abort() (removed string) {
	for _, p := range w.pending {
		os.Remove(p.tmp)
	}
	w.pending = nil
	return w.removeCreated()
}

// removeCreated removes the directories OpenDir created, deepest first,
// stopping at the first that is not empty.
func (w *DirWriter) removeCreated() (removed string) {
	for _, d := range w.created {
		entries, err := os.ReadDir(d)
		if err != nil || len(entries) > 0 || os.Remove(d) != nil { // only ever an empty directory
			break
		}
		removed = d
	}
	w.created = nil
	return removed
}

// WriteDir dumps every source into dir through a DirWriter (see OpenDir,
// DirWriter.Dump and Commit): a failed run leaves every earlier file in dir
// as it was, and removes dir again if it created it.
func WriteDir(ctx context.Context, dir string, sources []Source, opts WriteOptions) (Manifest, error) {
	w, err := OpenDir(dir)
	if err != nil {
		return Manifest{}, err
	}
	for _, src := range sources {
		if _, err := w.Dump(ctx, src, opts); err != nil {
			return Manifest{}, w.fail(err)
		}
	}
	m, err := w.Commit(opts.ToolVersion)
	if err != nil {
		return m, w.fail(err)
	}
	return m, nil
}

// fail aborts the run and records in err what Abort removed.
func (w *DirWriter) fail(err error) error {
	removed := w.Abort()
	if de, ok := err.(*DirError); ok && removed != "" {
		de.Removed = removed
	}
	return err
}

func syncDir(dir string) error { return kv.SyncDir(dir) }
