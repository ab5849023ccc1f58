package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/drill"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

func adminDrillCommand() *cli.Command {
	return &cli.Command{
		Name:      "drill",
		Usage:     "restore a catalog set into a scratch place, serve it, check it, and record the RTO and RPO",
		UsageText: "flowg admin drill [--backup-dir CATALOG] [--set ID] [--work-dir DIR] [--serve-timeout DURATION] [--identity FILE] [--json]",
		Description: `A complete restore drill in one command. It restores the newest
restore-verified set holding all three databases (never a pre_restore safety
set), or the set named with --set, into a new scratch directory (0700, under
--work-dir), checks that each restored database holds the manifest's key
count (and, for a full set, its content sum), starts a flowg server on them on
a free 127.0.0.1 port (this same binary), waits until GET /healthz says every
database is ok, and stops it. The scratch directory is then removed, and the
drill is recorded in the catalog as drills/<time>.json: the RTO (the restore,
plus the server's start to serving), the RPO (the age of the restored data),
the result and the error. It never touches the server's own databases and
writes to the catalog only that record; the server may be running. A drill
without the key of an encrypted set, or of a catalog with no set, is not
recorded.

Exit code 0 only when the drill passed; 1 when it failed (it is recorded).

Examples:
   flowg admin drill --backup-dir ./backups
   flowg admin drill --backup-dir ./backups --set 20261122T020000Z-3fa2c1 --json
   flowg admin drill --backup-dir s3://flowg-backups/prod --s3-endpoint s3.eu-west-1.amazonaws.com --identity ./backup-key.txt`,
		Flags: append(append(s3Flags(), decryptFlags()...),
			&cli.StringFlag{Name: "backup-dir", Value: "./backups", Usage: "the catalog: the server's --backup-dir (a directory or s3://bucket/prefix)"},
			&cli.StringFlag{Name: "set", Usage: "drill this set (default: the newest restore-verified set holding every database)"},
			&cli.StringFlag{Name: "work-dir", Usage: "where the scratch directory goes; it needs room for the restored databases (default: the system temp dir)"},
			&cli.DurationFlag{Name: "serve-timeout", Value: drill.DefaultServeTimeout, Usage: "how long the drill's server may take to answer for every database"},
			&cli.BoolFlag{Name: "json", Usage: "print the drill record as JSON"},
		),
		Action: adminDrill,
	}
}

func adminDrill(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if d := c.Duration("serve-timeout"); d <= 0 {
		return usagef("--serve-timeout %s: give how long the drill's server may take to serve, e.g. 2m", d)
	}
	if set := c.String("set"); set != "" && !backup.ValidSetID(set) {
		return usagef("--set %q is not a set id; see `flowg admin backups list`", set)
	}
	exe, err := os.Executable()
	if err != nil {
		return opError{op: "drill", err: fmt.Errorf("find the flowg executable: %w", err)}
	}
	dir := c.String("backup-dir")
	cat, err := catalogFrom(c, dir)
	if err != nil {
		return opError{op: "drill", err: err, safe: "nothing was written"}
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	rec, err := drill.Run(c.Context, cat, drill.Options{Set: c.String("set"), WorkDir: c.String("work-dir"),
		Executable: exe, ServeTimeout: c.Duration("serve-timeout")})
	if c.Context.Err() == nil {
		if c.Bool("json") {
			if jerr := encodeJSON(c.App.Writer, rec); jerr != nil {
				return jerr
			}
		} else {
			printDrill(c.App.Writer, rec)
		}
	}
	if err != nil {
		return drillError(err, dir, rec.Set)
	}
	return nil
}

// drillError explains a failed drill of set (if one was picked) of catalog dir.
func drillError(err error, dir, set string) error {
	safe := "only the drill's record was written to " + dir + "; any scratch copy was removed"
	if !errors.Is(err, drill.ErrFailed) {
		safe = "any scratch copy was removed; no drill was recorded"
	}
	next := nextFor(err)
	switch {
	case errors.Is(err, backup.ErrNoCompleteSet):
		safe = "nothing was written; no drill was recorded"
		next = "check --backup-dir; take and verify a set: `flowg admin backups create --backup-dir " + dir + " --verify`"
	case errors.Is(err, backup.ErrSetNotFound):
		next = "list the sets with `flowg admin backups list --backup-dir " + dir + "`, or leave out --set for the newest restore-verified one"
	case errors.Is(err, drill.ErrNoSet):
		next = "take and verify a set: `flowg admin backups create --backup-dir " + dir + " --verify`, or name one with --set"
	case errors.Is(err, drill.ErrFailed) && backup.IsInputError(err) && set != "":
		next = "set " + set + " is damaged: record it with `flowg admin backups verify --backup-dir " + dir + " " + set +
			"`, and take a new set; a drill picks the newest restore-verified set"
	case next == "" && errors.Is(err, drill.ErrFailed):
		next = "see the error above; `flowg admin backups list --backup-dir " + dir + "` shows each set's label"
	}
	return opError{op: "drill", err: err, safe: safe, next: next}
}

// printDrill prints a drill's result: the set, RTO, RPO, and each database.
func printDrill(w io.Writer, r backup.DrillRecord) {
	set := r.Set
	if set == "" {
		set = "(none)"
	}
	fmt.Fprintf(w, "drill %s: set %s\n", r.Result, set)
	if r.RTOSeconds > 0 {
		fmt.Fprintf(w, "  RTO  %s (restore, then server start to every database answering)\n", seconds(r.RTOSeconds))
	}
	if !r.SetCreated.IsZero() {
		fmt.Fprintf(w, "  RPO  %s (age of the restored data: set taken %s)\n", seconds(r.RPOSeconds), r.SetCreated.Format(time.RFC3339))
	}
	for _, n := range kv.Names {
		db, ok := r.Databases[string(n)]
		if !ok {
			continue
		}
		check := "key count checked"
		if db.ContentChecked {
			check = "key count and content sum checked"
		}
		if db.Error != "" {
			check = db.Error
		}
		fmt.Fprintf(w, "  %-6s %s (manifest: %d): %s\n", n, countText(db.Keys, "key"), db.ManifestKeys, check)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}

// seconds renders a duration given in seconds, to the millisecond.
func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}
