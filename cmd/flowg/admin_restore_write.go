package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// Executing `flowg admin restore`: every file checked and every database
// opened before the first changes, the safety snapshot, the merge or the
// wipe of each database, and how to undo it.

// mergeAll checks every file and opens every database before the first one
// changes, so a bad log.db or a locked logs database never leaves auth
// restored and logs not.
func mergeAll(c *cli.Context, jobs []restoreJob, stamp time.Time) error {
	prepared := make([]*backup.Prepared, 0, len(jobs))
	defer func() {
		for _, p := range prepared {
			p.Close()
		}
	}()
	revived := restore.Revived{}
	for _, job := range jobs {
		// The server is stopped and Badger's lock keeps it so while we
		// hold the database: the merge may load it in bulk.
		opts := backup.RestoreOptions{Database: string(job.name), Identities: job.ids, Exclusive: true, MaxBytes: job.guard.MaxBytes, Source: job.file}
		if job.name == kv.Auth {
			opts.Added = revived.Add
		}
		p, err := backup.Prepare(c.Context, job.open, opts)
		if err == nil {
			prepared = append(prepared, p)
			err = job.guard.Check(p.Summary().Bytes)
		}
		if errors.Is(err, backup.ErrTooLarge) || errors.Is(err, backup.ErrNoSpace) {
			return sizeRefusal(job, err)
		}
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "nothing was written; every database is unchanged"}
		}
	}
	// Every database is held from here until the restore ends, through
	// a bulk load's rebuild and swap (see loadEmpty).
	locks, err := lockAll(jobs)
	if err != nil {
		return err
	}
	defer locks.release()
	dbs, err := openAll(jobs)
	if err != nil {
		return err
	}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	revivedOK := emptyBefore(dbs)
	if revivedOK {
		// Every database is empty, so every file is bulk-loaded (see
		// loadEmpty): a streaming job, which the soft limit keeps lean.
		limitMemoryForStreaming()
	}
	undo, err := safetySnapshot(c, jobs, dbs)
	if err != nil {
		return err
	}
	var done []kv.Name
	for i, job := range jobs {
		merge := func(c *cli.Context, job restoreJob, db *badger.DB, p *backup.Prepared, done []kv.Name) error {
			return mergeOne(c, job, db, p, done, undo)
		}
		if nothingToMergeWith(job.dir, dbs[i]) {
			merge = loadEmpty(stamp, locks)
		}
		if err := merge(c, job, dbs[i], prepared[i], done); err != nil {
			return err
		}
		done = append(done, job.name)
	}
	if !revivedOK {
		reportWarnings(c, revived.Warnings())
	}
	return nil
}

// emptyBefore reports whether every database is empty, so a restore brings
// nothing "back".
func emptyBefore(dbs []*badger.DB) bool {
	for _, db := range dbs {
		if !kv.IsEmpty(db) {
			return false
		}
	}
	return true
}

// heldDirs are the directory locks (kv.LockDir) a restore keeps until it
// ends: every target's, and every rebuilt database's from before its swap.
type heldDirs struct{ unlocks []func() }

func (h *heldDirs) hold(unlock func()) { h.unlocks = append(h.unlocks, unlock) }

func (h *heldDirs) release() {
	for i := len(h.unlocks) - 1; i >= 0; i-- {
		h.unlocks[i]()
	}
	h.unlocks = nil
}

// lockAll takes every job's directory, or none.
func lockAll(jobs []restoreJob) (*heldDirs, error) {
	locks := &heldDirs{}
	for _, job := range jobs {
		unlock, err := kv.LockDir(job.dir)
		if err != nil {
			locks.release()
			return nil, openError{name: job.name, dir: job.dir, err: err}
		}
		locks.hold(unlock)
	}
	return locks, nil
}

