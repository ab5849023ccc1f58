package main

import (
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// `flowg admin restore`: the databases of a stopped server restored from a
// backup directory or a catalog set. This file holds the command and the
// order of its steps: find and check every file (admin_restore_plan.go),
// refuse a restore that keeps no copy unless a verified set exists, then
// merge or wipe (admin_restore_write.go) and print (admin_restore_output.go).

func adminRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore the databases of a stopped server from a backup directory",
		UsageText: "flowg admin restore [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] [--backup-dir DIR] [--only ...] [--wipe] [--dry-run]",
		Description: `Reads DIR/auth.db, DIR/config.db and DIR/log.db (or logs.db) and restores them.
Every file is checked whole (checksums, trailer, database name) before the
first key is written; a bad file changes nothing.

By default the restore merges: every key of the backup overwrites the
database's value, even one written after the backup; keys the backup lacks are
kept. Before a merge changes the databases, a safety snapshot of them is
written as a pre_restore set into the catalog (--catalog-dir, default
./backups, where the server keeps its sets too), and the command that undoes
the restore is printed.

With --wipe the database afterwards holds exactly the backup: it is rebuilt in
a sibling directory and swapped in by rename, crash-safely. The previous
database is kept at <dir>.before-restore-<time> unless --discard-previous;
the command prints how to put it back.

A restore that keeps no copy of what it replaces (--no-safety-snapshot,
--discard-previous) is refused unless the catalog (--catalog-dir) holds a
restore-verified set of that database; --skip-backup-check overrides this.

Examples:
   flowg admin restore --backup-dir ./backup
   flowg admin restore --backup-dir ./backup --dry-run
   flowg admin restore --backup-dir ./backup --only config --wipe
   rm -rf ./data && flowg admin restore --backup-dir ./backup`,
		Flags: append(append(append(dirFlags(), s3Flags()...), decryptFlags()...),
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory holding auth.db, config.db and log.db, or an s3://bucket/prefix catalog"},
			onlyFlag(),
			&cli.BoolFlag{Name: "wipe", Usage: "destructive: afterwards each database holds exactly the backup's keys"},
			&cli.BoolFlag{Name: "dry-run", Usage: "check the files and say what would change (keys added, overwritten, removed); write nothing"},
			&cli.BoolFlag{Name: "no-safety-snapshot", Usage: "merge without writing a safety snapshot first"},
			&cli.BoolFlag{Name: "discard-previous", Usage: "with --wipe, delete the previous database instead of keeping it aside"},
			&cli.StringFlag{Name: "catalog-dir", Value: "./backups", Usage: "catalog the merge safety snapshot goes to, and checked for a restore-verified set before a restore without safety copy"},
			&cli.BoolFlag{Name: "skip-backup-check", Usage: "allow --no-safety-snapshot / --discard-previous without a restore-verified set in the catalog"},
			&cli.StringFlag{Name: "set", Usage: "restore this set of the catalog at --backup-dir (with an s3:// --backup-dir, default: the newest complete set)"},
			atFlag(),
		),
		Action: adminRestore,
	}
}

func adminRestore(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	names, err := namesFrom(c)
	if err != nil {
		return err
	}
	if c.Bool("discard-previous") && !c.Bool("wipe") {
		return usagef("--discard-previous only applies with --wipe")
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	jobs, cleanup, err := findJobs(c, names, ids)
	if err != nil {
		return err
	}
	defer cleanup()
	if c.Bool("dry-run") {
		return planRestore(c, jobs)
	}
	if err := guardUnprotected(c, names); err != nil {
		return err
	}
	defer purgeRestoredLegacyJWTKey(c, names)
	stamp := time.Now().UTC()
	if c.Bool("wipe") {
		return wipeAll(c, jobs, stamp)
	}
	return mergeAll(c, jobs, stamp)
}

// guardUnprotected refuses a restore that keeps no copy of what it replaces
// unless a restore-verified set of each database exists in the catalog.
func guardUnprotected(c *cli.Context, names []kv.Name) error {
	var givenUp string
	switch {
	case c.Bool("wipe") && c.Bool("discard-previous"):
		givenUp = "the previous database will be deleted, not kept aside"
	case !c.Bool("wipe") && c.Bool("no-safety-snapshot"):
		givenUp = "no safety snapshot will be taken before the merge"
	default:
		return nil
	}
	if c.Bool("skip-backup-check") {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s, and no restore-verified backup was required (--skip-backup-check): this restore cannot be undone\n", givenUp)
		return nil
	}
	cat := backup.OpenCatalog(c.String("catalog-dir"))
	for _, name := range names {
		ok, err := cat.HasVerified(c.Context, string(name))
		if err != nil {
			return opError{op: "restore", err: err, safe: "nothing was written"}
		}
		if !ok {
			return opError{op: "restore", safe: "nothing was written",
				err:  fmt.Errorf("%s, and the catalog %s holds no restore-verified set of the %s database to fall back on", givenUp, c.String("catalog-dir"), name),
				next: "keep the safety copy (drop the flag), verify a set first (`flowg admin backups verify --all`), or pass --skip-backup-check to accept the risk"}
		}
	}
	return nil
}
