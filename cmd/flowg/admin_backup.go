package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

func adminBackupCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "backup",
		Usage:     "back up the databases of a stopped server into a directory",
		UsageText: "flowg admin backup [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] [--backup-dir DIR] [--only auth,config,logs]",
		Description: `Writes a point-in-time snapshot of each database to DIR/auth.db, DIR/config.db
and DIR/log.db, plus DIR/manifest.json (sizes, key counts, read timestamps,
SHA-256s). The databases are opened read-only and never written. Files are
written under temporary names and renamed into place only when every database
was backed up, so a failed run leaves an earlier backup in DIR intact.

If the server is running, use the online endpoints instead
(GET /api/v1/backup/{auth,config,logs}, or 'flowg backup --server URL').

Examples:
   flowg admin backup --backup-dir ./backup
   flowg admin backup --auth-dir ./data/auth --config-dir ./data/config --log-dir ./data/logs --backup-dir ./backup
   flowg admin backup --only logs --backup-dir /mnt/backups/logs-only
   flowg admin backup --format badger --backup-dir ./for-badger-restore
   flowg admin backup --backup-dir s3://backups/flowg --s3-endpoint 127.0.0.1:9000 --s3-insecure --verify
   flowg admin backup --backup-dir ./backup --encrypt-to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p

With an s3://bucket/prefix --backup-dir, the backup is a new set
<prefix>/<id>/ of the catalog there (files first, manifest.json last), with
credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. --encrypt-to or
--encrypt-passphrase-file encrypt every file with age: a backup of auth holds
password hashes (the JWT signing key is in its own file, never in a backup).`,
		Flags: append(append(append(dirFlags(), s3Flags()...), encryptFlags()...), excludeStreamFlag("exclude-stream"),
			&cli.StringSliceFlag{Name: "identity", Usage: "age identity file, to --verify files encrypted with --encrypt-to"},
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory to write the backup files into (created 0700), or an s3://bucket/prefix catalog"},
			onlyFlag(),
			&cli.StringFlag{Name: "format", Value: "flowg", Usage: "file format: flowg (checksummed) or badger (raw stream for 'badger restore')"},
			&cli.StringFlag{Name: "compression", Value: "zstd", Usage: "frame compression of flowg files: zstd or none"},
			&cli.BoolFlag{Name: "verify", Usage: "verify every file (checksums and a load into a scratch database) after writing it"},
		),
		Action: recordedOffline(offlineBackup, adminBackup),
	})
}

