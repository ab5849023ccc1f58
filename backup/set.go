package backup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"regexp"
	"time"
)

// Set triggers, recorded in a set's manifest.
const (
	TriggerManual     = "manual"
	TriggerScheduled  = "scheduled"
	TriggerPreRestore = "pre_restore"
)

// setIDPattern is the only shape a set id may have, so an id taken from a
// request can never name a path outside the catalog.
var setIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$`)

// NewSetID returns a fresh set id: its UTC creation time and a random
// suffix, so ids sort by age.
func NewSetID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// ValidSetID reports whether id has the shape NewSetID gives.
func ValidSetID(id string) bool { return setIDPattern.MatchString(id) }

// SetOptions tune Catalog.Create.
type SetOptions struct {
	WriteOptions
	ID      string    // NewSetID(Now) when empty
	Trigger string    // TriggerManual when empty
	By      string    // who asked for the set
	Now     time.Time // names the set; time.Now when zero
	// Parent makes an incremental set on top of this set (see
	// Catalog.Create, which picks it); SinceTs gives each database's
	// parent read timestamp.
	Parent  string
	SinceTs map[string]uint64
	// Incremental asks Catalog.Create for an incremental set on top of the
	// newest complete one; it falls back to a full set when there is no
	// such parent, or a database was rebuilt (a wipe restore) since, or the
	// chain already holds MaxChain sets (0: no limit).
	Incremental bool
	MaxChain    int
	// FullReason says why a set asked to be incremental is full; Create
	// fills it in, and the manifest keeps it.
	FullReason string

	// journal, set by Create while continuous backup runs on the catalog,
	// builds the incremental files from the journal; notFromJournal says
	// why not otherwise.
	journal        *journalSource
	notFromJournal string
}

// writeSet writes a set of sources into store: each database's file in
// turn, then the manifest, which makes the set complete. When the run fails,
// what was written is removed and a manifest with status failed and the
// error is left in its place, so the catalog shows the failed run and never
// a half set that looks complete.
func writeSet(ctx context.Context, store setStore, sources []Source, opts SetOptions) (Manifest, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.Trigger == "" {
		opts.Trigger = TriggerManual
	}
	id := opts.ID
	if id == "" {
		id = NewSetID(now)
	} else if !ValidSetID(id) {
		return Manifest{}, fmt.Errorf("invalid set id %q", id)
	}
	m := Manifest{ID: id, Created: now.UTC(), Trigger: opts.Trigger, By: opts.By, ToolVersion: opts.ToolVersion,
		Databases: map[string]DBEntry{}, Parent: opts.Parent, FullReason: opts.FullReason}
	if opts.Keys.Encrypts() {
		m.Encryption = EncryptionAge
	}
	sw, err := store.begin(ctx, id)
	if err != nil {
		return m, err
	}
	for _, src := range sources {
		entry, err := writeSetFile(ctx, sw, src, opts)
		if err != nil {
			err = fmt.Errorf("back up %s: %w", src.Name, err)
			failed := m
			failed.Status, failed.Error, failed.Databases = StatusFailed, err.Error(), map[string]DBEntry{}
			sw.abort(context.WithoutCancel(ctx), failed)
			return failed, err
		}
		m.Databases[src.Name] = entry
	}
	m.Status = StatusComplete
	if err := sw.commit(ctx, m); err != nil {
		failed := m
		failed.Status, failed.Error, failed.Databases = StatusFailed, err.Error(), map[string]DBEntry{}
		sw.abort(context.WithoutCancel(ctx), failed)
		return failed, err
	}
	return m, nil
}

// writeSetFile dumps one source into a new file of the set, encrypted when
// the options say so, and describes it.
func writeSetFile(ctx context.Context, sw setWriter, src Source, opts SetOptions) (DBEntry, error) {
	name := FileName(src.Name)
	fw, err := sw.create(ctx, name)
	if err != nil {
		return DBEntry{}, err
	}
	stored := &countingHash{w: fw, h: sha256.New()}
	entry, err := writeIncrementalOrDump(ctx, stored, src, opts)
	digest := hex.EncodeToString(stored.h.Sum(nil))
	if err == nil {
		err = fw.close(ctx, digest)
	}
	if err != nil {
		fw.discard()
		return DBEntry{}, err
	}
	entry.File, entry.Bytes, entry.SHA256 = name, stored.n, digest
	return entry, nil
}

// countingHash passes writes on to w, counting and hashing them.
type countingHash struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

func newSHA256() hash.Hash { return sha256.New() }

func hexSum(c *countingHash) string { return hex.EncodeToString(c.h.Sum(nil)) }