// openAll opens every job's database, held by lockAll, or none.
func openAll(jobs []restoreJob) ([]*badger.DB, error) {
	var dbs []*badger.DB
	for _, job := range jobs {
		db, err := kv.Open(job.dir, kv.OpenOptions{Locked: true})
		if err != nil {
			for _, d := range dbs {
				d.Close()
			}
			return nil, openError{name: job.name, dir: job.dir, err: err}
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}

// safetySnapshot writes the databases a merge is about to change, as they
// are, into a pre_restore set of the catalog, and prints and returns how to
// undo.
func safetySnapshot(c *cli.Context, jobs []restoreJob, dbs []*badger.DB) (string, error) {
	if c.Bool("no-safety-snapshot") {
		return "", nil
	}
	var sources []backup.Source
	var names []kv.Name
	for i, job := range jobs {
		if !kv.IsEmpty(dbs[i]) {
			sources = append(sources, backup.Source{Name: string(job.name), DB: dbs[i]})
			names = append(names, job.name)
		}
	}
	if len(sources) == 0 {
		return "", nil // nothing to lose
	}
	keys, err := keysFrom(c)
	if err != nil {
		return "", err
	}
	catalogDir := c.String("catalog-dir")
	fail := func(err error) error {
		return opError{op: "restore", err: fmt.Errorf("write safety snapshot: %w", err), safe: "nothing was written; every database is unchanged",
			next: "free space in the catalog, choose another --catalog-dir, or skip the snapshot with --no-safety-snapshot"}
	}
	cat, err := catalogFrom(c, catalogDir)
	if err != nil {
		return "", fail(err)
	}
	cat.WithKeys(keys)
	m, err := cat.Create(c.Context, sources, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: version}, Trigger: backup.TriggerPreRestore, By: "flowg admin restore",
	})
	if err != nil {
		return "", fail(err)
	}
	undo := fmt.Sprintf("flowg admin restore --backup-dir %s --set %s --only %s --wipe", catalogDir, m.ID, joinNames(names))
	for i, job := range jobs {
		if !kv.IsEmpty(dbs[i]) {
			undo += fmt.Sprintf(" --%s %s", dirFlagName(job.name), job.dir)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "safety snapshot of %s written to %s, set %s\n", joinNames(names), catalogDir, m.ID)
	fmt.Fprintf(c.App.ErrWriter, "  to undo this restore: %s\n", undo)
	reportOf(c).set("safety_snapshot", m.ID)
	reportOf(c).set("undo", undo)
	return undo, nil
}

// mergeOne merges one prepared file; undo is how to undo the restore ("":
// no safety snapshot was taken).
func mergeOne(c *cli.Context, job restoreJob, db *badger.DB, p *backup.Prepared, done []kv.Name, undo string) error {
	safe := alreadyDone(done, fmt.Sprintf("%s is unchanged", job.dir))
	bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), int64(p.Summary().Bytes))
	res, err := p.MergeWithProgress(c.Context, db, bar.update)
	bar.finish()
	if err != nil && res.Written > 0 {
		return partialMerge(job, res, p.Summary().Keys, err, done, undo)
	}
	if err != nil {
		return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: safe}
	}
	var notes []string
	if job.afterMerge != nil {
		note, err := job.afterMerge(db)
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: alreadyDone(done, fmt.Sprintf("%s holds the merged keys; the safety snapshot above undoes it", job.dir))}
		}
		notes = append(notes, note)
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	printRestored(c, job, res, "merged", notes...)
	return nil
}

// nothingToMergeWith reports whether the database in dir can be replaced
// by a bulk load without losing anything: Badger never wrote a table for it,
// it holds no key, its directory holds only Badger's and flowg's files, and
// the directory is a plain one — not a symbolic link or a mount point,
// which the swap of a bulk load would replace or fail to rename.
func nothingToMergeWith(dir string, db *badger.DB) bool {
	if len(db.Tables()) > 0 || !kv.IsEmpty(db) || !kv.OnlyDatabaseFiles(dir) {
		return false
	}
	st, err := os.Lstat(dir)
	return err == nil && st.IsDir() && !kv.IsMountPoint(dir)
}

// loadEmpty restores into a database that holds nothing (the seed's
// destructive restore: remove the directory, then restore): with nothing to
// merge with, the file is bulk-loaded as a wipe restore does, in four fifths
// of the time of a merge and a quarter of its memory. The database is closed
// first, its directory still held by mergeAll: the wipe builds the new one
// beside it, locks it in locks too and swaps it in.
func loadEmpty(stamp time.Time, locks *heldDirs) func(*cli.Context, restoreJob, *badger.DB, *backup.Prepared, []kv.Name) error {
	return func(c *cli.Context, job restoreJob, db *badger.DB, _ *backup.Prepared, done []kv.Name) error {
		if err := db.Close(); err != nil {
			return opError{op: "restore", err: fmt.Errorf("close %s: %w", job.dir, err), safe: alreadyDone(done, fmt.Sprintf("%s is unchanged", job.dir))}
		}
		bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), 0)
		opts := backup.WipeOptions{
			RestoreOptions:  backup.RestoreOptions{Database: string(job.name), Progress: bar.update, Identities: job.ids, MaxBytes: job.guard.MaxBytes},
			DiscardPrevious: true, // it held nothing
			Stamp:           stamp,
			Hold:            locks.hold,
		}
		res, err := backup.WipeFrom(c.Context, job.dir, job.open, opts)
		bar.finish()
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err),
				safe: alreadyDone(done, fmt.Sprintf("nothing was swapped in; %s is unchanged (and empty)", job.dir))}
		}
		printWarnings(c.App.ErrWriter, res.Warnings)
		printRestored(c, job, res, "merged", "into an empty database: bulk-loaded")
		fmt.Fprintf(c.App.ErrWriter, "%s held nothing to merge with: its file was bulk-loaded\n", job.dir)
		return nil
	}
}

