package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
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
	// Journal holds the windows of the journal chains that start from the
	// set (continuous backup), when listed with ListWithJournal.
	Journal []JournalWindow `json:"journal,omitempty"`
}

// Catalog is a collection of backup sets, in a local directory or under an
// S3 prefix. The catalog is the sets themselves (their manifests): nothing
// about it lives in the databases it backs up, so losing a database never
// loses the list of its backups. A Catalog is safe for concurrent use by
// one process.
type Catalog struct {
	store setStore
	keys  Keys
	mu    sync.Mutex
	// running maps the sets being written to the set each builds on ("" for
	// a full set), so retention keeps what a running set needs.
	running map[string]string
	// sets is the set lock (see HoldSets).
	sets sync.RWMutex
	// shipper, while continuous backup runs on this catalog, is what its
	// incremental sets are built from (see incremental_journal.go).
	shipper atomic.Pointer[Continuous]
}

// OpenCatalog returns the catalog in the local directory dir; the directory
// is created (0700) by the first set written.
func OpenCatalog(dir string) *Catalog {
	return &Catalog{store: localStore{dir: dir}, running: map[string]string{}}
}

// WithKeys makes the catalog encrypt new sets to keys' recipients and
// decrypt with keys' identities.
func (c *Catalog) WithKeys(keys Keys) *Catalog {
	c.keys = keys
	return c
}

// Dir returns where the catalog is (a directory or an s3:// URL).
func (c *Catalog) Dir() string { return c.store.String() }

// Create writes a new set of sources: each database's file, then the
// manifest, which makes it complete; see writeSet for failures. While it
// runs the set is listed as running.
func (c *Catalog) Create(ctx context.Context, sources []Source, opts SetOptions) (Manifest, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.ID == "" {
		opts.ID = NewSetID(opts.Now)
	}
	if !opts.Keys.Encrypts() {
		opts.Keys = c.keys
	}
	if opts.Incremental && opts.Parent == "" {
		if err := c.pickParent(ctx, sources, &opts); err != nil {
			return Manifest{}, err
		}
	}
	if opts.Parent != "" {
		c.fromJournal(&opts)
	}
	c.mark(opts.ID, opts.Parent, true)
	defer c.mark(opts.ID, "", false)
	return writeSet(ctx, c.store, sources, opts)
}

func (c *Catalog) mark(id, parent string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on {
		c.running[id] = parent
	} else {
		delete(c.running, id)
	}
}

// isRunning reports whether set id is being written, and the set it builds on.
func (c *Catalog) isRunning(id string) (parent string, running bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	parent, running = c.running[id]
	return parent, running
}