func adminBackup(c *cli.Context) error {
	names, err := namesWithoutArgs(c)
	if err != nil {
		return err
	}
	format, err := backup.ParseFileFormat(c.String("format"))
	if err != nil {
		return usagef("--format: %v", err)
	}
	excluded, err := excludeStreamsFrom(c, "exclude-stream")
	if err != nil {
		return err
	}
	if len(excluded) > 0 && format == backup.FormatBadger {
		return usagef("--exclude-stream leaves streams out of files in flowg's format only: drop --format badger or --exclude-stream")
	}
	compression, err := backup.ParseCompression(c.String("compression"))
	if err != nil {
		return usagef("--compression: %v", err)
	}
	keys, err := backupKeysFrom(c)
	if err != nil {
		return err
	}
	if c.Bool("verify") && keys.Encrypts() && len(keys.Identities) == 0 {
		return usagef("--verify of files encrypted with --encrypt-to needs --identity (the matching private key)")
	}
	dirs, err := dirsFrom(c)
	if err != nil {
		return err
	}
	backupDir := c.String("backup-dir")
	errOut := c.App.ErrWriter
	warnIncomplete(errOut, dirs.Auth, dirs.Config, dirs.Logs)
	noteDefaultBackupDir(c, "writing the backup to")

	dest, err := backup.OpenDestination(c.Context, backupDir, s3OptionsFrom(c), keys)
	if err != nil {
		return opError{op: "backup", err: err, safe: "nothing was read or written"}
	}
	sources, closeAll, err := openSnapshots(dirs, names)
	if err != nil {
		return err
	}
	defer closeAll()
	for _, s := range sources {
		if s.Note != "" {
			fmt.Fprintf(errOut, "note: %s\n", s.Note)
		}
	}

	bars := map[string]*progress{}
	opts := backup.WriteOptions{
		ExcludeStreams: excluded,
		Format:         format,
		Compression:    compression,
		ToolVersion:    version,
		Keys:           keys,
		Progress: func(db string, keys, bytes uint64) {
			if bars[db] == nil {
				bars[db] = newProgress(errOut, "backup "+db, 0)
			}
			bars[db].update(keys, bytes)
		},
	}
	start := time.Now()
	written, err := dest.Write(c.Context, sources, opts, "flowg admin backup")
	for _, b := range bars {
		b.finish()
	}
	if err != nil {
		return backupFailure(backupDir, err)
	}
	for _, name := range names {
		e := written.Manifest.Databases[string(name)]
		fmt.Fprintf(c.App.Writer, "%s  -> %s\n", entryFigures(string(name), e), written.Where+"/"+e.File)
		reportOf(c).add("databases", entryReport(string(name), e, written.Where+"/"+e.File))
	}
	if c.Bool("verify") {
		got, err := dest.Verify(c.Context, written, keys)
		if err != nil {
			return opError{op: "verify", err: err, safe: "the databases were only read"}
		}
		for _, name := range names {
			fmt.Fprintf(c.App.Writer, "%-6s verified: %s load back, checksums hold\n", name, countText(got[string(name)].Keys, "key"))
			reportOf(c).add("verified", map[string]any{"database": string(name), "keys": got[string(name)].Keys})
		}
	}
	fmt.Fprintf(errOut, "backup of %s complete in %s\n", joinNames(names), shortDuration(time.Since(start)))
	return nil
}

// backupFailure words a failed `flowg admin backup` of backupDir: the
// databases were only read, earlier backups are as they were, and a
// directory the run created is gone again.
func backupFailure(backupDir string, err error) error {
	safe := fmt.Sprintf("the databases were only read; earlier backups in %s are unchanged", backupDir)
	var de *backup.DirError
	if errors.As(err, &de) && de.Removed != "" {
		safe = fmt.Sprintf("the databases were only read; %s, which this run had created, was removed again", de.Removed)
	}
	return opError{op: "backup", err: err, safe: safe}
}

// verifySetNow verifies a catalog set just written and records the result.
func verifySetNow(c *cli.Context, cat *backup.Catalog, id string) error {
	info, err := cat.Verify(c.Context, id, time.Now())
	if err != nil {
		return opError{op: "verify", err: err, safe: "the databases were only read"}
	}
	if info.Label != backup.LabelRestoreVerified {
		return opError{op: "verify", err: fmt.Errorf("set %s: %s: %s", id, info.Label, info.Problem), safe: "the databases were only read"}
	}
	fmt.Fprintf(c.App.Writer, "set %s verified: every file loads back whole, checksums hold\n", id)
	reportOf(c).set("verified", info.Label)
	return nil
}

// openSnapshots opens each named database read-only. On error every
// database opened so far is closed.
func openSnapshots(dirs kv.Dirs, names []kv.Name) ([]backup.Source, func(), error) {
	var snaps []*kv.Snapshot
	closeAll := func() {
		for _, s := range snaps {
			s.Close()
		}
	}
	var sources []backup.Source
	for _, name := range names {
		s, err := kv.OpenSnapshot(dirs.Of(name), "")
		if err != nil {
			closeAll()
			return nil, nil, openError{name: name, dir: dirs.Of(name), err: err}
		}
		snaps = append(snaps, s)
		sources = append(sources, backup.Source{Name: string(name), DB: s.DB, Note: s.Note})
	}
	return sources, closeAll, nil
}