// alreadyDone prefixes what is safe with the databases already restored.
func alreadyDone(done []kv.Name, rest string) string {
	if len(done) == 0 {
		return "nothing was written; " + rest
	}
	return fmt.Sprintf("%s were already restored; %s", joinNames(done), rest)
}

// wipeAll checks every file (when there are several) and makes sure no
// other process holds any of the databases before the first one is swapped.
func wipeAll(c *cli.Context, jobs []restoreJob, stamp time.Time, maxBytes uint64) error {
	for _, job := range jobs {
		if err := kv.CheckSwappable(job.dir); err != nil {
			return opError{op: "restore", err: fmt.Errorf("the %s database cannot be wiped in place: %w", job.name, err),
				safe: "nothing was written; every database is unchanged",
				next: fmt.Sprintf("restore without --wipe (a merge), or mount the volume one level above %s", job.dir)}
		}
	}
	if err := guardSizes(c, jobs, maxBytes); err != nil {
		return err
	}
	if len(jobs) > 1 {
		for _, job := range jobs {
			p, err := backup.Prepare(c.Context, job.open, backup.RestoreOptions{Database: string(job.name), Identities: job.ids, MaxBytes: job.guard.MaxBytes})
			if err == nil {
				p.Close()
			}
			if err != nil {
				return opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: "nothing was written; every database is unchanged"}
			}
		}
	}
	// Every database stays locked, the old one and then the new, until
	// the restore ends: a server started meanwhile must not open one that
	// is about to be replaced, or serve a restore that stopped halfway.
	locks, err := lockAll(jobs)
	if err != nil {
		return err
	}
	defer locks.release()
	var done []kv.Name
	var asides []setAside
	defer func() { printUndoWipe(c, asides) }()
	for _, job := range jobs {
		aside, err := wipeOne(c, job, stamp, done, locks)
		if aside != "" {
			asides = append(asides, setAside{dir: job.dir, aside: aside})
		}
		if err != nil {
			return err
		}
		done = append(done, job.name)
	}
	return nil
}

// wipeOne wipes and restores one database; it returns where the previous
// one was set aside ("" when it was discarded or nothing was swapped).
func wipeOne(c *cli.Context, job restoreJob, stamp time.Time, done []kv.Name, locks *heldDirs) (string, error) {
	bar := newProgress(c.App.ErrWriter, "restore "+string(job.name), 0)
	opts := backup.WipeOptions{
		RestoreOptions:  backup.RestoreOptions{Database: string(job.name), Progress: bar.update, Identities: job.ids},
		DiscardPrevious: c.Bool("discard-previous"),
		Stamp:           stamp,
		Hold:            locks.hold,
		KeepStreams:     job.keepStreams,
	}
	res, err := backup.WipeFrom(c.Context, job.dir, job.open, opts)
	bar.finish()
	if err != nil {
		safe := alreadyDone(done, fmt.Sprintf("nothing was swapped in; %s is unchanged", job.dir))
		if res.SetAside != "" {
			safe = alreadyDone(done, fmt.Sprintf("the previous %s database is at %s", job.name, res.SetAside))
		}
		return "", opError{op: "restore", err: fmt.Errorf("%s: %w", job.file, err), safe: safe}
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	printRestored(c, job, res, "wiped and restored")
	if res.SetAside != "" {
		fmt.Fprintf(c.App.ErrWriter, "previous %s database kept at %s\n", job.name, res.SetAside)
	}
	return res.SetAside, nil
}

func dirFlagName(n kv.Name) string {
	if n == kv.Logs {
		return "log-dir"
	}
	return string(n) + "-dir"
}

// partialMerge says what a merge that stopped after writing left behind:
// how many keys, that the database holds part of the backup (its marker
// says so until it is resolved), and the two ways out.
func partialMerge(job restoreJob, res backup.Result, total uint64, err error, done []kv.Name, undo string) error {
	what := fmt.Errorf("%s: %w", job.file, err)
	if errors.Is(err, context.Canceled) {
		what = fmt.Errorf("interrupted: the merge of %s stopped at a batch boundary", job.file)
	}
	safe := fmt.Sprintf("%d of the backup's %d keys were written: the %s database at %s holds part of the backup "+
		"(the marker %s says so until the merge is run again to its end, or undone)",
		res.Written, total, job.name, job.dir, backup.MarkerPath(job.dir))
	if len(done) > 0 {
		safe = fmt.Sprintf("%s were already restored; %s", joinNames(done), safe)
	}
	if undo == "" {
		undo = "no safety snapshot was taken (--no-safety-snapshot): restore an earlier restore-verified set with --wipe"
	}
	return opError{op: "restore", err: what, safe: safe,
		next: "either run the same command again to finish the merge, or undo it: " + undo}
}
