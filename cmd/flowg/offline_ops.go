package main

import (
	"errors"
	"os"
	"os/user"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/operations"
)

// The offline commands that work on a backup catalog (flowg admin backup to
// an s3:// catalog, admin backups create, admin backups verify, admin verify
// of a set, admin restore) record their run in the catalog's history of
// operations (trigger "offline"), which the server lists with GET
// /api/v1/operations beside its own runs. Recording never fails the
// command: a record that cannot be written is a warning on stderr; and a
// local catalog directory that does not exist once the run ended is not
// created for the record. The record is written, running, when the run
// starts (into a catalog that exists already), so a server lists it while
// it runs, and interrupted should the command be killed.

// offlineOp says how a command's run is recorded.
type offlineOp struct {
	kind string
	// catalog is the catalog the run is recorded in; "" records nothing.
	catalog func(c *cli.Context) string
	// set is the set the run is about, known before it runs ("" if none).
	set func(c *cli.Context) string
	// wroteSet: the run writes a new set, found in the catalog afterwards.
	wroteSet bool
}

// recordedOffline wraps action so that its run is recorded as op says. A
// usage error (nothing ran) is not recorded.
func recordedOffline(op offlineOp, action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		target := op.catalog(c)
		if target == "" {
			return action(c)
		}
		cat, err := catalogFrom(c, target)
		if err != nil {
			return action(c) // the command says what is wrong with it
		}
		var before []string
		if op.wroteSet {
			before = setIDs(c, cat)
		}
		names, _ := kv.ParseNames(c.String("only"))
		set := ""
		if op.set != nil {
			set = op.set(c)
		}
		dbs := kv.Strings(names)
		if set != "" && c.String("only") == "" {
			if info, err := cat.Get(c.Context, set); err == nil && len(info.Databases) > 0 {
				dbs = dbs[:0]
				for _, n := range kv.Names {
					if _, ok := info.Databases[string(n)]; ok {
						dbs = append(dbs, string(n))
					}
				}
			}
		}
		_, serr := os.Stat(target)
		tracker := operations.NewTracker(operations.NewHistory(cat, operations.DefaultKeep, nil), nil)
		run := tracker.Start(operations.Start{Kind: op.kind, Trigger: operations.TriggerOffline, Who: offlineWho(),
			Databases: dbs, SetID: set, DryRun: c.Bool("dry-run"), EndRecordOnly: serr != nil && !backup.IsS3URL(target)})
		err = action(c)
		var usage usageError
		if errors.As(err, &usage) {
			tracker.Discard(run)
			return err
		}
		if _, serr := os.Stat(target); serr != nil && !backup.IsS3URL(target) {
			return err // no catalog was made: the history is not what makes one
		}
		if op.wroteSet {
			for _, id := range setIDs(c, cat) {
				if !slices.Contains(before, id) {
					run.SetSet(id) // ids sort newest first: the first new one
					break
				}
			}
		}
		run.FinishErr(c.Context, err)
		return err
	}
}

// setIDs lists the ids of the catalog's sets, newest first (none if it
// cannot be read).
func setIDs(c *cli.Context, cat *backup.Catalog) []string {
	sets, err := cat.List(c.Context)
	if err != nil {
		return nil
	}
	ids := make([]string, len(sets))
	for i, s := range sets {
		ids[i] = s.ID
	}
	return ids
}

// offlineWho names who ran an offline command: the system user.
func offlineWho() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username + " (flowg admin)"
	}
	return "flowg admin"
}

// The records of each command.
var (
	// flowg admin backup: only an s3:// --backup-dir is a catalog; a local
	// one is a flat directory of files, with no history.
	offlineBackup = offlineOp{kind: operations.KindBackup, wroteSet: true, catalog: func(c *cli.Context) string {
		if dir := c.String("backup-dir"); backup.IsS3URL(dir) {
			return dir
		}
		return ""
	}}
	// flowg admin backups create.
	offlineCreate = offlineOp{kind: operations.KindBackup, wroteSet: true,
		catalog: func(c *cli.Context) string { return c.String("backup-dir") }}
	// flowg admin backups verify ID...: the set when one is named.
	offlineVerifySets = offlineOp{kind: operations.KindVerify,
		catalog: func(c *cli.Context) string { return c.String("backup-dir") },
		set: func(c *cli.Context) string {
			if c.NArg() == 1 {
				return c.Args().First()
			}
			return ""
		}}
	// flowg admin verify: a set of a catalog (s3://, or --set).
	offlineVerify = offlineOp{kind: operations.KindVerify,
		catalog: func(c *cli.Context) string {
			if dir := c.String("backup-dir"); backup.IsS3URL(dir) || (dir != "" && c.String("set") != "") {
				return dir
			}
			return ""
		},
		set: func(c *cli.Context) string { return c.String("set") }}
	// flowg admin restore: recorded in the server's catalog, --catalog-dir.
	offlineRestore = offlineOp{kind: operations.KindRestore,
		catalog: func(c *cli.Context) string { return c.String("catalog-dir") },
		set:     func(c *cli.Context) string { return c.String("set") }}
	// flowg admin import: recorded in the catalog of its safety snapshots.
	offlineImport = offlineOp{kind: operations.KindImport,
		catalog: func(c *cli.Context) string { return c.String("catalog-dir") }}
)
