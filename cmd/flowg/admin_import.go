package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/urfave/cli/v2"
)

// `flowg admin import`: a portable JSON-lines export merged into the
// databases of a stopped server, after the whole file was checked.

func adminImportCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "import",
		Usage:     "merge a portable JSON-lines export into the databases of a stopped server",
		UsageText: "flowg admin import FILE|- [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] [--only ...] [--dry-run] [--max-line-bytes N] [--catalog-dir DIR] [--no-safety-snapshot] [--lenient]",
		Description: `Checks every line of FILE (- for standard input, spooled to a 0600 file in $TMPDIR
while it is checked) first (JSON, schema version, kind, field types, unknown
fields, names, sizes, line length); a bad line is refused with its number and
nothing is written. The file is read twice: to check it, then to merge it.
--lenient skips (and counts) fields the schema does not name, as a later
flowg may write, instead of refusing their line; every other check stays. Then merges the items into the databases the file has lines of:
an item overwrites what is stored under the same name (or, for a log record,
the same stream, time and sequence), and everything the file lacks is kept.
Items equal to what is stored are not written again, so importing the same
file twice changes nothing; log records keep their absolute expiry.

Before its first write into a database that is not empty, the import writes
a safety snapshot of it as a pre_restore set into the catalog (--catalog-dir,
default ./backups, where the server keeps its sets) and prints the command
that undoes the import: one set per database it changes. A file that would
change nothing writes neither.

Once the file passed its check and before anything is written, the import
is refused when it would not fit, with a restore's margin (10% + 64 MiB),
on the disk of a database it writes. The run is recorded, kind "import",
in the catalog's history of operations (a dry run is not).

A user line without a password hash (an export without --include-secrets)
keeps the password of an existing user; a new user without one cannot log in
until 'flowg admin user passwd' sets it.

Examples:
   flowg admin import ./flowg.jsonl --dry-run
   flowg admin import ./flowg.jsonl
   flowg admin import ./config.jsonl --only config
   flowg admin export --auth-dir ./old/auth --only auth --include-secrets | flowg admin import - --only auth`,
		Flags: append(dirFlags(),
			onlyFlag(),
			&cli.BoolFlag{Name: "dry-run", Usage: "check the file and say what would be added, overwritten and left unchanged; write nothing"},
			&cli.IntFlag{Name: "max-line-bytes", Value: export.DefaultMaxLineBytes, Usage: "refuse a line longer than this many bytes"},
			&cli.StringFlag{Name: "catalog-dir", Value: "./backups", Usage: "catalog the safety snapshot goes to before the import changes a database"},
			&cli.BoolFlag{Name: "no-safety-snapshot", Usage: "import without writing a safety snapshot first"},
			&cli.BoolFlag{Name: "lenient", Usage: "skip (and count) fields the schema does not name, as in a file of a later flowg, instead of refusing their line; every other check stays"},
		),
		Action: recordedOffline(offlineImport, adminImport),
	})
}

func adminImport(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usagef("give exactly one FILE to import (got %d arguments)", c.Args().Len())
	}
	path := c.Args().First()
	names, err := namesFrom(c)
	if err != nil {
		return err
	}
	if c.Int("max-line-bytes") < 1 {
		return usagef("--max-line-bytes must be at least 1")
	}
	dirs, err := dirsFrom(c)
	if err != nil {
		return err
	}
	opts := export.ImportOptions{MaxLineBytes: c.Int("max-line-bytes"), DryRun: c.Bool("dry-run"), Lenient: c.Bool("lenient")}
	if c.IsSet("only") {
		opts.Databases = names
	}
	catalogDir := c.String("catalog-dir")
	req := export.Request{
		Options: opts,
		Guard:   export.SizeGuard(dirs, 0),
		Hold:    export.HoldDirs(dirs, opts.DryRun),
		Safety: export.SafetyCopies{
			Catalog: func() (*backup.Catalog, error) { return catalogFrom(c, catalogDir) },
			By:      "flowg admin import", ToolVersion: version,
			Undo: export.OfflineUndo(catalogDir, dirs),
		},
	}
	if c.Bool("no-safety-snapshot") {
		req.Safety.Catalog = nil
	}
	if path == "-" {
		req.Input = os.Stdin // spooled to a 0600 file in $TMPDIR while it is checked
	} else {
		req.Open = func() (io.ReadCloser, error) { return os.Open(path) }
	}
	rep, err := export.Run(c.Context, req)
	printSafetyCopies(c, rep, catalogDir)
	if err != nil {
		return importError(path, rep, err)
	}
	printImport(c, rep)
	if !rep.DryRun && len(rep.Written) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "nothing to import: every item of %s is already there\n", path)
	}
	return nil
}

