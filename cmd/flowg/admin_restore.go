package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
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
	stamp := time.Now().UTC()
	if c.Bool("wipe") {
		leanMemory() // a merge goes through Badger's memtables, which a limit only slows down
		return wipeAll(c, jobs, stamp)
	}
	return mergeAll(c, jobs, stamp)
}

// restoreJob is one database to restore and the file to restore it from.
type restoreJob struct {
	name kv.Name
	dir  string
	file string // as shown to the user: a path or an s3:// URL
	open backup.Opener
	ids  []age.Identity
}

// findJobs locates every database's file before anything else happens: in
// a backup directory, or in a set of a catalog (an s3:// --backup-dir, or
// any --backup-dir with --set), where an incremental set is rebuilt from
// its chain. The returned cleanup removes what was staged.
func findJobs(c *cli.Context, names []kv.Name, ids []age.Identity) ([]restoreJob, func(), error) {
	dirs, backupDir := dirsFrom(c), c.String("backup-dir")
	refuse := func(err error) error {
		return opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	var jobs []restoreJob
	if !backup.IsS3URL(backupDir) && c.String("set") == "" {
		manifest, err := backup.ReadManifest(backupDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, nil, refuse(err)
		}
		for _, name := range names {
			file, err := backup.FindFile(backupDir, string(name))
			if err != nil {
				return nil, nil, refuse(err)
			}
			// The manifest's SHA-256 catches a file swapped for another
			// backup's, and is the only check a raw Badger file gets.
			if manifest.Databases != nil {
				if err := matchManifest(backupFile{name: name, path: file}, &manifest); err != nil {
					// Say what is wrong with the file itself, when something is.
					opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(name)}, Identities: ids}
					if _, _, verr := backup.VerifyFile(c.Context, file, opts); verr != nil {
						err = verr
					}
					return nil, nil, refuse(fmt.Errorf("%s: %w", file, err))
				}
			}
			jobs = append(jobs, restoreJob{name: name, dir: dirs.Of(name), file: file, open: backup.FileOpener(file), ids: ids})
		}
		return jobs, func() {}, nil
	}
	cat, err := catalogFrom(c, backupDir)
	if err != nil {
		return nil, nil, refuse(err)
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	id, err := pickSet(cat, c.String("set"), names)
	if err != nil {
		return nil, nil, refuse(err)
	}
	var cleanups []func()
	cleanup := func() {
		for _, f := range cleanups {
			f()
		}
	}
	for _, name := range names {
		open, done, err := cat.Restorable(c.Context, id, string(name), "")
		if err != nil {
			cleanup()
			return nil, nil, refuse(err)
		}
		cleanups = append(cleanups, done)
		file := strings.TrimSuffix(backupDir, "/") + "/" + id + "/" + backup.FileName(string(name))
		jobs = append(jobs, restoreJob{name: name, dir: dirs.Of(name), file: file, open: open})
	}
	fmt.Fprintf(c.App.ErrWriter, "restoring set %s of %s\n", id, backupDir)
	return jobs, cleanup, nil
}

// pickSet returns id if given, else the newest complete set holding every
// named database (restore-verified ones first).
func pickSet(cat *backup.Catalog, id string, names []kv.Name) (string, error) {
	if id != "" {
		info, err := cat.Get(id)
		if err != nil {
			return "", err
		}
		if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
			return "", fmt.Errorf("%w: set %s is %s: %s", backup.ErrChecksum, id, info.Label, info.Problem)
		}
		return id, nil
	}
	sets, err := cat.List()
	if err != nil {
		return "", err
	}
	for _, wantVerified := range []bool{true, false} {
		for _, s := range sets {
			if s.Label != backup.LabelRestoreVerified && (wantVerified || s.Label != backup.LabelCreated) {
				continue
			}
			if holdsAll(s, names) {
				return s.ID, nil
			}
		}
	}
	return "", fmt.Errorf("%w: %s holds no complete set with %s", backup.ErrMissingFile, cat.Dir(), joinNames(names))
}

