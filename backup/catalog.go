package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Trust labels of a backup set, from most to least trusted.
const (
	LabelRestoreVerified = "restore-verified"
	LabelCreated         = "created, not restore-verified"
	LabelVerifyFailed    = "verify failed"
	LabelIncomplete      = "incomplete"
	LabelFailed          = "failed"
	LabelRunning         = "running"
)

// ErrSetNotFound is returned for an id that names no set (or not a valid id).
var ErrSetNotFound = errors.New("backup set not found")

// SetInfo is a set as the catalog lists it: its manifest and its trust label.
type SetInfo struct {
	Manifest
	Label string `json:"label"`
	// Problem says why a set is not trusted (missing file, verify error...).
	Problem string `json:"problem,omitempty"`
}

// Catalog is a directory of backup sets, one subdirectory <id>/ per set. The
// catalog is the directory itself: nothing about it lives in the databases
// it backs up. A Catalog is safe for concurrent use by one process.
type Catalog struct {
	dir     string
	mu      sync.Mutex
	running map[string]bool
}

// OpenCatalog returns the catalog in dir; the directory is created (0700) by
// the first set written.
func OpenCatalog(dir string) *Catalog {
	return &Catalog{dir: dir, running: map[string]bool{}}
}

// Dir returns the catalog's directory.
func (c *Catalog) Dir() string { return c.dir }

// Create writes a new set of sources (see WriteSet); while it runs the set
// is listed as running.
func (c *Catalog) Create(ctx context.Context, sources []Source, opts SetOptions) (Manifest, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.ID == "" {
		opts.ID = NewSetID(opts.Now)
	}
	c.mark(opts.ID, true)
	defer c.mark(opts.ID, false)
	return WriteSet(ctx, c.dir, sources, opts)
}

func (c *Catalog) mark(id string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on {
		c.running[id] = true
	} else {
		delete(c.running, id)
	}
}

func (c *Catalog) isRunning(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running[id]
}

// List returns every set, newest first, with its label. Leftovers of
// interrupted runs (temporary directories) are listed as incomplete.
func (c *Catalog) List() ([]SetInfo, error) {
	entries, err := os.ReadDir(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read catalog %s: %w", c.dir, err)
	}
	var sets []SetInfo
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		if id, ok := strings.CutPrefix(name, ".tmp-"); ok && ValidSetID(id) {
			sets = append(sets, c.unfinished(id))
			continue
		}
		if ValidSetID(name) {
			sets = append(sets, c.describe(name))
		}
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].ID > sets[j].ID })
	return sets, nil
}

// Get returns one set.
func (c *Catalog) Get(id string) (SetInfo, error) {
	if !ValidSetID(id) {
		return SetInfo{}, fmt.Errorf("%w: %q is not a set id", ErrSetNotFound, id)
	}
	if _, err := os.Stat(filepath.Join(c.dir, id)); err != nil {
		if _, terr := os.Stat(filepath.Join(c.dir, ".tmp-"+id)); terr == nil {
			return c.unfinished(id), nil
		}
		return SetInfo{}, fmt.Errorf("%w: %s", ErrSetNotFound, id)
	}
	return c.describe(id), nil
}

// FilePath returns the path of database db's file in set id.
func (c *Catalog) FilePath(id, db string) (string, error) {
	info, err := c.Get(id)
	if err != nil {
		return "", err
	}
	entry, ok := info.Databases[db]
	if !ok {
		return "", fmt.Errorf("%w: set %s holds no %s backup", ErrMissingFile, id, db)
	}
	return filepath.Join(c.dir, id, filepath.Base(entry.File)), nil
}

func (c *Catalog) unfinished(id string) SetInfo {
	info := SetInfo{Manifest: Manifest{ID: id}, Label: LabelIncomplete, Problem: "the run was interrupted before the set was complete"}
	if t, err := time.Parse("20060102T150405Z", strings.SplitN(id, "-", 2)[0]); err == nil {
		info.Created = t
	}
	if c.isRunning(id) {
		info.Label, info.Problem = LabelRunning, ""
	}
	return info
}

