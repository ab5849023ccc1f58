package restore

import (
	"context"
	"path/filepath"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// The fast path of an offline restore to an instant: a database that is
// wiped, or restored into an empty directory, is rebuilt at the instant in
// a staging directory beside its own (so on its file system), and that
// rebuilt database is moved into place by the wipe's swap, rather than
// dumped and loaded a second time. Elsewhere (a merge into a database, a
// server's restore, a rename across file systems, a --max-bytes limit) the
// rebuilt database is read as a flowg file, as any other backup.

// NoteMovedIntoPlace is the note of a database restored by the fast path.
const NoteMovedIntoPlace = "rebuilt at the instant and moved into place"

// PlanAtInPlace is PlanAt for an offline restore into dirs: each database
// that is wiped, or restored into a directory holding no database, is
// rebuilt beside its directory (kv.SiblingName "at-staging"); the others,
// a dry run's, and those whose parent directory cannot be created, under
// tmpDir.
func PlanAtInPlace(ctx context.Context, cat *backup.Catalog, req Request, tmpDir string, dirs kv.Dirs) (Sources, error) {
	stamp := time.Now().UTC()
	return planAt(ctx, cat, req, tmpDir, func(n kv.Name) string {
		dir := dirs.Of(n)
		if req.DryRun || (!req.Wipe && kv.Exists(dir)) {
			return ""
		}
		// The restore creates the parent anyway, to lock the directory.
		if _, err := kv.MakeDirs(filepath.Dir(filepath.Clean(dir))); err != nil {
			return ""
		}
		return kv.SiblingName(dir, "at-staging", stamp)
	})
}

// movesIntoPlace reports whether src's rebuilt database is to be moved
// into place rather than read: an offline wipe, or a load into a directory
// holding no database (empty), with no --max-restore-size limit to check
// it against.
// Its file is then not read before the first write: the rebuild read the
// base set and every segment whole and checked them.
func (r *Restore) movesIntoPlace(src Source, empty bool) bool {
	return src.Rebuilt != nil && r.t.Traits().Exclusive && !r.t.Traits().WipeSnapshots && r.opts.MaxBytes == 0 &&
		(r.req.Wipe || empty)
}

// buildStaged builds src's database at staged, for a wipe or a load into
// an empty database (empty): its rebuilt database moved there when it can
// be, else loaded from its file.
func (r *Restore) buildStaged(ctx context.Context, staged string, src Source, empty bool, opts backup.RestoreOptions, res *Result) (backup.Result, error) {
	if r.movesIntoPlace(src, empty) {
		start := time.Now()
		moved, err := src.Rebuilt.MoveTo(staged)
		if err != nil {
			return backup.Result{}, err
		}
		if moved {
			res.Notes = append(res.Notes, NoteMovedIntoPlace)
			res.File.Keys = src.Rebuilt.Keys
			return backup.Result{Written: src.Rebuilt.Keys, Expired: src.Rebuilt.Expired, Duration: time.Since(start)}, nil
		}
	}
	return backup.BuildWipeFrom(ctx, staged, src.Open, opts)
}
