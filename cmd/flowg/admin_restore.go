package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
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
	return withJSONReport(&cli.Command{
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
the command prints how to put it back (one command for every database).

When DIR is a catalog (a directory of sets, or s3://bucket/prefix) and --set
is not given, the restore reads the newest restore-verified set holding every
database restored, else the newest complete one with a warning, and says
which; a pre_restore safety set is read only when --set names it.

A restore that keeps no copy of what it replaces (--no-safety-snapshot,
--discard-previous) is refused unless the catalog (--catalog-dir) holds a
restore-verified set of that database; --skip-backup-check overrides this.

Examples:
   flowg admin restore --backup-dir ./backup
   flowg admin restore --backup-dir ./backup --dry-run
   flowg admin restore --backup-dir ./backups --only config --json
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
			&cli.IntFlag{Name: "max-safety-copies", Value: backup.DefaultMaxSafetyCopies, Usage: "how many safety copies of earlier restores (pre_restore sets in --catalog-dir, set-aside directories) a database may have; a restore that would keep one more is refused with the list to remove (0: no limit)"},
			&cli.StringFlag{Name: "max-restore-size", Usage: "refuse a backup whose records add up to more than this, e.g. 64GiB, before anything is written (default: no limit; the free disk space is always checked)"},
			&cli.StringFlag{Name: "set", Usage: "restore this set of the catalog at --backup-dir (default with a catalog: the newest restore-verified set holding every database restored, else the newest complete one, with a warning; never a pre_restore safety set unless named)"},
			atFlag(),
		),
		Action: recordedOffline(offlineRestore, adminRestore),
	})
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
	maxBytes, err := sizeFlag(c, "max-restore-size")
	if err != nil {
		return err
	}
	jobs, cleanup, err := findJobs(c, names, ids)
	if err != nil {
		return err
	}
	defer cleanup()
	for _, job := range jobs {
		warnIncomplete(c.App.ErrWriter, job.dir)
	}
	if c.Bool("dry-run") {
		return planRestore(c, jobs)
	}
	if err := guardUnprotected(c, names); err != nil {
		return err
	}
	defer purgeRestoredLegacyJWTKey(c, names)
	if err := guardSafetyCopies(c, jobs); err != nil {
		return err
	}
	stamp := time.Now().UTC()
	if c.Bool("wipe") {
		return wipeAll(c, jobs, stamp, maxBytes)
	}
	if err := guardSizes(c, jobs, maxBytes); err != nil {
		return err
	}
	// A merge keeps the collector on (Badger's memtables are most of its
	// heap) but under a soft limit: large records would grow it otherwise.
	limitMemoryForMerge()
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

// guardSizes refuses, before anything is written, a restore whose files
// hold more than --max-restore-size or than the databases' disks can take
// (see backup.SizeGuard); each job keeps the limit for while it is read.
func guardSizes(c *cli.Context, jobs []restoreJob, maxBytes uint64) error {
	for i := range jobs {
		jobs[i].guard = backup.SizeGuard{MaxBytes: maxBytes, Dir: jobs[i].dir}
		if err := jobs[i].guard.CheckFile(c.Context, jobs[i].open); err != nil {
			return sizeRefusal(jobs[i], err)
		}
	}
	return nil
}

func sizeRefusal(job restoreJob, err error) error {
	next := "free space on the disk of " + job.dir
	if errors.Is(err, backup.ErrTooLarge) {
		next = "raise --max-restore-size if this size is expected"
	}
	return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "nothing was written; every database is unchanged", next: next}
}

// sizeFlag parses a size flag such as --max-restore-size 64GiB; 0 (no
// limit) when unset or "0".
func sizeFlag(c *cli.Context, name string) (uint64, error) {
	v := c.String(name)
	if v == "" || v == "0" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n == 0 {
		return 0, usagef("--%s %q: use a size such as 64GiB", name, v)
	}
	return n, nil
}

// guardSafetyCopies refuses a restore that would keep one more safety copy
// of a database that has --max-safety-copies already.
func guardSafetyCopies(c *cli.Context, jobs []restoreJob) error {
	keeps := !c.Bool("no-safety-snapshot")
	if c.Bool("wipe") {
		keeps = !c.Bool("discard-previous")
	}
	if !keeps || c.Int("max-safety-copies") <= 0 {
		return nil
	}
	cat, err := catalogFrom(c, c.String("catalog-dir"))
	if err != nil {
		return opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	for _, job := range jobs {
		if err := backup.CheckSafetyRoom(c.Context, cat, string(job.name), job.dir, c.Int("max-safety-copies")); err != nil {
			return opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged",
				next: "remove the safety copies you no longer need, then run the restore again"}
		}
	}
	return nil
}