func holdsAll(s backup.SetInfo, names []kv.Name) bool {
	for _, n := range names {
		if _, ok := s.Databases[string(n)]; !ok {
			return false
		}
	}
	return true
}

// mergeAll checks every file and opens every database before the first one
// changes, so a bad log.db or a locked logs database never leaves auth
// restored and logs not.
func mergeAll(c *cli.Context, jobs []restoreJob, stamp time.Time) error {
	prepared := make([]*backup.Prepared, 0, len(jobs))
	defer func() {
		for _, p := range prepared {
			p.Close()
		}
	}()
	revived := map[string][]string{}
	for _, job := range jobs {
		opts := backup.RestoreOptions{Database: string(job.name), Identities: job.ids}
		if job.name == kv.Auth {
			opts.Added = func(key []byte) {
				if kind, name, ok := auth.DescribeKey(key); ok {
					revived[kind] = append(revived[kind], name)
				}
			}
		}
		p, err := backup.Prepare(c.Context, job.open, opts)
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "nothing was written; every database is unchanged"}
		}
		prepared = append(prepared, p)
	}
	dbs, err := openAll(jobs)
	if err != nil {
		return err
	}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	revivedOK := emptyBefore(dbs)
	if err := safetySnapshot(c, jobs, dbs); err != nil {
		return err
	}
	var done []kv.Name
	for i, job := range jobs {
		if err := mergeOne(c, job, dbs[i], prepared[i], done); err != nil {
			return err
		}
		done = append(done, job.name)
	}
	if !revivedOK {
		warnRevived(c.App.ErrWriter, revived)
	}
	return nil
}

// emptyBefore reports whether every database is empty, so a restore brings
// nothing "back".
func emptyBefore(dbs []*badger.DB) bool {
	for _, db := range dbs {
		if !kv.IsEmpty(db) {
			return false
		}
	}
	return true
}

// openAll opens every job's database, or none.
func openAll(jobs []restoreJob) ([]*badger.DB, error) {
	var dbs []*badger.DB
	for _, job := range jobs {
		db, err := kv.Open(job.dir, kv.OpenOptions{})
		if err != nil {
			for _, d := range dbs {
				d.Close()
			}
			return nil, openError{name: job.name, dir: job.dir, err: err}
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}

// safetySnapshot writes the databases a merge is about to change, as they
// are, into a pre_restore set of the catalog, and prints how to undo.
func safetySnapshot(c *cli.Context, jobs []restoreJob, dbs []*badger.DB) error {
	if c.Bool("no-safety-snapshot") {
		return nil
	}
	var sources []backup.Source
	var names []kv.Name
	for i, job := range jobs {
		if !kv.IsEmpty(dbs[i]) {
			sources = append(sources, backup.Source{Name: string(job.name), DB: dbs[i]})
			names = append(names, job.name)
		}
	}
	if len(sources) == 0 {
		return nil // nothing to lose
	}
	keys, err := keysFrom(c)
	if err != nil {
		return err
	}
	catalogDir := c.String("catalog-dir")
	fail := func(err error) error {
		return opError{op: "restore", err: fmt.Errorf("write safety snapshot: %w", err), safe: "nothing was written; every database is unchanged",
			next: "free space in the catalog, choose another --catalog-dir, or skip the snapshot with --no-safety-snapshot"}
	}
	cat, err := catalogFrom(c, catalogDir)
	if err != nil {
		return fail(err)
	}
	cat.WithKeys(keys)
	m, err := cat.Create(c.Context, sources, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: version}, Trigger: backup.TriggerPreRestore, By: "flowg admin restore",
	})
	if err != nil {
		return fail(err)
	}
	undo := fmt.Sprintf("flowg admin restore --backup-dir %s --set %s --only %s --wipe", catalogDir, m.ID, joinNames(names))
	for i, job := range jobs {
		if !kv.IsEmpty(dbs[i]) {
			undo += fmt.Sprintf(" --%s %s", dirFlagName(job.name), job.dir)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "safety snapshot of %s written to %s, set %s\n", joinNames(names), catalogDir, m.ID)
	fmt.Fprintf(c.App.ErrWriter, "  to undo this restore: %s\n", undo)
	return nil
}

func mergeOne(c *cli.Context, job restoreJob, db *badger.DB, p *backup.Prepared, done []kv.Name) error {
	safe := alreadyDone(done, fmt.Sprintf("%s is unchanged", job.dir))
	bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), int64(p.Summary().Bytes))
	res, err := p.MergeWithProgress(c.Context, db, bar.update)
	bar.finish()
	if err != nil {
		if res.Written > 0 {
			safe = alreadyDone(done, fmt.Sprintf("%s may hold part of the backup; the safety snapshot above undoes it", job.dir))
		}
		return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: safe}
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	printRestored(c.App.Writer, job, res, "merged")
	return nil
}

