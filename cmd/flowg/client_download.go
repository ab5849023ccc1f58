package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Downloading backup files from a running server into a directory, each
// verified before any of them replaces a file there: `flowg backup` (the
// backups the server streams now) and `flowg backups download` (the files of
// a set of its catalog) both go through downloadAll, which writes the
// directory with backup.DirWriter, as `flowg admin backup` does. One file's
// request is in client_download_file.go.

// backupDownload is one database's backup downloaded into the directory.
type backupDownload struct {
	name  kv.Name
	entry backup.DBEntry
}

// downloadSafe is what a failed download leaves safe.
func downloadSafe(dir string) string {
	return fmt.Sprintf("nothing on the server was changed; earlier files in %s are unchanged", dir)
}

// downloadAll fetches every source into dir (created 0700) through a
// backup.DirWriter: only when every file verified are they moved into place
// and recorded in dir's manifest, so a failed run leaves the earlier files
// of dir intact, and removes dir (and missing parents) again if it created
// them and they are empty. op names the command in errors ("backup"). The
// downloads are returned in the order of sources.
func downloadAll(c *cli.Context, api *apiClient, op, dir string, sources []downloadSource) (_ []backupDownload, err error) {
	w, err := backup.OpenDir(dir)
	if err != nil {
		return nil, dirFailure(c, op, dir, err)
	}
	defer func() {
		if err != nil {
			err = withRemoved(dir, err, w.Abort())
		}
	}()
	var done []backupDownload
	for _, src := range sources {
		entry, err := fetchDownload(c, api, w, src)
		if err != nil {
			return nil, err
		}
		done = append(done, backupDownload{name: src.name, entry: entry})
	}
	if _, err := w.Commit(version); err != nil {
		return nil, dirFailure(c, op, dir, err)
	}
	return done, nil
}

// dirFailure words an error of backup.DirWriter for the user of op: what
// is safe in dir and what to do next, by the step that failed.
func dirFailure(c *cli.Context, op, dir string, err error) error {
	var de *backup.DirError
	if !errors.As(err, &de) {
		return opError{op: op, err: err, safe: downloadSafe(dir)}
	}
	e := opError{op: op, err: err, safe: downloadSafe(dir)}
	switch de.Step {
	case backup.StepOpen, backup.StepCreate:
		e.next = "choose a --backup-dir you can write to"
	case backup.StepReadManifest:
		e.next = fmt.Sprintf("move %s aside, or choose another --backup-dir", filepath.Join(dir, backup.ManifestName))
	case backup.StepWrite:
		e.next = "free some space or choose another --backup-dir"
	case backup.StepMove:
		e.safe = "every download was verified, but some files in " + dir + " may be of this run and others older"
	case backup.StepManifest:
		e.safe = fmt.Sprintf("the verified files are in %s; only its manifest is stale", dir)
		e.next = "free some space and run the command again"
	}
	if c.Context.Err() != nil {
		e.err = c.Context.Err()
	}
	return withRemoved(dir, e, de.Removed)
}

// withRemoved says in err's safe line that the failed run removed removed,
// the directory it had created for dir ("" when it removed none).
func withRemoved(dir string, err error, removed string) error {
	op, ok := err.(opError)
	if removed == "" || !ok {
		return err
	}
	if op.safe == downloadSafe(dir) {
		op.safe = "nothing on the server was changed" // and dir held no earlier files
	}
	op.safe += fmt.Sprintf("; %s, which this run had created, was removed again", removed)
	return op
}

// printDownloads prints one line per file downloaded into dir, saying how it
// was checked.
func printDownloads(c *cli.Context, dir string, done []backupDownload) {
	w := c.App.Writer
	for _, d := range done {
		e := d.entry
		how := "verified"
		if e.Encrypted {
			how = "SHA-256 checked; encrypted, not loaded"
		}
		fmt.Fprintf(w, "%s  -> %s (%s)\n", entryFigures(string(d.name), e), filepath.Join(dir, e.File), how)
		item := entryReport(string(d.name), e, filepath.Join(dir, e.File))
		item["checked"] = how
		reportOf(c).add("databases", item)
	}
}
