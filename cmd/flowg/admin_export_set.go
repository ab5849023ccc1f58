package main

import (
	"fmt"
	"io"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// exportSet exports the databases of catalog set --set at --backup-dir (a
// local catalog or s3://bucket/prefix); without --set, of the set a restore
// would pick (backup.PickRestoreSet: the newest restore-verified set holding
// them, else the newest complete one). An incremental set is first rebuilt
// from its chain, as a restore of it would be. Without --only, every
// database the set holds; with it, each one named must be in the set.
func exportSet(c *cli.Context, names []kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	dir := c.String("backup-dir")
	cat, err := catalogFrom(c, dir)
	if err != nil {
		return err
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	id, err := pickSet(c, cat, c.String("set"), names)
	if err != nil {
		return err
	}
	info, err := cat.Get(c.Context, id)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, ok := info.Databases[string(name)]; !ok {
			if c.IsSet("only") {
				return fmt.Errorf("%w: set %s holds no %s database", backup.ErrMissingFile, id, name)
			}
			continue
		}
		if err := exportSetDB(c, cat, id, name, out, opts, add); err != nil {
			return fmt.Errorf("set %s, %s: %w", id, name, err)
		}
	}
	return nil
}

// exportAt exports each database of names as it was at --at, rebuilt from
// the journal of the catalog at --backup-dir the way `admin restore --at`
// rebuilds it (the newest set the journal starts from, then its changes up
// to the instant, into a scratch database removed afterwards).
func exportAt(c *cli.Context, names []kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	at, latest, err := backup.ParseAt(c.String("at"))
	if err != nil {
		return usagef("--at: %v", err)
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	cat, err := catalogFrom(c, c.String("backup-dir"))
	if err != nil {
		return err
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	for _, name := range names {
		open, done, p, err := cat.RestorableAt(c.Context, string(name), at, latest, "")
		if err != nil {
			return fmt.Errorf("%s at %s: %w (choose an instant within the window named, or latest)", name, c.String("at"), err)
		}
		fmt.Fprintf(c.App.ErrWriter, "exporting %s as it was at %s: set %s and %d journal segments (%d changes) of chain %s\n",
			name, p.Instant.Format(time.RFC3339Nano), p.BaseSet, p.Segments, p.Changes, p.Chain)
		err = exportOpened(c, open, name, out, opts, add)
		done()
		if err != nil {
			return fmt.Errorf("%s at %s: %w", name, p.Instant.Format(time.RFC3339Nano), err)
		}
	}
	return nil
}

func exportSetDB(c *cli.Context, cat *backup.Catalog, id string, name kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	open, done, err := cat.Restorable(c.Context, id, string(name), "")
	if err != nil {
		return err
	}
	defer done()
	return exportOpened(c, open, name, out, opts, add)
}

// exportOpened exports the flowg file of database name that open reads.
func exportOpened(c *cli.Context, open backup.Opener, name kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	rc, size, err := open(c.Context)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, err := backup.NewReader(rc, backup.ReadOptions{Size: size, Database: string(name)})
	if err != nil {
		return err
	}
	sum, err := export.ExportBackup(c.Context, r, name, out, opts)
	add(sum)
	return err
}
