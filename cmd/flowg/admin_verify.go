package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

func adminVerifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "prove that backup files restore: every checksum, and a load into a scratch database",
		UsageText: "flowg admin verify --backup-dir DIR | flowg admin verify FILE",
		Description: `Reads every backup file in DIR (auth.db, config.db, log.db or logs.db), checks
every checksum and the trailer, compares each file with DIR/manifest.json when
there is one, and loads it into a scratch in-memory Badger database to check it
restores to exactly its records. Writes nothing. Exit status 0 only if every
file holds.

Examples:
   flowg admin verify --backup-dir ./backup
   flowg admin verify ./backup/config.db`,
		Flags: append(decryptFlags(),
			&cli.StringFlag{Name: "backup-dir", Usage: "directory of backup files (or a single file)"},
		),
		Action: adminVerify,
	}
}

// backupFile is one database's file found in a backup directory.
type backupFile struct {
	name kv.Name // empty for a lone file given by path
	path string
}

// targetFiles resolves a FILE|DIR argument (or --backup-dir) into the backup
// files to look at.
func targetFiles(c *cli.Context, args []string) ([]backupFile, string, error) {
	target := c.String("backup-dir")
	if len(args) > 1 || (target != "" && len(args) > 0) {
		return nil, "", usagef("give one backup directory or file")
	}
	if target == "" && len(args) == 1 {
		target = args[0]
	}
	if target == "" {
		return nil, "", usagef("name a backup directory (--backup-dir DIR) or a file")
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil, "", opError{op: "verify", err: fmt.Errorf("%w: %s", backup.ErrMissingFile, target)}
	}
	if !st.IsDir() {
		return []backupFile{{path: target}}, "", nil
	}
	var files []backupFile
	for _, name := range kv.Names {
		// Every file that may hold the database: log.db and logs.db both.
		for _, path := range backup.FoundFiles(target, string(name)) {
			files = append(files, backupFile{name: name, path: path})
		}
	}
	if len(files) == 0 {
		return nil, "", opError{op: "verify", err: fmt.Errorf("%w: %s holds no auth.db, config.db, log.db or logs.db", backup.ErrMissingFile, target)}
	}
	return files, target, nil
}

func adminVerify(c *cli.Context) error {
	files, dir, err := targetFiles(c, c.Args().Slice())
	if err != nil {
		return err
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	var manifest *backup.Manifest
	if dir != "" {
		if m, err := backup.ReadManifest(dir); err == nil {
			manifest = &m
		} else if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(c.App.ErrWriter, "warning: %v\n", err)
		}
	}
	var failed []error
	needKey := 0
	for _, f := range files {
		err := verifyOne(c, f, manifest, ids)
		switch {
		case errors.Is(err, backup.ErrEncrypted):
			// Not a verdict on the file: it is unread.
			needKey++
			fmt.Fprintf(c.App.Writer, "%-10s %s\n", filepath.Base(f.path), encryptedAdvice)
		case err != nil:
			failed = append(failed, err)
			fmt.Fprintf(c.App.Writer, "%-10s FAILED  %v\n", filepath.Base(f.path), err)
		}
	}
	if len(failed) == 0 && needKey > 0 {
		fmt.Fprintf(c.App.ErrWriter, "flowg: verify needs a key: %d of %d files are encrypted and were not read (see above)\n", needKey, len(files))
		fmt.Fprintf(c.App.ErrWriter, "safe:  verify only reads; nothing was written\n")
		fmt.Fprintf(c.App.ErrWriter, "next:  run it again with --identity FILE or --encrypt-passphrase-file FILE\n")
		return errors.Join(errSilent, backup.ErrEncrypted)
	}
	if len(failed) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "flowg: verify failed: %d of %d files are bad (see above)\n", len(failed), len(files))
		fmt.Fprintf(c.App.ErrWriter, "safe:  verify only reads; nothing was written\n")
		if next := verifyNext(failed[0]); next != "" {
			fmt.Fprintf(c.App.ErrWriter, "next:  %s\n", next)
		}
		return errSilent
	}
	if len(files) == 1 {
		fmt.Fprintln(c.App.ErrWriter, "the file verified")
	} else {
		fmt.Fprintf(c.App.ErrWriter, "all %d files verified\n", len(files))
	}
	return nil
}

