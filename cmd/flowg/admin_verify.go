package main

import (
	"errors"
	"fmt"
	"path"

	"filippo.io/age"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

func adminVerifyCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "verify",
		Usage:     "prove that backup files restore: every checksum, and a load into a scratch database",
		UsageText: "flowg admin verify --backup-dir DIR|s3://BUCKET/PREFIX [--set ID] | flowg admin verify FILE",
		Description: `Reads every backup file in DIR (auth.db, config.db, log.db or logs.db), checks
every checksum and the trailer, compares each file with DIR/manifest.json when
there is one, and loads it into a scratch in-memory Badger database to check it
restores to exactly its records. Writes nothing. Exit status 0 only if every
file holds.

With an s3://bucket/prefix --backup-dir, or with --set, it reads a set of the
catalog there instead: set ID, or the newest complete set, each file compared
with the set's manifest. Unlike 'flowg admin backups verify', it records
nothing in the set.

Examples:
   flowg admin verify --backup-dir ./backup
   flowg admin verify ./backup/config.db
   flowg admin verify --backup-dir s3://backups/flowg --s3-endpoint 127.0.0.1:9000 --s3-insecure
   flowg admin verify --backup-dir ./catalog --set 20250101T020000Z-0a1b2c`,
		Flags: append(append(decryptFlags(), s3Flags()...),
			&cli.StringFlag{Name: "backup-dir", Usage: "directory of backup files (or a single file), or an s3://bucket/prefix catalog"},
			setFlag(),
		),
		Action: recordedOffline(offlineVerify, adminVerify),
	})
}

// setFlag names the set of a catalog a reading command reads.
func setFlag() cli.Flag {
	return &cli.StringFlag{Name: "set", Usage: "read this set of the catalog at --backup-dir (default with an s3:// --backup-dir: the newest complete set)"}
}

// storedFiles resolves the FILE|DIR argument (or --backup-dir, --set) of
// a reading command into the backup files to read (backup.OpenFiles),
// printing what could not be read beside them.
func storedFiles(c *cli.Context, op string, args []string) (backup.Files, error) {
	target := c.String("backup-dir")
	if len(args) > 1 || (target != "" && len(args) > 0) {
		return backup.Files{}, usagef("give one backup directory or file")
	}
	if target == "" && len(args) == 1 {
		target = args[0]
	}
	if target == "" {
		return backup.Files{}, usagef("name a backup directory (--backup-dir DIR) or a file")
	}
	names := make([]string, len(kv.Names))
	for i, n := range kv.Names {
		names[i] = string(n)
	}
	s3 := s3OptionsFrom(c)
	s3.CreateBucket = false // a reading command writes nothing, not even a bucket
	files, err := backup.OpenFiles(c.Context, target, c.String("set"), s3, names)
	if err != nil {
		return files, opError{op: op, err: err}
	}
	for _, w := range files.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	if files.Set != "" {
		fmt.Fprintf(c.App.ErrWriter, "reading set %s of %s\n", files.Set, target)
	}
	return files, nil
}

func adminVerify(c *cli.Context) error {
	files, err := storedFiles(c, "verify", c.Args().Slice())
	if err != nil {
		return err
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	var failed []error
	needKey := 0
	for _, f := range files.Files {
		err := verifyOne(c, f, ids)
		switch {
		case errors.Is(err, backup.ErrEncrypted):
			// Not a verdict on the file: it is unread.
			needKey++
			fmt.Fprintf(c.App.Writer, "%-10s %s\n", path.Base(f.Name), encryptedAdvice)
			reportOf(c).add("files", map[string]any{"file": f.Name, "ok": false, "encrypted": true, "error": encryptedAdvice})
		case err != nil:
			failed = append(failed, err)
			fmt.Fprintf(c.App.Writer, "%-10s FAILED  %v\n", path.Base(f.Name), err)
			reportOf(c).add("files", map[string]any{"file": f.Name, "ok": false, "error": err.Error()})
		}
	}
	n := len(files.Files)
	if len(failed) == 0 && needKey > 0 {
		fmt.Fprintf(c.App.ErrWriter, "flowg: verify needs a key: %d of %d files are encrypted and were not read (see above)\n", needKey, n)
		fmt.Fprintf(c.App.ErrWriter, "safe:  verify only reads; nothing was written\n")
		fmt.Fprintf(c.App.ErrWriter, "next:  run it again with --identity FILE or --encrypt-passphrase-file FILE\n")
		return errors.Join(errSilent, backup.ErrEncrypted)
	}
	if len(failed) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "flowg: verify failed: %d of %d files are bad (see above)\n", len(failed), n)
		fmt.Fprintf(c.App.ErrWriter, "safe:  verify only reads; nothing was written\n")
		if next := verifyNext(failed[0]); next != "" {
			fmt.Fprintf(c.App.ErrWriter, "next:  %s\n", next)
		}
		return errSilent
	}
	if n == 1 {
		fmt.Fprintln(c.App.ErrWriter, "the file verified")
	} else {
		fmt.Fprintf(c.App.ErrWriter, "all %d files verified\n", n)
	}
	return nil
}

// verifyOne checks one file whole, loading it into a scratch database and
// comparing it with its manifest entry (backup.StoredFile.Check).
func verifyOne(c *cli.Context, f backup.StoredFile, ids []age.Identity) error {
	hdr, sum, err := f.Check(c.Context, backup.VerifyOptions{Load: true, Identities: ids})
	if err != nil {
		return err
	}
	name := path.Base(f.Name)
	if hdr.Raw {
		fmt.Fprintf(c.App.Writer, "%-10s ok      %s decode and load (raw Badger stream: no checksums to check)\n", name, countText(sum.Keys, "record"))
		reportOf(c).add("files", map[string]any{"file": f.Name, "ok": true, "format": string(backup.FormatBadger), "keys": sum.Keys})
		return nil
	}
	fmt.Fprintf(c.App.Writer, "%-10s ok      %s, %s, read ts %d, sha256 %s; checksums hold and it loads back whole\n",
		name, hdr.Database, countText(sum.Keys, "key"), hdr.ReadTs, shortSum(sum.SHA256))
	reportOf(c).add("files", map[string]any{"file": f.Name, "ok": true, "database": hdr.Database, "keys": sum.Keys, "read_ts": hdr.ReadTs, "sha256": sum.SHA256})
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