// importError says what a failed import left: nothing, before the first
// write; else what the safety copies undo.
func importError(path string, rep export.Report, err error) error {
	what := fmt.Errorf("%s: %w", path, err)
	var dbErr *export.DatabaseError
	switch stage := export.StageOf(err); {
	case stage == export.StageCheck && export.IsInputError(err):
		return opError{op: "import", err: what, safe: "nothing was written; every database is unchanged", next: nextForImport(err)}
	case stage == export.StageCheck:
		return opError{op: "import", err: what, safe: "nothing was written; every database is unchanged",
			next: "check that FILE can be read (for standard input: free space in the temporary directory, $TMPDIR), then run the import again"}
	case errors.As(err, &dbErr):
		return openError{name: dbErr.Name, dir: dbErr.Dir, err: dbErr.Err,
			next: fmt.Sprintf("stop the server first, or import online while it runs: POST /api/v1/import/%s", dbErr.Name)}
	case len(rep.Written) == 0:
		next := "import the file again once the cause is fixed"
		switch {
		case stage == export.StageSafetyCopy:
			next = "free space in the catalog, choose another --catalog-dir, or skip the snapshot with --no-safety-snapshot"
		case errors.Is(err, backup.ErrNoSpace):
			next = "free space on the disk of the database directory named, then run the import again"
		}
		return opError{op: "import", err: what, safe: "nothing was written; every database is unchanged", next: next}
	}
	return opError{op: "import", err: what,
		safe: fmt.Sprintf("%s may hold part of the file; the safety snapshots above undo it, or import the file again once the cause is fixed", joinNames(rep.Written))}
}

// printSafetyCopies says which safety copies the import wrote and how to
// undo it.
func printSafetyCopies(c *cli.Context, rep export.Report, catalogDir string) {
	for _, sc := range rep.SafetyCopies {
		fmt.Fprintf(c.App.ErrWriter, "safety snapshot of %s written to %s, set %s\n", joinNames(sc.Databases), catalogDir, sc.Set)
		fmt.Fprintf(c.App.ErrWriter, "  to undo this import: %s\n", sc.Undo)
	}
}

// nextForImport suggests what to do about a refused file.
func nextForImport(err error) string {
	switch {
	case errors.Is(err, export.ErrUnknownField):
		return "check the field named (a typo?); a file of a later flowg imports with --lenient, which skips unknown fields and counts them"
	case errors.Is(err, export.ErrVersion):
		return "export the data again with this flowg version, or import with the version that wrote it"
	case errors.Is(err, export.ErrLineTooLong):
		return "check that FILE is a flowg export; raise --max-line-bytes only for a file you trust"
	case errors.Is(err, export.ErrOtherDatabase):
		return "widen --only, or export only the databases you want to import"
	case errors.Is(err, export.ErrIncomplete):
		return "copy the whole file again, or export the data again: an export is whole only with its end line"
	}
	return "fix or remove the line named above (or export the data again), then run the import again"
}

// someNames writes " (a, b, and 3 more)" for the first names of n items.
func someNames(names []string, n uint64) string {
	if len(names) == 0 {
		return ""
	}
	s := strings.Join(names, ", ")
	if more := n - uint64(len(names)); more > 0 {
		s += fmt.Sprintf(", and %d more", more)
	}
	return " (" + s + ")"
}

func printImport(c *cli.Context, res export.Report) {
	w := c.App.Writer
	reportOf(c).set("result", res)
	for _, k := range export.Kinds {
		n := res.Changes[k]
		if n == nil {
			continue
		}
		format := "%-12s %d added%s, %d overwritten%s, %d unchanged"
		if res.DryRun {
			format = "%-12s %d to add%s, %d to overwrite%s, %d unchanged"
		}
		line := fmt.Sprintf(format, k, n.Added, someNames(n.AddedNames, n.Added), n.Overwritten, someNames(n.OverwrittenNames, n.Overwritten), n.Unchanged)
		if n.Expired > 0 {
			line += fmt.Sprintf(", %d already expired (skipped)", n.Expired)
		}
		fmt.Fprintln(w, line)
	}
	printIgnored(c, res)
	if len(res.NoPassword) > 0 {
		what := "added"
		if res.DryRun {
			what = "would be added"
		}
		fmt.Fprintf(c.App.ErrWriter, "note: %s %s without a password (the export was made without --include-secrets): "+
			"no login until one is set with `flowg admin user passwd --name NAME`\n", strings.Join(res.NoPassword, ", "), what)
	}
	if res.DryRun {
		fmt.Fprintf(c.App.ErrWriter, "dry run: %s checked, nothing was written\n", countText(res.Lines, "line"))
		return
	}
	fmt.Fprintf(c.App.ErrWriter, "import of %s complete (%s)\n", countText(res.Lines, "line"), joinNames(res.Databases))
}

// printIgnored says how many unknown fields a lenient import skipped.
func printIgnored(c *cli.Context, res export.Report) {
	if res.IgnoredFields == 0 {
		return
	}
	fmt.Fprintf(c.App.ErrWriter, "lenient: %s skipped, this flowg does not know them: %s\n",
		countText(res.IgnoredFields, "unknown field"), strings.Join(res.IgnoredFieldNames, ", "))
}
