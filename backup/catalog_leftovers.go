package backup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// UnfinishedSetAge is how long a local catalog's unfinished set must have
// gone unwritten before RemoveUnfinishedSets takes it for what a crash left.
// A set being written changes its files as it goes: one untouched for an
// hour has no writer left.
const UnfinishedSetAge = time.Hour

// leftoverSetPrefixes start the names under which a local catalog writes a
// set (".tmp-<id>", renamed to <id> once complete) and deletes one
// (".deleting-<id>", removed next): see localStore.
var leftoverSetPrefixes = []string{".tmp-", ".deleting-"}

// RemoveUnfinishedSets removes from a local catalog what a crash left of
// the sets it was writing or deleting: directories named .tmp-<id> or
// .deleting-<id> (a valid set id), neither being written by this process
// nor changed (the directory or a file in it) for UnfinishedSetAge before
// now. For auth they hold copies of its secrets. Nothing else is touched. It
// returns what it removed. On S3 it does nothing: there a new set finishes
// off the abandoned ones (cleanOrphans).
func (c *Catalog) RemoveUnfinishedSets(now time.Time) (removed []string, err error) {
	local, ok := c.store.(localStore)
	if !ok {
		return nil, nil
	}
	entries, err := os.ReadDir(local.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range entries {
		id, ok := leftoverSetID(e)
		if !ok {
			continue
		}
		if _, running := c.isRunning(id); running {
			continue
		}
		path := filepath.Join(local.dir, e.Name())
		changed, err := lastChange(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if now.Sub(changed) < UnfinishedSetAge {
			continue // a writer may still be at it
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	if len(removed) > 0 {
		errs = append(errs, syncDir(local.dir))
	}
	return removed, errors.Join(errs...)
}

// leftoverSetID returns the set id of a directory a local catalog names
// while writing or deleting that set.
func leftoverSetID(e fs.DirEntry) (string, bool) {
	if !e.IsDir() {
		return "", false
	}
	for _, p := range leftoverSetPrefixes {
		if id, ok := strings.CutPrefix(e.Name(), p); ok && ValidSetID(id) {
			return id, true
		}
	}
	return "", false
}

// lastChange returns the latest modification time of dir and of what it
// holds, without following links.
func lastChange(dir string) (time.Time, error) {
	var latest time.Time
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(latest) {
			latest = info.ModTime()
		}
		return nil
	})
	return latest, err
}
