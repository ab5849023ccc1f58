package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// `flowg admin import`: a portable JSON-lines export merged into the
// databases of a stopped server, after the whole file was checked.

func adminImportCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "import",
		Usage:     "merge a portable JSON-lines export into the databases of a stopped server",
		UsageText: "flowg admin import FILE|- [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] [--only ...] [--dry-run] [--max-line-bytes N] [--catalog-dir DIR] [--no-safety-snapshot]",
		Description: `Checks every line of FILE (- for standard input, staged to a temporary file) first (JSON, schema version, kind, field types,
names, sizes, line length); a bad line is refused with its number and nothing
is written. Then merges the items into the databases the file has lines of:
an item overwrites what is stored under the same name (or, for a log record,
the same stream, time and sequence), and everything the file lacks is kept.
Items equal to what is stored are not written again, so importing the same
file twice changes nothing; log records keep their absolute expiry.

Before it changes a database that is not empty, the import writes a safety
snapshot of it as a pre_restore set into the catalog (--catalog-dir, default
./backups, where the server keeps its sets) and prints the command that undoes
the import. A file that would change nothing writes neither.

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
		),
		Action: adminImport,
	})
}

func adminImport(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usagef("give exactly one FILE to import (got %d arguments)", c.Args().Len())
	}
	path := c.Args().First()
	if path == "-" {
		staged, remove, err := stageStdin()
		if err != nil {
			return opError{op: "import", err: err, safe: "nothing was written; every database is unchanged",
				next: "free space in the temporary directory ($TMPDIR), or save the export to a file and import that"}
		}
		defer remove()
		path = staged
	}
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
	opts := export.ImportOptions{MaxLineBytes: c.Int("max-line-bytes"), DryRun: c.Bool("dry-run")}
	if c.IsSet("only") {
		opts.Databases = names
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	refused := func(err error) error {
		return opError{op: "import", err: fmt.Errorf("%s: %w", path, err), safe: "nothing was written; every database is unchanged",
			next: nextForImport(err)}
	}
	f, err := open()
	if err != nil {
		return refused(err)
	}
	checked, err := export.CheckFile(c.Context, f, opts)
	f.Close()
	if err != nil {
		return refused(err)
	}
	dbs, closeAll, err := openForImport(dirs, checked.Databases, opts.DryRun)
	if err != nil {
		return err
	}
	defer closeAll()
	if !opts.DryRun {
		// Compare first: a file that changes nothing writes no safety
		// snapshot and nothing else.
		probe := opts
		probe.DryRun = true
		res, err := export.Import(c.Context, open, dbs, probe)
		if err != nil {
			return refused(err)
		}
		changed := changedDatabases(res)
		if len(changed) == 0 {
			res.DryRun = false // nothing was written: the counts are what happened
			printImport(c, res)
			fmt.Fprintf(c.App.ErrWriter, "nothing to import: every item of %s is already there\n", path)
			return nil
		}
		if err := importSafetySnapshot(c, dirs, dbs, changed); err != nil {
			return err
		}
	}
	res, err := export.Import(c.Context, open, dbs, opts)
	if err != nil {
		return opError{op: "import", err: fmt.Errorf("%s: %w", path, err),
			safe: "the items before the error may be written; the safety snapshot above undoes them, or import the file again once the cause is fixed"}
	}
	printImport(c, res)
	return nil
}

// stageStdin copies standard input to a 0600 temporary file, since an
// import reads its file more than once (check, then write).
func stageStdin() (path string, remove func(), err error) {
	f, err := os.CreateTemp("", "flowg-import-*.jsonl")
	if err != nil {
		return "", nil, fmt.Errorf("stage standard input: %w", err)
	}
	remove = func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, os.Stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("stage standard input: %w", err)
	}
	return f.Name(), remove, nil
}

// nextForImport suggests what to do about a refused file.
func nextForImport(err error) string {
	switch {
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

// openForImport opens the databases the file has lines of. An import holds
// each directory as a restore does (kv.LockDir, then an open of the held
// directory); a dry run opens existing databases read-only and stands in an
// empty in-memory database for a missing one, so it creates nothing.
func openForImport(dirs kv.Dirs, names []kv.Name, dryRun bool) (map[kv.Name]*badger.DB, func(), error) {
	dbs := map[kv.Name]*badger.DB{}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	for _, n := range names {
		dir := dirs.Of(n)
		db, closeDB, err := openOneForImport(dir, dryRun)
		if err != nil {
			closeAll()
			return nil, nil, openError{name: n, dir: dir, err: err,
				next: fmt.Sprintf("stop the server first, or import online while it runs: POST /api/v1/import/%s", n)}
		}
		dbs[n] = db
		closers = append(closers, closeDB)
	}
	return dbs, closeAll, nil
}

func openOneForImport(dir string, dryRun bool) (*badger.DB, func(), error) {
	if dryRun {
		if !kv.Exists(dir) {
			db, err := kv.Open("", kv.OpenOptions{InMemory: true})
			if err != nil {
				return nil, nil, err
			}
			return db, func() { db.Close() }, nil
		}
		s, err := kv.OpenSnapshot(dir, "")
		if err != nil {
			return nil, nil, err
		}
		return s.DB, func() { s.Close() }, nil
	}
	unlock, err := kv.LockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	db, err := kv.Open(dir, kv.OpenOptions{Locked: true})
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return db, func() { db.Close(); unlock() }, nil
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

func printImport(c *cli.Context, res export.Result) {
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
