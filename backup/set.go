package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
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

// SetOptions tune WriteSet.
type SetOptions struct {
	WriteOptions
	ID      string    // NewSetID(Now) when empty
	Trigger string    // TriggerManual when empty
	By      string    // who asked for the set
	Now     time.Time // names the set; time.Now when zero
}

// WriteSet writes a backup set of sources into catalog/<id>/. The set is
// written under catalog/.tmp-<id> and renamed into place only when complete,
// so a set directory always holds every file its manifest names. When the
// run fails, catalog/<id>/manifest.json records status failed and the error,
// and no data file is kept.
func WriteSet(ctx context.Context, catalog string, sources []Source, opts SetOptions) (Manifest, error) {
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
	m := Manifest{ID: id, Created: now.UTC(), Trigger: opts.Trigger, By: opts.By, ToolVersion: opts.ToolVersion}
	if err := os.MkdirAll(catalog, 0o700); err != nil {
		return m, fmt.Errorf("create catalog %s: %w", catalog, err)
	}
	tmp := filepath.Join(catalog, ".tmp-"+id)
	opts.WriteOptions.Manifest = m
	written, err := WriteDir(ctx, tmp, sources, opts.WriteOptions)
	if err == nil {
		written.Created = m.Created
		if err = WriteManifest(tmp, written); err == nil {
			err = os.Rename(tmp, filepath.Join(catalog, id))
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		recordFailure(catalog, m, err)
		return m, err
	}
	return written, syncDir(catalog)
}

// recordFailure leaves catalog/<id>/manifest.json with status failed, so the
// catalog shows the failed run. It is best effort: the disk may be full.
func recordFailure(catalog string, m Manifest, cause error) {
	dir := filepath.Join(catalog, m.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	m.Status = StatusFailed
	m.Error = cause.Error()
	m.Databases = map[string]DBEntry{}
	if err := WriteManifest(dir, m); err != nil {
		os.RemoveAll(dir)
	}
}
