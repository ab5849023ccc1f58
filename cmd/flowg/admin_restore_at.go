package main

import (
	"fmt"
	"time"

	"filippo.io/age"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

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
	sources, err := restore.PlanAt(c.Context, cat, req, "")
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
