package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Downloading backup files from a running server into a directory, each
// verified before any of them replaces a file there: `flowg backup` (the
// backups the server streams now) and `flowg backups download` (the files of
// a set of its catalog) both go through downloadAll. One file's download and
// its checks are in client_download_file.go.

// backupDownload is one database's backup fetched into a temporary file and
// verified, not yet moved into place.
type backupDownload struct {
	name  kv.Name
	tmp   string
	entry backup.DBEntry
}

// downloadSafe is what a failed download leaves safe.
func downloadSafe(dir string) string {
	return fmt.Sprintf("nothing on the server was changed; earlier files in %s are unchanged", dir)
}

// downloadAll fetches every source into a temporary 0600 file in dir
// (created 0700), and only when every one verified moves them into place,
// syncs dir and records them in dir's manifest, so a failed run leaves the
// earlier files of dir intact. A failed run that created dir (and missing
// parents) removes what it created and left empty; a directory that existed
// before is never removed. op names the command in errors ("backup").
// The downloads are returned in the order of sources.
func downloadAll(c *cli.Context, api *apiClient, op, dir string, sources []downloadSource) (_ []backupDownload, err error) {
	m, created, err := openDownloadDir(op, dir)
	if err != nil {
		return nil, err
	}
	// Registered first, so it runs after the temporary files are removed.
	defer func() {
		if err != nil {
			err = removeCreatedDirs(dir, created, err)
		}
	}()
	var done []backupDownload
	defer func() {
		for _, d := range done {
			os.Remove(d.tmp) // a no-op once moved into place
		}
	}()
	for _, src := range sources {
		d, err := fetchDownload(c, api, dir, src)
		if err != nil {
			return nil, err
		}
		done = append(done, d)
	}
	if err := moveDownloads(op, dir, done); err != nil {
		return nil, err
	}
	if err := recordDownloads(op, dir, m, done); err != nil {
		return nil, err
	}
	return done, nil
}

// openDownloadDir creates dir when it is missing and reads its manifest, an
// empty one when it has none. It returns the directories it created,
// deepest first (none when dir existed).
func openDownloadDir(op, dir string) (backup.Manifest, []string, error) {
	created, err := kv.MakeDirs(dir)
	if err != nil {
		err = opError{op: op, err: fmt.Errorf("create backup directory: %w", err), safe: downloadSafe(dir),
			next: "choose a --backup-dir you can write to"}
		return backup.Manifest{}, nil, removeCreatedDirs(dir, created, err)
	}
	m, err := backup.ReadManifest(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		m = backup.Manifest{}
	case err != nil:
		return m, nil, opError{op: op, err: err, safe: downloadSafe(dir),
			next: fmt.Sprintf("move %s aside, or choose another --backup-dir", filepath.Join(dir, backup.ManifestName))}
	}
	if m.Databases == nil {
		m.Databases = map[string]backup.DBEntry{}
	}
	return m, created, nil
}

// removeCreatedDirs removes, deepest first, the directories a failed run
// created for dir (see kv.MakeDirs) and left empty, and says so in err's safe
// line. It stops at the first one that is not empty: what it holds, and
// every parent, stays.
func removeCreatedDirs(dir string, created []string, err error) error {
	var removed []string
	for _, d := range created {
		entries, rerr := os.ReadDir(d)
		if rerr != nil || len(entries) > 0 {
			break
		}
		if os.Remove(d) != nil { // only ever an empty directory
			break
		}
		removed = append(removed, d)
	}
	op, ok := err.(opError)
	if len(removed) == 0 || !ok {
		return err
	}
	if op.safe == downloadSafe(dir) {
		op.safe = "nothing on the server was changed" // and dir held no earlier files
	}
	op.safe += fmt.Sprintf("; %s, which this run had created, was removed again", removed[len(removed)-1])
	return op
}

// moveDownloads renames the verified downloads into place and syncs dir.
func moveDownloads(op, dir string, done []backupDownload) error {
	for _, d := range done {
		if err := os.Rename(d.tmp, filepath.Join(dir, d.entry.File)); err != nil {
			return opError{op: op, err: fmt.Errorf("move %s into place: %w", d.entry.File, err),
				safe: "every download was verified, but some files in " + dir + " may be of this run and others older"}
		}
	}
	if err := kv.SyncDir(dir); err != nil {
		return opError{op: op, err: err, safe: "the files are in place but may not be on disk yet"}
	}
	return nil
}

// recordDownloads writes dir's manifest m with the downloads' entries. It
// records a successful verification only when every database m lists was
// verified in this run.
func recordDownloads(op, dir string, m backup.Manifest, done []backupDownload) error {
	for _, d := range done {
		m.Databases[string(d.name)] = d.entry
	}
	m.Created = time.Now().UTC()
	m.Status = backup.StatusComplete
	m.Error = ""
	m.ToolVersion = version
	m.Verification = nil
	if allDownloadsVerified(m, done) {
		m.Verification = &backup.Verification{Time: m.Created, OK: true}
	}
	if err := backup.WriteManifest(dir, m); err != nil {
		return opError{op: op, err: err, safe: fmt.Sprintf("the verified files are in %s; only its manifest is stale", dir),
			next: "free some space and run the command again"}
	}
	return nil
}

// allDownloadsVerified reports whether every database the manifest lists was
// downloaded and verified in this run: loaded, not only hashed as an
// encrypted file is.
func allDownloadsVerified(m backup.Manifest, done []backupDownload) bool {
	if slices.ContainsFunc(done, func(d backupDownload) bool { return d.entry.Encrypted }) {
		return false
	}
	fresh := map[string]bool{}
	for _, d := range done {
		fresh[string(d.name)] = true
	}
	for name := range m.Databases {
		if !fresh[name] {
			return false
		}
	}
	return true
}

// printDownloads prints one line per file downloaded into dir, saying how it
// was checked.
func printDownloads(w io.Writer, dir string, done []backupDownload) {
	for _, d := range done {
		e := d.entry
		how := "verified"
		if e.Encrypted {
			how = "SHA-256 checked; encrypted, not loaded"
		}
		fmt.Fprintf(w, "%s  -> %s (%s)\n", entryFigures(string(d.name), e), filepath.Join(dir, e.File), how)
	}
}
