package main

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// changedDatabases returns the databases an import would add to or
// overwrite in, in canonical order.
func changedDatabases(res export.Result) []kv.Name {
	changed := map[kv.Name]bool{}
	for k, n := range res.Changes {
		if n.Added > 0 || n.Overwritten > 0 {
			changed[k.Database()] = true
		}
	}
	var out []kv.Name
	for _, n := range kv.Names {
		if changed[n] {
			out = append(out, n)
		}
	}
	return out
}

// importSafetySnapshot writes the databases an import is about to change
// (changed), as they are, into a pre_restore set of the catalog at --catalog-dir, and
// prints the command that undoes the import. Empty databases are left out:
// there is nothing to lose.
func importSafetySnapshot(c *cli.Context, dirs kv.Dirs, dbs map[kv.Name]*badger.DB, changed []kv.Name) error {
	if c.Bool("no-safety-snapshot") {
		return nil
	}
	var sources []backup.Source
	var names []kv.Name
	for _, n := range changed {
		if db := dbs[n]; db != nil && !kv.IsEmpty(db) {
			sources = append(sources, backup.Source{Name: string(n), DB: db})
			names = append(names, n)
		}
	}
	if len(sources) == 0 {
		return nil
	}
	catalogDir := c.String("catalog-dir")
	fail := func(err error) error {
		return opError{op: "import", err: fmt.Errorf("write safety snapshot: %w", err), safe: "nothing was written; every database is unchanged",
			next: "free space in the catalog, choose another --catalog-dir, or skip the snapshot with --no-safety-snapshot"}
	}
	cat, err := catalogFrom(c, catalogDir)
	if err != nil {
		return fail(err)
	}
	m, err := cat.Create(c.Context, sources, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: version}, Trigger: backup.TriggerPreRestore, By: "flowg admin import",
	})
	if err != nil {
		return fail(err)
	}
	undo := fmt.Sprintf("flowg admin restore --backup-dir %s --set %s --only %s --wipe", catalogDir, m.ID, joinNames(names))
	for _, n := range names {
		undo += fmt.Sprintf(" --%s %s", dirFlagName(n), dirs.Of(n))
	}
	fmt.Fprintf(c.App.ErrWriter, "safety snapshot of %s written to %s, set %s\n", joinNames(names), catalogDir, m.ID)
	fmt.Fprintf(c.App.ErrWriter, "  to undo this import: %s\n", undo)
	return nil
}
