package backup

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Every restore keeps one safety copy of what it replaces: a pre_restore
// set in the catalog, or the previous directory of a wipe set aside beside
// the database. Repeated restores would pile them up until the disk is
// full, and retention never drops one younger than its maximum age: so a
// restore is refused, before anything is written, once a database has
// MaxSafetyCopies of them, with the list of what to remove.

// DefaultMaxSafetyCopies is the default of --max-safety-copies.
const DefaultMaxSafetyCopies = 3

// SafetyCopies lists the safety copies of database name, whose directory is
// dir: the pre_restore sets of cat holding it (by id) and the set-aside
// directories beside dir.
func SafetyCopies(ctx context.Context, cat *Catalog, name, dir string) ([]string, error) {
	var copies []string
	if cat != nil {
		sets, err := cat.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			if _, ok := s.Databases[name]; ok && s.Trigger == TriggerPreRestore {
				copies = append(copies, "set "+s.ID)
			}
		}
	}
	if dir != "" {
		aside, err := filepath.Glob(filepath.Clean(dir) + ".before-restore-*")
		if err != nil {
			return nil, err
		}
		sort.Strings(aside)
		copies = append(copies, aside...)
	}
	return copies, nil
}

// CheckSafetyRoom refuses with ErrTooManySafetyCopies a restore of
// database name that would take one more safety copy when it already has
// max (0: no limit). Copies it cannot count (a catalog it cannot list) do
// not refuse a restore.
func CheckSafetyRoom(ctx context.Context, cat *Catalog, name, dir string, max int) error {
	if max <= 0 {
		return nil
	}
	copies, err := SafetyCopies(ctx, cat, name, dir)
	if err != nil {
		return nil // a catalog that cannot be listed fails the safety snapshot, with its own answer
	}
	if len(copies) < max {
		return nil
	}
	return fmt.Errorf("%w: the %s database already has %d safety copies of earlier restores (the limit is %d): %s; "+
		"remove those you no longer need (a set: DELETE /api/v1/backups/ID while the server runs, or its directory in the catalog; a set-aside directory: rm -r it), then retry",
		ErrTooManySafetyCopies, name, len(copies), max, strings.Join(copies, ", "))
}