// List returns every set, newest first, with its label. Leftovers of
// interrupted runs are listed as incomplete.
func (c *Catalog) List(ctx context.Context) ([]SetInfo, error) {
	complete, unfinished, err := c.store.ids(ctx)
	if err != nil {
		return nil, err
	}
	sets := make([]SetInfo, 0, len(complete)+len(unfinished))
	for _, id := range unfinished {
		if !contains(complete, id) {
			sets = append(sets, c.unfinished(id))
		}
	}
	for _, id := range complete {
		sets = append(sets, c.describe(ctx, id))
	}
	markBrokenChains(sets)
	// Newest first: by creation time (ids have one-second precision), then id.
	sort.Slice(sets, func(i, j int) bool {
		if !sets[i].Created.Equal(sets[j].Created) {
			return sets[i].Created.After(sets[j].Created)
		}
		return sets[i].ID > sets[j].ID
	})
	return sets, nil
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Get returns one set.
func (c *Catalog) Get(ctx context.Context, id string) (SetInfo, error) {
	if !ValidSetID(id) {
		return SetInfo{}, fmt.Errorf("%w: %q is not a set id", ErrSetNotFound, id)
	}
	complete, unfinished, err := c.store.ids(ctx)
	if err != nil {
		return SetInfo{}, err
	}
	switch {
	case contains(complete, id):
		info := c.describe(ctx, id)
		if info.Parent != "" && usable(info) {
			// The chain decides whether the set can be restored.
			return c.labelWithChain(ctx, info, complete), nil
		}
		return info, nil
	case contains(unfinished, id):
		return c.unfinished(id), nil
	}
	return SetInfo{}, fmt.Errorf("%w: %s", ErrSetNotFound, id)
}

// FilePath returns the path of database db's file in set id, for a catalog
// in a local directory.
func (c *Catalog) FilePath(ctx context.Context, id, db string) (string, error) {
	entry, err := c.entry(ctx, id, db)
	if err != nil {
		return "", err
	}
	local, ok := c.store.(localStore)
	if !ok {
		return "", fmt.Errorf("set %s is in %s, not on this disk: read it with Open", id, c.store)
	}
	path, _ := local.localPath(id, entry.File)
	return path, nil
}

// Open returns an Opener for database db's file in set id, decrypting it
// with the catalog's identities when the set is encrypted.
func (c *Catalog) Open(ctx context.Context, id, db string) (Opener, error) {
	entry, err := c.entry(ctx, id, db)
	if err != nil {
		return nil, err
	}
	open := func(ctx context.Context) (io.ReadCloser, int64, error) { return c.openCounted(ctx, id, entry.File) }
	return decrypting(open, c.keys.Identities), nil
}

// OpenStored returns database db's file in set id as stored (encrypted if
// the set is), with its size: what a download serves.
func (c *Catalog) OpenStored(ctx context.Context, id, db string) (io.ReadCloser, int64, error) {
	entry, err := c.entry(ctx, id, db)
	if err != nil {
		return nil, 0, err
	}
	return c.store.open(ctx, id, entry.File)
}

func (c *Catalog) entry(ctx context.Context, id, db string) (DBEntry, error) {
	info, err := c.Get(ctx, id)
	if err != nil {
		return DBEntry{}, err
	}
	entry, ok := info.Databases[db]
	if !ok {
		return DBEntry{}, fmt.Errorf("%w: set %s holds no %s backup", ErrMissingFile, id, db)
	}
	return entry, nil
}

func (c *Catalog) unfinished(id string) SetInfo {
	info := SetInfo{Manifest: Manifest{ID: id}, Label: LabelIncomplete, Problem: "the run was interrupted before the set was complete"}
	if t, err := time.Parse("20060102T150405Z", id[:16]); err == nil {
		info.Created = t
	}
	if parent, ok := c.isRunning(id); ok {
		info.Label, info.Problem, info.Parent = LabelRunning, "", parent
	}
	return info
}

// describe reads a set's manifest and labels it. It checks that every file
// the manifest names exists with the recorded size; checksums are Verify's job.
func (c *Catalog) describe(ctx context.Context, id string) SetInfo {
	m, err := c.store.manifest(ctx, id)
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
		size, err := c.store.size(ctx, id, entry.File)
		switch {
		case errors.Is(err, os.ErrNotExist):
			info.Label, info.Problem = LabelIncomplete, fmt.Sprintf("%s is missing", entry.File)
			return info
		case err != nil:
			info.Label, info.Problem = LabelIncomplete, fmt.Sprintf("%s cannot be read: %v", entry.File, err)
			return info
		case size != entry.Bytes && !c.reencrypted(ctx, id, entry):
			info.Label, info.Problem = LabelIncomplete, fmt.Sprintf("%s is %d bytes, the manifest says %d", entry.File, size, entry.Bytes)
			return info
		}
	}
	if m.Parent != "" {
		if _, err := c.store.manifest(ctx, m.Parent); err != nil {
			info.Label, info.Problem = LabelIncomplete, fmt.Sprintf("its chain is broken: parent set %s is gone", m.Parent)
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

// labelWithChain labels info, an incremental set, by its chain (see
// markBrokenChains), reading only the manifests of that chain; complete
// lists the ids of the complete sets.
func (c *Catalog) labelWithChain(ctx context.Context, info SetInfo, complete []string) SetInfo {
	sets := []SetInfo{info}
	seen := map[string]bool{info.ID: true}
	for p := info.Parent; p != "" && !seen[p] && contains(complete, p); {
		seen[p] = true
		link := c.describe(ctx, p)
		sets = append(sets, link)
		p = link.Parent
	}
	markBrokenChains(sets)
	return sets[0]
}

// usable reports whether a set can be restored, or built on, as far as its
// own files go.
func usable(s SetInfo) bool { return s.Label == LabelCreated || s.Label == LabelRestoreVerified }

// markBrokenChains labels incomplete every incremental set of sets whose
// chain holds a set that is gone or cannot be restored (incomplete, failed,
// verify failed), or loops: restoring it would fail at that link, so it must
// not keep its own restore-verified label. A restore-verified set whose
// chain holds a set never verified is only "created": its own check did not
// cover the links it needs.
func markBrokenChains(sets []SetInfo) {
	byID := make(map[string]int, len(sets))
	for i, s := range sets {
		byID[s.ID] = i
	}
	for i := range sets {
		if sets[i].Parent == "" || !usable(sets[i]) {
			continue
		}
		seen := map[string]bool{sets[i].ID: true}
		allVerified := true
		for p := sets[i].Parent; p != ""; {
			j, ok := byID[p]
			switch {
			case seen[p]:
				sets[i].Label, sets[i].Problem = LabelIncomplete, fmt.Sprintf("its chain is broken: it loops at set %s", p)
			case !ok:
				sets[i].Label, sets[i].Problem = LabelIncomplete, fmt.Sprintf("its chain is broken: set %s it builds on is gone", p)
			case !usable(sets[j]):
				sets[i].Label, sets[i].Problem = LabelIncomplete, fmt.Sprintf("its chain is broken: set %s it builds on is %s", p, sets[j].Label)
			}
			if !usable(sets[i]) {
				break
			}
			seen[p] = true
			allVerified = allVerified && sets[j].Label == LabelRestoreVerified
			p = sets[j].Parent
		}
		if usable(sets[i]) && sets[i].Label == LabelRestoreVerified && !allVerified {
			sets[i].Label = LabelCreated
		}
	}
}

func sortedNames(m map[string]DBEntry) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Delete removes a set, files and manifest together, holding the set lock
// exclusively (see HoldSets). A set other sets build on (the parent of an
// incremental set, complete or running) is refused with ErrInChain.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	if !ValidSetID(id) {
		return fmt.Errorf("%w: %q is not a set id", ErrSetNotFound, id)
	}
	release, err := c.lockSets(ctx, true)
	if err != nil {
		return err
	}
	defer release()
	sets, err := c.List(ctx)
	if err != nil {
		return err
	}
	for _, s := range sets {
		if s.Parent == id {
			return fmt.Errorf("%w: set %s is the parent of %s; delete %s first", ErrInChain, id, s.ID, s.ID)
		}
	}
	return c.store.remove(ctx, id)
}
