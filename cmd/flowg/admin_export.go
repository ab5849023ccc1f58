package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// `flowg admin export`: the databases of a stopped server, or backup files,
// as portable JSON lines (package export).

func adminExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the data of a stopped server, or of backup files, as portable JSON lines",
		UsageText: "flowg admin export [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] [--file FILE]... [--set ID | --at TIME] [--backup-dir CATALOG] [--only ...] [--stream GLOB]... [--since TIME] [--until TIME] [--include-secrets] [--output FILE]",
		Description: `Writes one JSON object per line: roles, users, pipelines, transformers, alerts,
log records and stream configurations, in schema version 1 (docs: export.md).
Databases are read in the order auth, config, logs, each in key order, so two
exports of the same data are identical line for line. The databases are opened
read-only and never written. Users never carry tokens; their password hashes
only with --include-secrets (then keep the file like a backup of auth).

With --file, the lines come from backup files (flowg or raw Badger format,
decrypted with --identity or --encrypt-passphrase-file) instead of the
databases; each file names its database. With --set ID, they come from that
set of the catalog at --backup-dir (./backups, or s3://bucket/prefix); an
incremental set is rebuilt from its chain first, as a restore would. With
--backup-dir alone (no --set, --file or database directory), the set a
restore without --set would pick: the newest restore-verified set holding the
databases, else the newest complete one (it says which). With --at TIME, the
databases as they were at that instant, rebuilt from the journal at
--backup-dir as 'admin restore --at' rebuilds them, in a scratch database
removed afterwards.

--stream keeps the records and configuration of matching streams only
(path.Match globs: 'app', 'web-*'); --since and --until (RFC 3339) keep the
records with since <= time < until.

Examples:
   flowg admin export --output ./flowg.jsonl
   flowg admin export --only config > config.jsonl
   flowg admin export --only logs --stream 'web-*' --since 2026-12-01T00:00:00Z
   flowg admin export --file ./backup/auth.db --include-secrets --output users.jsonl
   flowg admin export --set 20261206T040000Z-1a2b --backup-dir ./backups --only config
   flowg admin export --backup-dir ./backups --only config
   flowg admin export --at 2026-12-06T03:59:00Z --backup-dir ./backups --only logs`,
		Flags: append(append(append(dirFlags(), decryptFlags()...), s3Flags()...),
			onlyFlag(),
			&cli.StringSliceFlag{Name: "file", Usage: "export this backup file instead of a database directory; repeatable"},
			&cli.StringFlag{Name: "set", Usage: "export this set of the catalog at --backup-dir instead of the database directories"},
			&cli.StringFlag{Name: "backup-dir", Value: "./backups", Usage: "with --set or --at: the catalog, a directory or s3://bucket/prefix; given alone (no --file, no database directory), the set a restore would pick"},
			&cli.StringFlag{Name: "at", Usage: "export the databases as they were at this instant (RFC 3339, or latest), rebuilt from the journal at --backup-dir (written by 'flowg serve --backup-continuous')"},
			&cli.StringSliceFlag{Name: "stream", Usage: "only streams matching this glob (path.Match); repeatable"},
			&cli.StringFlag{Name: "since", Usage: "only log records at or after this time (RFC 3339)"},
			&cli.StringFlag{Name: "until", Usage: "only log records before this time (RFC 3339)"},
			&cli.BoolFlag{Name: "include-secrets", Usage: "write users' password hashes (file created 0600)"},
			&cli.StringFlag{Name: "output", Usage: "write to this file (0600, complete or not at all) instead of standard output"},
		),
		Action: adminExport,
	}
}

func adminExport(c *cli.Context) error {
	names, err := namesWithoutArgs(c)
	if err != nil {
		return err
	}
	opts, err := exportOptionsFrom(c)
	if err != nil {
		return err
	}
	files := c.StringSlice("file")
	out, commit, abandon, err := exportOutput(c)
	if err != nil {
		return err
	}
	defer abandon()
	total := map[export.Kind]uint64{}
	add := func(s export.Summary) {
		for k, n := range s.Lines {
			total[k] += n
		}
	}
	fail := func(err error) error {
		return opError{op: "export", err: err, safe: "nothing was written to the databases" + partialNote(c)}
	}
	switch {
	case len(files) > 0 && c.IsSet("set"):
		return usagef("--file and --set name two different sources: give one")
	case c.IsSet("at") && (len(files) > 0 || c.IsSet("set")):
		return usagef("--at rebuilds the databases from the journal at --backup-dir: drop --file and --set")
	case c.IsSet("at"):
		if err := exportAt(c, names, out, opts, add); err != nil {
			return fail(err)
		}
	case c.IsSet("set") || (len(files) == 0 && c.IsSet("backup-dir") && !anyDirSet(c)):
		if err := exportSet(c, names, out, opts, add); err != nil {
			return fail(err)
		}
	case len(files) > 0:
		if err := exportFiles(c, files, names, out, opts, add); err != nil {
			return fail(err)
		}
	default:
		if err := exportDirs(c, names, out, opts, add); err != nil {
			return err
		}
	}
	var lines uint64
	for _, n := range total {
		lines += n
	}
	if err := export.WriteEnd(out, lines); err != nil {
		return fail(err)
	}
	if err := commit(); err != nil {
		return fail(err)
	}
	fmt.Fprintf(c.App.ErrWriter, "exported %s%s\n", kindCounts(total), exportedTo(c))
	if opts.IncludeSecrets {
		fmt.Fprintf(c.App.ErrWriter, "note: the export holds password hashes: keep it like a backup of auth\n")
	}
	return nil
}

