package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Planning: which file restores which database, found before anything is
// written — in a backup directory (its manifest's checksums), a set of a
// catalog (an incremental set rebuilt from its chain), or the state at an
// instant of the catalog's journal.

// Ambiguous is a backup directory holding two files for one database
// (log.db and logs.db) and no manifest saying which is its backup.
type Ambiguous struct {
	Dir      string
	Database kv.Name
	Files    []string
}

func (e *Ambiguous) Error() string {
	return fmt.Sprintf("%s holds both %s, and no manifest.json says which is the backup of %s", e.Dir, strings.Join(e.Files, " and "), e.Database)
}

// PlanDir finds each database's file in the backup directory dir and, when
// it has a manifest, checks the file against the SHA-256 it records (as
// stored, or of the flowg file inside once decrypted with ids).
func PlanDir(ctx context.Context, dir string, names []kv.Name, ids []age.Identity) (Sources, error) {
	manifest, err := backup.ReadManifest(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var sources Sources
	for _, name := range names {
		if found := backup.FoundFiles(dir, string(name)); len(found) > 1 && manifest.Databases == nil {
			return nil, &Ambiguous{Dir: dir, Database: name, Files: found}
		}
		file, err := backup.FindFile(dir, string(name))
		if err != nil {
			return nil, err
		}
		// The manifest's SHA-256 catches a file swapped for another
		// backup's, and is the only check a raw Badger file gets.
		if manifest.Databases != nil {
			if err := manifest.MatchFile(ctx, string(name), file, ids); err != nil {
				// Say what is wrong with the file itself, when something is.
				opts := backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(name)}, Identities: ids}
				if _, _, verr := backup.VerifyFile(ctx, file, opts); verr != nil {
					err = verr
				}
				return nil, fmt.Errorf("%s: %w", file, err)
			}
		}
		var size int64
		if st, err := os.Stat(file); err == nil {
			size = st.Size()
		}
		sources = append(sources, Source{Database: name, Shown: file, FileName: filepath.Base(file), Open: backup.FileOpener(file),
			Bytes: size, Identities: ids, KeepStreams: manifest.Databases[string(name)].ExcludedStreams})
	}
	return sources, nil
}

// PickSet returns the set id names (it must be restore-verified or
// created), else the one backup.PickRestoreSet picks for names.
func PickSet(ctx context.Context, cat *backup.Catalog, id string, names []kv.Name) (backup.SetChoice, error) {
	if id != "" {
		info, err := cat.Get(ctx, id)
		if err != nil {
			return backup.SetChoice{}, err
		}
		if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
			return backup.SetChoice{}, fmt.Errorf("%w: set %s is %s: %s", backup.ErrSetUnusable, id, info.Label, info.Problem)
		}
		return backup.SetChoice{Set: info}, nil
	}
	sets, err := cat.List(ctx)
	if err != nil {
		return backup.SetChoice{}, err
	}
	strs := make([]string, len(names))
	for i, n := range names {
		strs[i] = string(n)
	}
	return backup.PickRestoreSet(sets, strs, cat.Dir())
}

// PlanSet opens each database of set info as it holds it: its file, or
// for an incremental set the state rebuilt from its chain (in tmpDir). A
// full set's file must have the SHA-256 its manifest records.
func PlanSet(ctx context.Context, cat *backup.Catalog, info backup.SetInfo, names []kv.Name, tmpDir string) (Sources, error) {
	var sources Sources
	for _, n := range names {
		entry := info.Databases[string(n)]
		open, cleanup, err := cat.Restorable(ctx, info.ID, string(n), tmpDir)
		if err != nil {
			sources.Close()
			return nil, &SetError{Set: info.ID, Database: n, Err: err}
		}
		want := entry.SHA256
		if entry.Encrypted {
			want = entry.PlainSHA256
		}
		if info.Parent != "" {
			want = "" // rebuilt from the chain, whose links were checked
		}
		file := backup.FileName(string(n))
		if entry.File != "" {
			file = filepath.Base(entry.File)
		}
		sources = append(sources, Source{Database: n, Shown: strings.TrimSuffix(cat.Dir(), "/") + "/" + info.ID + "/" + file,
			FileName: file, Open: open, Bytes: entry.Bytes, SHA256: want, Set: info.ID, Cleanup: cleanup, KeepStreams: entry.ExcludedStreams})
	}
	return sources, nil
}

// SetError is a database of a set that cannot be opened for a restore.
type SetError struct {
	Set      string
	Database kv.Name
	Err      error
}

func (e *SetError) Error() string { return e.Err.Error() }
func (e *SetError) Unwrap() error { return e.Err }

// PlanAt rebuilds each database as it was at the instant of req (a set
// and the journal after it, in tmpDir), before anything is written. The
// streams its base set left out (--exclude-stream) are kept by a wipe.
func PlanAt(ctx context.Context, cat *backup.Catalog, req Request, tmpDir string) (Sources, error) {
	return planAt(ctx, cat, req, tmpDir, func(kv.Name) string { return "" })
}

// planAt is PlanAt, each database rebuilt at the directory beside gives
// it, or under tmpDir when that is "".
func planAt(ctx context.Context, cat *backup.Catalog, req Request, tmpDir string, beside func(kv.Name) string) (Sources, error) {
	var sources Sources
	for _, n := range req.Databases {
		rebuilt, pit, err := cat.RebuildAt(ctx, string(n), req.AtTime, req.AtLatest, tmpDir, beside(n))
		if err != nil {
			sources.Close()
			return nil, err
		}
		// The streams the base set left out are left out of its journal
		// too: a wipe keeps their current data, as a wipe from the set does.
		var keep []string
		if base, err := cat.Get(ctx, pit.BaseSet); err == nil {
			keep = base.Databases[string(n)].ExcludedStreams
		}
		instant := pit.Instant.Format(time.RFC3339Nano)
		deleted := pit.Deleted
		pit.Deleted = nil
		sources = append(sources, Source{Database: n, Shown: fmt.Sprintf("the journal of %s at %s", cat.Dir(), instant),
			FileName: fmt.Sprintf("%s at %s", backup.FileName(string(n)), instant), Open: rebuilt.Opener(), Set: pit.BaseSet,
			Cleanup: rebuilt.Cleanup, Instant: &pit, Deleted: deleted, KeepStreams: keep, Rebuilt: rebuilt})
	}
	return sources, nil
}
