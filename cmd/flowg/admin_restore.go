package main

import (
	"errors"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// `flowg admin restore`: the databases of a stopped server restored from a
// backup directory, a catalog set or an instant of its journal. The door
// parses the flags into one restore.Request, plans the sources
// (admin_restore_plan.go), hands them to the restore
// use case on the offline targets (restore.Admit, Restore.Run), and prints
// its Outcome (admin_restore_output.go) or its failure
// (admin_restore_errors.go).

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
	req, err := restoreRequest(c, names)
	if err != nil {
		return err
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	maxBytes, err := sizeFlag(c, "max-restore-size")
	if err != nil {
		return err
	}
	dirs, err := dirsFrom(c)
	if err != nil {
		return err
	}
	sources, err := planSources(c, req, ids)
	if err != nil {
		return err
	}
	defer sources.Close()
	for _, src := range sources {
		warnIncomplete(c.App.ErrWriter, dirs.Of(src.Database))
	}
	opts, err := offlineOptions(c, maxBytes)
	if err != nil {
		return err
	}
	rs, err := restore.Admit(c.Context, req, restore.NewOffline(dirs, c.String("catalog-dir")), opts)
	if err != nil {
		return restoreError(c, dirs, err)
	}
	out, err := runOffline(c, rs, sources)
	if !req.DryRun {
		// Once every database is released: it opens auth.
		purgeRestoredLegacyJWTKey(c, names)
	}
	printOutcome(c, dirs, req, sources, out)
	if err != nil {
		return restoreError(c, dirs, err)
	}
	return nil
}

// runOffline runs the admitted restore and releases its databases.
func runOffline(c *cli.Context, rs *restore.Restore, sources restore.Sources) (restore.Outcome, error) {
	defer rs.Close()
	if req := rs.Request(); !req.DryRun && !req.Wipe {
		// A merge keeps the collector on (Badger's memtables are most of
		// its heap) but under a soft limit: large records would grow it.
		limitMemoryForMerge()
	}
	return rs.Run(c.Context, sources)
}

// restoreRequest is the restore the flags ask for, validated once in
// restore.Request.Validate; its errors are worded with the flags' names.
func restoreRequest(c *cli.Context, names []kv.Name) (restore.Request, error) {
	req := restore.Request{Databases: names, Wipe: c.Bool("wipe"), DryRun: c.Bool("dry-run"),
		NoSafetySnapshot: c.Bool("no-safety-snapshot"), DiscardPrevious: c.Bool("discard-previous"),
		SkipBackupCheck: c.Bool("skip-backup-check"), Set: c.String("set"), At: c.String("at")}
	err := req.Validate()
	var bad *restore.RequestError
	if errors.As(err, &bad) {
		switch bad.Option {
		case "DiscardPrevious":
			return req, usagef("--discard-previous only applies with --wipe")
		case "Set":
			return req, usagef("--at picks the set a journal starts from itself: drop --set")
		}
		return req, usagef("--%s", bad.Reason)
	}
	return req, err
}

// offlineOptions are the restore's options from the flags: the catalog
// the safety snapshot goes to (encrypted with --encrypt-to), the limits,
// the progress bars and the memory policy of a bulk load.
func offlineOptions(c *cli.Context, maxBytes uint64) (restore.Options, error) {
	keys, err := keysFrom(c)
	if err != nil {
		return restore.Options{}, err
	}
	cat, err := catalogFrom(c, c.String("catalog-dir"))
	if err != nil {
		return restore.Options{}, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	cat.WithKeys(keys)
	return restore.Options{Catalog: cat, By: "flowg admin restore", ToolVersion: version, MaxBytes: maxBytes,
		MaxSafetyCopies: c.Int("max-safety-copies"), OnBulkLoad: limitMemoryForStreaming,
		Progress: func(n kv.Name, total uint64) (func(keys, bytes uint64), func()) {
			bar := newProgress(c.App.ErrWriter, "restore "+string(n), int64(total))
			return bar.update, bar.finish
		}}, nil
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
