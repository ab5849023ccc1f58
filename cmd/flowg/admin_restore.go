package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

func adminRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore the databases of a stopped server from a backup directory",
		UsageText: "flowg admin restore [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] --backup-dir DIR [--only ...] [--wipe] [--dry-run]",
		Description: `Reads DIR/auth.db, DIR/config.db and DIR/log.db (or logs.db) and restores them.
Every file is checked whole (checksums, trailer, database name) before the
first key is written; a bad file changes nothing.

By default the restore merges: every key of the backup overwrites the
database's value, even one written after the backup; keys the backup lacks are
kept. Before a merge changes a database, a safety snapshot of it is written
(to --safety-dir, default <data parent>/safety/<time>) and its location printed.

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
		Flags: append(dirFlags(),
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory holding auth.db, config.db and log.db"},
			onlyFlag(),
			&cli.BoolFlag{Name: "wipe", Usage: "destructive: afterwards each database holds exactly the backup's keys"},
			&cli.BoolFlag{Name: "dry-run", Usage: "check the files and say what would change (keys added, overwritten, removed); write nothing"},
			&cli.BoolFlag{Name: "no-safety-snapshot", Usage: "merge without writing a safety snapshot first"},
			&cli.BoolFlag{Name: "discard-previous", Usage: "with --wipe, delete the previous database instead of keeping it aside"},
			&cli.StringFlag{Name: "safety-dir", Usage: "where merge safety snapshots go (default: <parent of the database dir>/safety/<time>)"},
			&cli.StringFlag{Name: "catalog-dir", Value: "./backups", Usage: "catalog checked for a restore-verified set before a restore without safety copy"},
			&cli.BoolFlag{Name: "skip-backup-check", Usage: "allow --no-safety-snapshot / --discard-previous without a restore-verified set in the catalog"},
		),
		Action: adminRestore,
	}
}

type restoreJob struct {
	name kv.Name
	dir  string
	file string
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
	dirs, backupDir := dirsFrom(c), c.String("backup-dir")
	jobs, err := findFiles(dirs, backupDir, names)
	if err != nil {
		return err
	}
	if c.Bool("dry-run") {
		return planRestore(c, jobs)
	}
	if err := guardUnprotected(c, names); err != nil {
		return err
	}
	if len(jobs) > 1 {
		if err := checkAll(c, jobs); err != nil {
			return err
		}
	}
	stamp := time.Now().UTC()
	for _, job := range jobs {
		if c.Bool("wipe") {
			err = wipeRestore(c, job, stamp)
		} else {
			err = mergeRestore(c, job, stamp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// findFiles locates every database's file before anything else happens.
func findFiles(dirs kv.Dirs, backupDir string, names []kv.Name) ([]restoreJob, error) {
	var jobs []restoreJob
	for _, name := range names {
		file, err := backup.FindFile(backupDir, string(name))
		if err != nil {
			return nil, opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
		}
		jobs = append(jobs, restoreJob{name: name, dir: dirs.Of(name), file: file})
	}
	return jobs, nil
}

// checkAll verifies every file before the first database is touched, so a bad
// log.db does not leave auth restored and logs not.
func checkAll(c *cli.Context, jobs []restoreJob) error {
	for _, job := range jobs {
		opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(job.name)}}
		if _, _, err := backup.VerifyFile(c.Context, job.file, opts); err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "nothing was written; every database is unchanged"}
		}
	}
	return nil
}

func restoreOptions(c *cli.Context, job restoreJob, bar *progress) backup.RestoreOptions {
	return backup.RestoreOptions{Database: string(job.name), Progress: bar.update}
}

func mergeRestore(c *cli.Context, job restoreJob, stamp time.Time) error {
	db, err := kv.Open(job.dir, kv.OpenOptions{})
	if err != nil {
		return openError{name: job.name, dir: job.dir, err: err}
	}
	defer db.Close()
	safe := fmt.Sprintf("nothing was written; %s is unchanged", job.dir)
	if !c.Bool("no-safety-snapshot") && !kv.IsEmpty(db) {
		where := safetyDir(c, job, stamp)
		_, err := backup.WriteDir(c.Context, where, []backup.Source{{Name: string(job.name), DB: db}}, backup.WriteOptions{ToolVersion: version})
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("write safety snapshot: %w", err), safe: safe,
				next: "free space for the snapshot, choose another --safety-dir, or skip it with --no-safety-snapshot"}
		}
		fmt.Fprintf(c.App.ErrWriter, "safety snapshot of %s written to %s\n", job.name, where)
		fmt.Fprintf(c.App.ErrWriter, "  to undo this restore: flowg admin restore --only %s --wipe --%s %s --backup-dir %s\n",
			job.name, dirFlagName(job.name), job.dir, where)
	}
	bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), 0)
	opts := restoreOptions(c, job, bar)
	revived := map[string][]string{}
	if job.name == kv.Auth {
		opts.Added = func(key []byte) {
			if kind, name, ok := auth.DescribeKey(key); ok {
				revived[kind] = append(revived[kind], name)
			}
		}
	}
	res, err := backup.MergeFile(c.Context, db, job.file, opts)
	bar.finish()
	if err != nil {
		if res.Written > 0 {
			safe = fmt.Sprintf("%s may hold part of the backup; the safety snapshot above undoes it", job.dir)
		}
		return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: safe}
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	warnRevived(c.App.ErrWriter, revived)
	printRestored(c.App.Writer, job, res, "merged")
	return nil
}

func wipeRestore(c *cli.Context, job restoreJob, stamp time.Time) error {
	// Refuse at once if a server holds the database, before building anything.
	if kv.Exists(job.dir) {
		db, err := kv.Open(job.dir, kv.OpenOptions{})
		if err != nil {
			return openError{name: job.name, dir: job.dir, err: err}
		}
		db.Close()
	}
	bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), 0)
	opts := backup.WipeOptions{RestoreOptions: restoreOptions(c, job, bar), DiscardPrevious: c.Bool("discard-previous"), Stamp: stamp}
	res, err := backup.WipeDir(c.Context, job.dir, job.file, opts)
	bar.finish()
	if err != nil {
		safe := fmt.Sprintf("nothing was swapped in; %s is unchanged", job.dir)
		if res.SetAside != "" {
			safe = fmt.Sprintf("the previous database is at %s", res.SetAside)
		}
		return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: safe}
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	printRestored(c.App.Writer, job, res, "wiped and restored")
	if res.SetAside != "" {
		fmt.Fprintf(c.App.ErrWriter, "previous %s database kept at %s\n", job.name, res.SetAside)
		fmt.Fprintf(c.App.ErrWriter, "  to undo: mv %s %s.undone && mv %s %s\n", job.dir, job.dir, res.SetAside, job.dir)
	}
	return nil
}

func safetyDir(c *cli.Context, job restoreJob, stamp time.Time) string {
	if d := c.String("safety-dir"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(filepath.Clean(job.dir)), "safety", stamp.Format("20060102T150405Z"))
}

func dirFlagName(n kv.Name) string {
	if n == kv.Logs {
		return "log-dir"
	}
	return string(n) + "-dir"
}

func printRestored(w io.Writer, job restoreJob, res backup.Result, how string) {
	fmt.Fprintf(w, "%-6s %8d keys %10s  %7s  sha256 %s  %s from %s",
		job.name, res.Written, humanize.IBytes(res.File.Bytes), res.Duration.Round(time.Millisecond),
		shortSum(res.File.SHA256), how, job.file)
	if res.Expired > 0 {
		fmt.Fprintf(w, " (%d expired records skipped)", res.Expired)
	}
	fmt.Fprintln(w)
}

func printWarnings(w io.Writer, warnings []string) {
	for _, warning := range warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

// warnRevived warns that a merge of auth brought back users or tokens that
// the database no longer held (deleted or revoked since the backup).
func warnRevived(w io.Writer, revived map[string][]string) {
	kinds := make([]string, 0, len(revived))
	for kind := range revived {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		names := revived[kind]
		fmt.Fprintf(w, "warning: the restore brought back %d %s(s) the database no longer held (deleted or revoked since the backup): %s\n",
			len(names), kind, strings.Join(names, ", "))
	}
	if len(kinds) > 0 {
		fmt.Fprintf(w, "  delete them again (users) or check they stay revoked (tokens) if that was intended\n")
	}
}

func planRestore(c *cli.Context, jobs []restoreJob) error {
	for _, job := range jobs {
		var opened *kv.Snapshot
		if kv.Exists(job.dir) {
			s, err := kv.OpenSnapshot(job.dir, "")
			if err != nil {
				return openError{name: job.name, dir: job.dir, err: err}
			}
			opened = s
		}
		opts := backup.RestoreOptions{Database: string(job.name)}
		var p backup.Plan
		var err error
		if opened != nil {
			p, err = backup.PlanFile(c.Context, opened.DB, job.file, opts)
			opened.Close()
		} else {
			p, err = backup.PlanFile(c.Context, nil, job.file, opts)
		}
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "dry run: nothing was written"}
		}
		printWarnings(c.App.ErrWriter, p.Warn)
		fmt.Fprintf(c.App.Writer, "%-6s %s: %d keys; merge would add %d, overwrite %d, leave %d unchanged; --wipe would also remove %d",
			job.name, job.file, p.File.Keys, p.Added, p.Changed, p.Same, p.Removed)
		if p.Expired > 0 {
			fmt.Fprintf(c.App.Writer, "; %d expired records would be skipped", p.Expired)
		}
		fmt.Fprintln(c.App.Writer)
	}
	fmt.Fprintln(c.App.ErrWriter, "dry run: nothing was written")
	return nil
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
		ok, err := cat.HasVerified(string(name))
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