// describe reads a set's manifest and labels it. It checks that every file
// the manifest names exists with the recorded size; checksums are Verify's job.
func (c *Catalog) describe(id string) SetInfo {
	dir := filepath.Join(c.dir, id)
	m, err := ReadManifest(dir)
	if err != nil {
		return SetInfo{Manifest: Manifest{ID: id}, Label: LabelIncomplete, Problem: "no readable manifest: " + err.Error()}
	}
	m.ID = id
	info := SetInfo{Manifest: m}
	if m.Status == StatusFailed {
		info.Label, info.Problem = LabelFailed, m.Error
		return info
	}
	for _, name := range sortedNames(m.Databases) {
		entry := m.Databases[name]
		st, err := os.Stat(filepath.Join(dir, filepath.Base(entry.File)))
		switch {
		case err != nil:
			info.Label, info.Problem = LabelIncomplete, fmt.Sprintf("%s is missing", entry.File)
			return info
		case st.Size() != entry.Bytes:
			info.Label, info.Problem = LabelIncomplete, fmt.Sprintf("%s is %d bytes, the manifest says %d", entry.File, st.Size(), entry.Bytes)
			return info
		}
	}
	switch {
	case len(m.Databases) == 0:
		info.Label, info.Problem = LabelIncomplete, "the manifest lists no database"
	case m.Verification == nil:
		info.Label = LabelCreated
	case m.Verification.OK:
		info.Label = LabelRestoreVerified
	default:
		info.Label, info.Problem = LabelVerifyFailed, m.Verification.Error
	}
	return info
}

func sortedNames(m map[string]DBEntry) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Delete removes a set, files and manifest together: the set is first renamed
// out of the catalog's view, then removed.
func (c *Catalog) Delete(id string) error {
	if !ValidSetID(id) {
		return fmt.Errorf("%w: %q is not a set id", ErrSetNotFound, id)
	}
	dir := filepath.Join(c.dir, id)
	gone := filepath.Join(c.dir, ".deleting-"+id)
	if err := os.Rename(dir, gone); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrSetNotFound, id)
		}
		return fmt.Errorf("delete set %s: %w", id, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("delete set %s: %w", id, err)
	}
	return syncDir(c.dir)
}

// Verify proves that set id restores: for every file, every checksum, a load
// into a scratch Badger database, and key count, content hash and file hash
// compared with the manifest. The result is recorded in the manifest and the
// set returned with its new label. Only the manifest is written.
func (c *Catalog) Verify(ctx context.Context, id string, now time.Time) (SetInfo, error) {
	info, err := c.Get(id)
	if err != nil {
		return info, err
	}
	if info.Label == LabelRunning || info.Label == LabelFailed || (info.Label == LabelIncomplete && info.Status == "") {
		return info, fmt.Errorf("set %s cannot be verified: it is %s", id, info.Label)
	}
	dir := filepath.Join(c.dir, id)
	verr := verifySet(ctx, dir, info.Manifest)
	if errors.Is(verr, context.Canceled) {
		return info, verr
	}
	m := info.Manifest
	m.Verification = &Verification{Time: now.UTC(), OK: verr == nil}
	if verr != nil {
		m.Verification.Error = verr.Error()
	}
	if err := WriteManifest(dir, m); err != nil {
		return info, err
	}
	return c.describe(id), nil
}

// verifySet checks every file of a set against its manifest entry.
func verifySet(ctx context.Context, dir string, m Manifest) error {
	for _, name := range sortedNames(m.Databases) {
		entry := m.Databases[name]
		path := filepath.Join(dir, filepath.Base(entry.File))
		opts := VerifyOptions{ReadOptions: ReadOptions{Database: name}, Load: true}
		_, sum, err := VerifyFile(ctx, path, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", entry.File, err)
		}
		if entry.Format == FormatBadger {
			continue
		}
		switch {
		case sum.Keys != entry.Keys:
			return fmt.Errorf("%s: %w: holds %d keys, the manifest says %d", entry.File, ErrChecksum, sum.Keys, entry.Keys)
		case sum.SHA256 != entry.SHA256:
			return fmt.Errorf("%s: %w: SHA-256 differs from the manifest", entry.File, ErrChecksum)
		case entry.ContentSHA256 != "" && sum.ContentSHA256 != entry.ContentSHA256:
			return fmt.Errorf("%s: %w: content hash differs from the manifest", entry.File, ErrChecksum)
		}
	}
	return nil
}
