package main

import (
	"errors"
	"fmt"
	"time"

	"filippo.io/age"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// Planning `flowg admin restore`: which file restores which database — a
// backup directory, a set of a catalog (an s3:// --backup-dir, a catalog
// directory, or --set), or an instant of its journal (--at) — found with
// restore.PlanDir, PlanSet and PlanAt before anything is written.

// planSources finds every database's file; the caller closes them.
func planSources(c *cli.Context, req restore.Request, ids []age.Identity) (restore.Sources, error) {
	if req.At != "" {
		return planAt(c, req, ids)
	}
	backupDir := c.String("backup-dir")
	noteDefaultBackupDir(c, "restoring from")
	refuse := func(err error) error {
		return opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	if !backup.IsS3URL(backupDir) && req.Set == "" && !backup.IsLocalCatalog(backupDir) {
		sources, err := restore.PlanDir(c.Context, backupDir, req.Databases, ids)
		var ambiguous *restore.Ambiguous
		if errors.As(err, &ambiguous) {
			return nil, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged",
				next: "move aside the one not to restore (log.db is what `flowg admin backup` writes, logs.db what the online download saves)"}
		}
		if err != nil {
			return nil, refuse(err)
		}
		return sources, nil
	}
	cat, err := catalogFrom(c, backupDir)
	if err != nil {
		return nil, refuse(err)
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	id, err := pickSet(c, cat, req.Set, req.Databases)
	if err != nil {
		return nil, refuse(err)
	}
	info, err := cat.Get(c.Context, id)
	if err != nil {
		return nil, refuse(err)
	}
	sources, err := restore.PlanSet(c.Context, cat, info, req.Databases, "")
	if err != nil {
		return nil, refuse(err)
	}
	fmt.Fprintf(c.App.ErrWriter, "restoring set %s of %s\n", id, backupDir)
	reportOf(c).set("set", id)
	return sources, nil
}

// pickSet returns id if given, else the set restore.PickSet picks for
// names, saying which (and warning when it is not restore-verified).
func pickSet(c *cli.Context, cat *backup.Catalog, id string, names []kv.Name) (string, error) {
	choice, err := restore.PickSet(c.Context, cat, id, names)
	if err != nil || id != "" {
		return id, err
	}
	if choice.Warning != "" {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", choice.Warning)
	}
	fmt.Fprintf(c.App.ErrWriter, "no --set: picked %s\n", choice.Say())
	reportOf(c).set("set_picked", choice.Say())
	if choice.Warning != "" {
		reportOf(c).set("set_warning", choice.Warning)
	}
	return choice.Set.ID, nil
}

// printPlan prints the line of one database of a dry run, offline or
// online: the file's keys and what a merge, or a wipe, would change.
func printPlan(c *cli.Context, name, file string, p backup.Plan) {
	w := c.App.Writer
	fmt.Fprintf(w, "%-6s %s: %s; merge would add %d, overwrite %d, leave %d unchanged", name, file, countText(p.File.Keys, "key"), p.Added, p.Changed, p.Same)
	if p.RemovedByMerge > 0 {
		fmt.Fprintf(w, ", remove %d deleted before the instant", p.RemovedByMerge)
	}
	fmt.Fprintf(w, "; --wipe would also remove %d", p.Removed)
	if p.Expired > 0 {
		fmt.Fprintf(w, "; %s would be skipped", countText(p.Expired, "expired record"))
	}
	fmt.Fprintln(w)
	reportOf(c).add("databases", map[string]any{"database": name, "file": file, "keys": p.File.Keys, "added": p.Added,
		"overwritten": p.Changed, "unchanged": p.Same, "removed_by_wipe": p.Removed, "removed_by_merge": p.RemovedByMerge, "expired_skipped": p.Expired})
}

// `flowg admin restore --at TIME`: each database rebuilt as it was at an
// instant from the catalog's journal (the newest set it can start from plus
// the journal up to TIME, restore.PlanAt), then restored through the usual
// wipe, empty-directory load or merge; a merge then deletes the keys
// deleted between the base set and the instant, and keeps the keys the
// chain never held.

func atFlag() cli.Flag {
	return &cli.StringFlag{Name: "at", Usage: "restore each database to its state at this instant (RFC 3339, e.g. 2026-03-01T12:00:00Z), or 'latest' for the newest change its journal holds; needs the catalog at --backup-dir, written by 'flowg serve --backup-continuous'"}
}

// planAt rebuilds every database of req at its instant, before anything
// is written.
func planAt(c *cli.Context, req restore.Request, ids []age.Identity) (restore.Sources, error) {
	backupDir := c.String("backup-dir")
	cat, err := catalogFrom(c, backupDir)
	if err != nil {
		return nil, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	dirs, err := dirsFrom(c)
	if err != nil {
		return nil, err
	}
	sources, err := restore.PlanAtInPlace(c.Context, cat, req, "", dirs)
	if err != nil {
		return nil, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged",
			next: "choose an instant within the window named above, or 'latest'"}
	}
	for _, src := range sources {
		p := src.Instant
		fmt.Fprintf(c.App.ErrWriter, "restoring %s to its state at %s: set %s and %d journal segments (%d changes) of chain %s\n",
			src.Database, p.Instant.Format(time.RFC3339Nano), p.BaseSet, p.Segments, p.Changes, p.Chain)
	}
	return sources, nil
}