// alreadyDone prefixes what is safe with the databases already restored.
func alreadyDone(done []kv.Name, rest string) string {
	if len(done) == 0 {
		return "nothing was written; " + rest
	}
	return fmt.Sprintf("%s were already restored; %s", joinNames(done), rest)
}

// wipeAll checks every file (when there are several) and makes sure no
// other process holds any of the databases before the first one is swapped.
func wipeAll(c *cli.Context, jobs []restoreJob, stamp time.Time) error {
	if len(jobs) > 1 {
		for _, job := range jobs {
			p, err := backup.Prepare(c.Context, job.open, backup.RestoreOptions{Database: string(job.name), Identities: job.ids})
			if err == nil {
				p.Close()
			}
			if err != nil {
				return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "nothing was written; every database is unchanged"}
			}
		}
	}
	for _, job := range jobs {
		if !kv.Exists(job.dir) {
			continue
		}
		db, err := kv.Open(job.dir, kv.OpenOptions{})
		if err != nil {
			return openError{name: job.name, dir: job.dir, err: err}
		}
		db.Close()
	}
	var done []kv.Name
	for _, job := range jobs {
		if err := wipeOne(c, job, stamp, done); err != nil {
			return err
		}
		done = append(done, job.name)
	}
	return nil
}

func wipeOne(c *cli.Context, job restoreJob, stamp time.Time, done []kv.Name) error {
	bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), 0)
	opts := backup.WipeOptions{
		RestoreOptions:  backup.RestoreOptions{Database: string(job.name), Progress: bar.update, Identities: job.ids},
		DiscardPrevious: c.Bool("discard-previous"),
		Stamp:           stamp,
	}
	res, err := backup.WipeFrom(c.Context, job.dir, job.open, opts)
	bar.finish()
	if err != nil {
		safe := alreadyDone(done, fmt.Sprintf("nothing was swapped in; %s is unchanged", job.dir))
		if res.SetAside != "" {
			safe = alreadyDone(done, fmt.Sprintf("the previous %s database is at %s", job.name, res.SetAside))
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

func dirFlagName(n kv.Name) string {
	if n == kv.Logs {
		return "log-dir"
	}
	return string(n) + "-dir"
}

func printRestored(w io.Writer, job restoreJob, res backup.Result, how string) {
	fmt.Fprintf(w, "%s  %s from %s", fileFigures(string(job.name), res.Written, res.File.Bytes,
		res.Duration.Round(time.Millisecond).String(), res.File.SHA256), how, job.file)
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
		var snap *kv.Snapshot
		if kv.Exists(job.dir) {
			s, err := kv.OpenSnapshot(job.dir, "")
			if err != nil {
				return openError{name: job.name, dir: job.dir, err: err}
			}
			snap = s
		}
		var db *badger.DB
		if snap != nil {
			db = snap.DB
		}
		p, err := backup.PlanFrom(c.Context, db, job.open, backup.RestoreOptions{Database: string(job.name), Identities: job.ids})
		if snap != nil {
			snap.Close()
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