// exportOptionsFrom reads the filter flags shared with the online export.
func exportOptionsFrom(c *cli.Context) (export.Options, error) {
	opts := export.Options{Streams: c.StringSlice("stream"), IncludeSecrets: c.Bool("include-secrets")}
	if err := export.CheckStreams(opts.Streams); err != nil {
		return opts, usagef("--stream: %v", err)
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"since", &opts.Since}, {"until", &opts.Until}} {
		if s := c.String(f.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return opts, usagef("--%s %q: give a time in RFC 3339, e.g. 2026-12-01T00:00:00Z", f.name, s)
			}
			*f.to = t
		}
	}
	if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Since.Before(opts.Until) {
		return opts, usagef("--since %s is not before --until %s", c.String("since"), c.String("until"))
	}
	return opts, nil
}

func exportDirs(c *cli.Context, names []kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	dirs, err := dirsFrom(c)
	if err != nil {
		return err
	}
	sources, closeAll, err := openSnapshots(dirs, names)
	var open openError
	if errors.As(err, &open) {
		open.next = fmt.Sprintf("stop the server first, or export online while it runs: GET /api/v1/export/%s", open.name)
		return open
	}
	if err != nil {
		return err
	}
	defer closeAll()
	for _, s := range sources {
		if s.Note != "" {
			fmt.Fprintf(c.App.ErrWriter, "note: %s\n", s.Note)
		}
		sum, err := export.ExportDB(c.Context, kv.Name(s.Name), s.DB, out, opts)
		add(sum)
		if err != nil {
			return opError{op: "export", err: err, safe: "the databases were only read" + partialNote(c)}
		}
	}
	return nil
}

func exportFiles(c *cli.Context, files []string, names []kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	for _, path := range files {
		r, closer, err := backup.OpenReader(c.Context, path, ids, backup.ReadOptions{})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		db := kv.Name("")
		if r.Header().Raw {
			// A raw Badger stream names no database: take it from the file name.
			db, _ = kv.ParseName(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
		} else if n, err := kv.ParseName(r.Header().Database); err == nil && c.IsSet("only") && !containsName(names, n) {
			closer.Close()
			continue
		}
		sum, err := export.ExportBackup(c.Context, r, db, out, opts)
		closer.Close()
		add(sum)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// anyDirSet reports whether a database directory was given (a flag or its
// environment variable): without one, --backup-dir alone names the source.
func anyDirSet(c *cli.Context) bool {
	return c.IsSet("auth-dir") || c.IsSet("config-dir") || c.IsSet("log-dir")
}

func containsName(names []kv.Name, n kv.Name) bool {
	for _, m := range names {
		if m == n {
			return true
		}
	}
	return false
}

// exportOutput returns where the lines go: standard output, or a temporary
// 0600 file beside --output that commit renames into place (fsynced) and
// abandon removes if commit was not reached.
func exportOutput(c *cli.Context) (w io.Writer, commit func() error, abandon func(), err error) {
	path := c.String("output")
	if path == "" {
		return c.App.Writer, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, nil, nil, opError{op: "export", err: err, safe: "nothing was written", next: "check --output: its directory must exist and be writable"}
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, nil, nil, opError{op: "export", err: err, safe: "nothing was written"}
	}
	done := false
	commit = func() error {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), path); err != nil {
			return err
		}
		done = true
		return kv.SyncDir(filepath.Dir(path))
	}
	abandon = func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}
	return f, commit, abandon, nil
}

func partialNote(c *cli.Context) string {
	if c.String("output") != "" {
		return fmt.Sprintf("; %s was not written", c.String("output"))
	}
	return "; the lines on standard output are incomplete"
}

func exportedTo(c *cli.Context) string {
	if p := c.String("output"); p != "" {
		return " to " + p
	}
	return ""
}

// kindCounts writes "2 roles, 3 users, 10 logs" in schema order.
func kindCounts(n map[export.Kind]uint64) string {
	var parts []string
	for _, k := range export.Kinds {
		if n[k] > 0 {
			parts = append(parts, countText(n[k], kindNoun(k)))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// kindNoun names a kind for people: "log record" rather than "log".
func kindNoun(k export.Kind) string {
	if k == export.KindLog {
		return "log record"
	}
	return string(k)
}
