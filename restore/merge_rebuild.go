package restore

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// An offline merge into a database that holds keys is, when it can be,
// rebuilt beside it (backup.BuildMerged: the database and the file read
// side by side into a new database) and swapped in, as a wipe is: a merge
// through Badger's write path grew the process with the data, to 5.8 GiB
// for 10M records, where the rebuild stays at a wipe's 200-odd MiB. The
// previous directory is deleted once the new one is in place (the safety
// snapshot is the merge's undo, as it is for a merge in place).

// NoteRebuiltBeside is the note of a merge rebuilt beside its database.
const NoteRebuiltBeside = "merged beside the database into a new one, swapped in"

// rebuildsBeside reports whether the merge of a file of logical bytes into
// the database in dir is rebuilt beside it, or else why it is merged in
// place: the swap must be able to replace the directory, which must hold
// only the database's files (the previous directory is deleted), and its
// disk must hold a copy of the database besides the records.
func rebuildsBeside(dir string, logical uint64) (bool, string) {
	if why := notReplaceable(dir); why != "" {
		return false, why
	}
	held, err := kv.FilesSize(dir)
	if err != nil {
		return false, err.Error()
	}
	if err := (backup.SizeGuard{Dir: dir, Beside: held}).Check(logical); err != nil {
		return false, fmt.Sprintf("a copy of the database beside it does not fit (%v)", err)
	}
	return true, ""
}

// notReplaceable says why the database directory dir cannot be replaced
// whole by one built beside it and swapped in, the previous one deleted
// ("" when it can): it must be a plain directory (not a symbolic link,
// which the swap would replace), not a mount point (which cannot be
// renamed), and hold only Badger's and flowg's files.
func notReplaceable(dir string) string {
	st, err := os.Lstat(dir)
	switch {
	case err != nil || !st.IsDir():
		return fmt.Sprintf("%s is not a plain directory", dir)
	case kv.IsMountPoint(dir):
		return fmt.Sprintf("%s is a mount point, which cannot be swapped", dir)
	case !kv.OnlyDatabaseFiles(dir):
		return fmt.Sprintf("%s holds files that are not the database's", dir)
	}
	return ""
}

// mergeRebuilt merges the i-th source into its database by rebuilding it
// beside the database, then swapping it in; the keys of a restore to an
// instant deleted since its base set are left out of the new database. A
// file checkAll did not read whole is read once, checked as it is read.
func (r *Restore) mergeRebuilt(ctx context.Context, src Source, i int, checked *checkedFiles, logical uint64, res Result, out *Outcome) (Result, error) {
	dir := r.t.Dir(src.Database)
	if r.opts.OnBulkLoad != nil {
		r.opts.OnBulkLoad() // a rebuild streams, as a wipe does
	}
	update, done := r.progress(src.Database, logical)
	var built backup.MergeBuild
	aside, err := r.t.Wipe(ctx, src.Database, func(ctx context.Context, _ *badger.DB, staged string) error {
		into := backup.MergeInto{From: dir, Staged: staged, Drop: src.Deleted, Progress: update}
		var err error
		if p := checked.prepared[i]; p != nil {
			built, err = p.BuildMerged(ctx, into)
		} else {
			built, err = backup.BuildMergedFrom(ctx, src.Open, r.checkOptions(src, checked.revived), src.SHA256, into)
		}
		return err
	})
	done()
	res.Written, res.ExpiredSkipped = built.Written, built.Expired
	res.Duration = built.Duration.Round(time.Millisecond).String()
	res.Warnings = append(res.Warnings, built.Warnings...)
	if res.File.Keys == 0 && res.File.SHA256 == "" {
		describeFile(&res, built.Header, built.File)
	}
	if src.Database != kv.Logs {
		added := built.Added
		res.Added = &added
	}
	if err != nil {
		f := &Failure{Step: StepWrite, Database: src.Database, Source: src.Shown, Set: src.Set, Total: built.File.Keys, Err: err}
		if aside != "" {
			f.Step, f.SetAside = StepSwap, aside
		}
		return res, f
	}
	if err := os.RemoveAll(aside); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the database directory before the merge, set aside at %s, could not be deleted: %v", aside, err))
	}
	if err := backup.EndMerge(dir, built.File.SHA256); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
	res.Notes = append(res.Notes, fmt.Sprintf("%s; kept the %d keys it held that the backup lacks", NoteRebuiltBeside, built.Kept))
	if src.Instant != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("%d keys deleted before the instant removed", built.Dropped))
		if out.Deleted == nil {
			out.Deleted = map[kv.Name]int{}
		}
		out.Deleted[src.Database] = int(built.Dropped)
	}
	return res, nil
}