func verifyOne(c *cli.Context, f backupFile, m *backup.Manifest, ids []age.Identity) error {
	opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(f.name)}, Load: true, Identities: ids}
	hdr, sum, err := backup.VerifyFile(c.Context, f.path, opts)
	if err != nil {
		return err
	}
	if m != nil {
		if err := matchManifestDigest(f, m, sum); err != nil {
			return err
		}
		if err := matchManifestContent(f, m, sum); err != nil {
			return err
		}
	}
	if hdr.Raw {
		fmt.Fprintf(c.App.Writer, "%-10s ok      %s decode and load (raw Badger stream: no checksums to check)\n", filepath.Base(f.path), countText(sum.Keys, "record"))
		return nil
	}
	fmt.Fprintf(c.App.Writer, "%-10s ok      %s, %s, read ts %d, sha256 %s; checksums hold and it loads back whole\n",
		filepath.Base(f.path), hdr.Database, countText(sum.Keys, "key"), hdr.ReadTs, shortSum(sum.SHA256))
	return nil
}

// verifyNext advises after a failed verification: a bad key is the user's
// to fix; a bad file means that backup cannot be trusted.
func verifyNext(err error) string {
	if errors.Is(err, backup.ErrEncrypted) || errors.Is(err, backup.ErrWrongKey) {
		return nextFor(err)
	}
	return "do not restore from the bad file(s): take a new backup, or restore an older one that verifies"
}

// digestAdvice follows a SHA-256 that differs from the manifest's.
const digestAdvice = " (the file was damaged, or another backup was saved over it after manifest.json was written; " +
	"if so, move manifest.json aside to restore the files as they are)"

// matchManifest checks a file against its manifest entry by digest, before
// it is read: as stored, or once decrypted with ids (backup.DBEntry.MatchFile).
func matchManifest(ctx context.Context, f backupFile, m *backup.Manifest, ids []age.Identity) error {
	entry, ok := m.Databases[string(f.name)]
	if !ok || entry.File != filepath.Base(f.path) {
		return nil // not described by this manifest (e.g. a logs.db saved by hand)
	}
	if err := entry.MatchFile(ctx, f.path, ids); err != nil {
		if errors.Is(err, backup.ErrChecksum) {
			return fmt.Errorf("%w%s", err, digestAdvice)
		}
		return err
	}
	return nil
}

// matchManifestDigest checks the file verifying f read whole (got) against
// its manifest entry by digest: as stored, or the flowg file inside
// (backup.DBEntry.MatchDigest), so a set decrypted or encrypted with the
// age CLI since it was written still matches.
func matchManifestDigest(f backupFile, m *backup.Manifest, got backup.Summary) error {
	entry, ok := m.Databases[string(f.name)]
	if !ok || entry.File != filepath.Base(f.path) {
		return nil
	}
	digest, err := backup.FileSHA256(f.path)
	if err != nil {
		return err
	}
	if err := entry.MatchDigest(digest, got.SHA256); err != nil {
		return fmt.Errorf("%w%s", err, digestAdvice)
	}
	return nil
}

// matchManifestContent checks the key count and content hash verifying f
// found (got) against its manifest entry, as a catalog set's files are
// checked (backup.DBEntry.MatchContent).
func matchManifestContent(f backupFile, m *backup.Manifest, got backup.Summary) error {
	entry, ok := m.Databases[string(f.name)]
	if !ok || entry.File != filepath.Base(f.path) {
		return nil
	}
	if err := entry.MatchContent(got); err != nil {
		return fmt.Errorf("%w (manifest.json was edited, or the file was put in another's place after it was written; "+
			"if so, move manifest.json aside to restore the files as they are)", err)
	}
	return nil
}
