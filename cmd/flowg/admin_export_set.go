package main

import (
	"fmt"
	"io"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// exportSet exports the databases of catalog set --set at --backup-dir (a
// local catalog or s3://bucket/prefix). An incremental set is first rebuilt
// from its chain, as a restore of it would be. Without --only, every
// database the set holds; with it, each one named must be in the set.
func exportSet(c *cli.Context, names []kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	dir, id := c.String("backup-dir"), c.String("set")
	cat, err := catalogFrom(c, dir)
	if err != nil {
		return err
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	info, err := cat.Get(c.Context, id)
	if err != nil {
		return err
	}
	if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
		return fmt.Errorf("%w: set %s is %s: %s", backup.ErrSetUnusable, id, info.Label, info.Problem)
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

func exportSetDB(c *cli.Context, cat *backup.Catalog, id string, name kv.Name, out io.Writer, opts export.Options, add func(export.Summary)) error {
	open, done, err := cat.Restorable(c.Context, id, string(name), "")
	if err != nil {
		return err
	}
	defer done()
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
