package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Planning `flowg admin restore`: which file restores which database (a
// backup directory, or a catalog set whose chain is rebuilt), and with
// --dry-run what a restore would add, overwrite and remove.

// restoreJob is one database to restore and the file to restore it from.
type restoreJob struct {
	name  kv.Name
	dir   string
	file  string // as shown to the user: a path or an s3:// URL
	open  backup.Opener
	ids   []age.Identity
	guard backup.SizeGuard // set by guardSizes
	// afterMerge, when set, runs once the file was merged (restore --at
	// deletes the keys deleted before the instant); it returns a note.
	afterMerge func(*badger.DB) (string, error)
	// keepStreams are the streams the backup left out (--exclude-stream):
	// a wipe keeps their current data.
	keepStreams []string
}

// findJobs locates every database's file before anything else happens: in
// a backup directory, or in a set of a catalog (an s3:// --backup-dir, or
// any --backup-dir with --set), where an incremental set is rebuilt from
// its chain. The returned cleanup removes what was staged.
func findJobs(c *cli.Context, names []kv.Name, ids []age.Identity) ([]restoreJob, func(), error) {
	dirs, err := dirsFrom(c)
	if err != nil {
		return nil, nil, err
	}
	if c.IsSet("at") {
		return findJobsAt(c, names, dirs)
	}
	backupDir := c.String("backup-dir")
	noteDefaultBackupDir(c, "restoring from")
	refuse := func(err error) error {
		return opError{op: "restore", err: err, safe: "nothing was written; every database is unchanged"}
	}
	var jobs []restoreJob
	if !backup.IsS3URL(backupDir) && c.String("set") == "" && !backup.IsLocalCatalog(backupDir) {
		manifest, err := backup.ReadManifest(backupDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, nil, refuse(err)
		}
		for _, name := range names {
			if found := backup.FoundFiles(backupDir, string(name)); len(found) > 1 && manifest.Databases == nil {
				return nil, nil, opError{op: "restore", safe: "nothing was written; every database is unchanged",
					err:  fmt.Errorf("%s holds both %s, and no manifest.json says which is the backup of %s", backupDir, strings.Join(found, " and "), name),
					next: "move aside the one not to restore (log.db is what `flowg admin backup` writes, logs.db what the online download saves)"}
			}
			file, err := backup.FindFile(backupDir, string(name))
			if err != nil {
				return nil, nil, refuse(err)
			}
			// The manifest's SHA-256 catches a file swapped for another
			// backup's, and is the only check a raw Badger file gets.
			if manifest.Databases != nil {
				if err := manifest.MatchFile(c.Context, string(name), file, ids); err != nil {
					// Say what is wrong with the file itself, when something is.
					opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(name)}, Identities: ids}
					if _, _, verr := backup.VerifyFile(c.Context, file, opts); verr != nil {
						err = verr
					}
					return nil, nil, refuse(fmt.Errorf("%s: %w", file, err))
				}
			}
			jobs = append(jobs, restoreJob{name: name, dir: dirs.Of(name), file: file, open: backup.FileOpener(file), ids: ids,
				keepStreams: manifest.Databases[string(name)].ExcludedStreams})
		}
		return jobs, func() {}, nil
	}
	cat, err := catalogFrom(c, backupDir)
	if err != nil {
		return nil, nil, refuse(err)
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	id, err := pickSet(c, cat, c.String("set"), names)
	if err != nil {
		return nil, nil, refuse(err)
	}
	var cleanups []func()
	cleanup := func() {
		for _, f := range cleanups {
			f()
		}
	}
	info, err := cat.Get(c.Context, id)
	if err != nil {
		return nil, nil, refuse(err)
	}
	for _, name := range names {
		open, done, err := cat.Restorable(c.Context, id, string(name), "")
		if err != nil {
			cleanup()
			return nil, nil, refuse(err)
		}
		cleanups = append(cleanups, done)
		file := strings.TrimSuffix(backupDir, "/") + "/" + id + "/" + backup.FileName(string(name))
		jobs = append(jobs, restoreJob{name: name, dir: dirs.Of(name), file: file, open: open,
			keepStreams: info.Databases[string(name)].ExcludedStreams})
	}
	fmt.Fprintf(c.App.ErrWriter, "restoring set %s of %s\n", id, backupDir)
	reportOf(c).set("set", id)
	return jobs, cleanup, nil
}

// pickSet returns id if given, else the set backup.PickRestoreSet picks for
// names, saying which (and warning when it is not restore-verified).
func pickSet(c *cli.Context, cat *backup.Catalog, id string, names []kv.Name) (string, error) {
	if id != "" {
		info, err := cat.Get(c.Context, id)
		if err != nil {
			return "", err
		}
		if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
			return "", fmt.Errorf("%w: set %s is %s: %s", backup.ErrSetUnusable, id, info.Label, info.Problem)
		}
		return id, nil
	}
	sets, err := cat.List(c.Context)
	if err != nil {
		return "", err
	}
	choice, err := backup.PickRestoreSet(sets, nameStrings(names), cat.Dir())
	if err != nil {
		return "", err
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

func nameStrings(names []kv.Name) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return out
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
		printPlan(c, string(job.name), job.file, p)
	}
	reportOf(c).set("dry_run", true)
	fmt.Fprintln(c.App.ErrWriter, "dry run: nothing was written")
	return nil
}

// printPlan prints the line of one database of a dry run, offline or
// online: the file's keys and what a merge, or a wipe, would change.
func printPlan(c *cli.Context, name, file string, p backup.Plan) {
	w := c.App.Writer
	fmt.Fprintf(w, "%-6s %s: %s; merge would add %d, overwrite %d, leave %d unchanged; --wipe would also remove %d",
		name, file, countText(p.File.Keys, "key"), p.Added, p.Changed, p.Same, p.Removed)
	if p.Expired > 0 {
		fmt.Fprintf(w, "; %s would be skipped", countText(p.Expired, "expired record"))
	}
	fmt.Fprintln(w)
	reportOf(c).add("databases", map[string]any{"database": name, "file": file, "keys": p.File.Keys, "added": p.Added,
		"overwritten": p.Changed, "unchanged": p.Same, "removed_by_wipe": p.Removed, "expired_skipped": p.Expired})
}
