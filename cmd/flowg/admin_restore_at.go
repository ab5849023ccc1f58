package main

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// `flowg admin restore --at TIME`: each database rebuilt as it was at an
// instant from the catalog's journal (the newest set it can start from plus
// the journal up to TIME), then restored through the usual wipe, empty-
// directory load or merge; a merge then deletes the keys deleted between
// the base set and the instant, and keeps the keys the chain never held.

func atFlag() cli.Flag {
	return &cli.StringFlag{Name: "at", Usage: "restore each database to its state at this instant (RFC 3339, e.g. 2026-03-01T12:00:00Z), or 'latest' for the newest change its journal holds; needs the catalog at --backup-dir, written by 'flowg serve --backup-continuous'"}
}

// findJobsAt rebuilds every named database at --at, before anything is
// written; the returned cleanup removes the rebuilt files.
func findJobsAt(c *cli.Context, names []kv.Name, dirs kv.Dirs) ([]restoreJob, func(), error) {
	at, latest, err := backup.ParseAt(c.String("at"))
	if err != nil {
		return nil, nil, usagef("--at: %v", err)
	}
	backupDir := c.String("backup-dir")
	cat, err := catalogFrom(c, backupDir)
	if err != nil {
		return nil, nil, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return nil, nil, err
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	var cleanups []func()
	cleanup := func() {
		for _, f := range cleanups {
			f()
		}
	}
	var jobs []restoreJob
	for _, name := range names {
		open, done, p, err := cat.RestorableAt(c.Context, string(name), at, latest, "")
		if err != nil {
			cleanup()
			return nil, nil, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged",
				next: "choose an instant within the window named above, or 'latest'"}
		}
		cleanups = append(cleanups, done)
		instant := p.Instant.Format(time.RFC3339Nano)
		fmt.Fprintf(c.App.ErrWriter, "restoring %s to its state at %s: set %s and %d journal segments (%d changes) of chain %s\n",
			name, instant, p.BaseSet, p.Segments, p.Changes, p.Chain)
		job := restoreJob{name: name, dir: dirs.Of(name), file: fmt.Sprintf("the journal of %s at %s", backupDir, instant), open: open}
		if deleted := p.Deleted; !c.Bool("wipe") {
			// A merge writes the state at the instant over the database;
			// the keys deleted between the base set and the instant go too.
			job.afterMerge = func(db *badger.DB) (string, error) {
				n, err := backup.DeleteKeys(db, deleted)
				return fmt.Sprintf("%d keys deleted before the instant removed", n), err
			}
		}
		jobs = append(jobs, job)
	}
	return jobs, cleanup, nil
}
