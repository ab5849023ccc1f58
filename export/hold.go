package export

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// How each door holds the databases an import writes, and how it tells a
// person to undo an import.

// DatabaseError is a database an offline import could not hold: in use by
// a running server, unreadable. Nothing was written.
type DatabaseError struct {
	Name kv.Name
	Dir  string
	Err  error
}

func (e *DatabaseError) Error() string {
	return fmt.Sprintf("open %s database at %s: %v", e.Name, e.Dir, e.Err)
}
func (e *DatabaseError) Unwrap() error { return e.Err }

// HoldDirs holds the databases of a stopped server in dirs, as a restore
// does: each directory locked (kv.LockDir), then opened. A dry run opens
// existing databases read-only and stands in an empty in-memory database
// for a missing one, so it creates nothing.
func HoldDirs(dirs kv.Dirs, dryRun bool) Holder {
	return func(_ context.Context, names []kv.Name) (map[kv.Name]*badger.DB, func(), error) {
		return holdEach(names, func(n kv.Name) (*badger.DB, func(), error) {
			db, release, err := holdDir(dirs.Of(n), dryRun)
			if err != nil {
				return nil, nil, &DatabaseError{Name: n, Dir: dirs.Of(n), Err: err}
			}
			return db, release, nil
		})
	}
}

// HoldEach holds each database with acquire (a running server's hold on
// its open databases).
func HoldEach(acquire func(kv.Name) (*badger.DB, func(), error)) Holder {
	return func(_ context.Context, names []kv.Name) (map[kv.Name]*badger.DB, func(), error) {
		return holdEach(names, acquire)
	}
}

func holdEach(names []kv.Name, acquire func(kv.Name) (*badger.DB, func(), error)) (map[kv.Name]*badger.DB, func(), error) {
	dbs := map[kv.Name]*badger.DB{}
	var releases []func()
	releaseAll := func() {
		for i := len(releases) - 1; i >= 0; i-- {
			releases[i]()
		}
	}
	for _, n := range names {
		db, release, err := acquire(n)
		if err != nil {
			releaseAll()
			return nil, nil, err
		}
		dbs[n] = db
		releases = append(releases, release)
	}
	return dbs, releaseAll, nil
}

func holdDir(dir string, dryRun bool) (*badger.DB, func(), error) {
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

// OfflineUndo writes the command that puts databases back from a safety
// copy in the catalog at catalogDir into dirs, the server stopped.
func OfflineUndo(catalogDir string, dirs kv.Dirs) func(string, []kv.Name) string {
	return func(set string, names []kv.Name) string {
		undo := fmt.Sprintf("flowg admin restore --backup-dir %s --set %s --only %s --wipe", catalogDir, set, joinNames(names))
		undo = strings.ReplaceAll(undo, ", ", ",")
		for _, n := range names {
			undo += fmt.Sprintf(" --%s %s", dirFlag(n), dirs.Of(n))
		}
		return undo
	}
}

// OnlineUndo writes how to put databases back from a safety copy in a
// running server's catalog at catalogDir: through the API, or offline.
func OnlineUndo(catalogDir string) func(string, []kv.Name) string {
	return func(set string, names []kv.Name) string {
		only := strings.ReplaceAll(joinNames(names), ", ", ",")
		return fmt.Sprintf("the safety snapshot %s (on the server) holds the %s database as it was: "+
			"restore it with POST /api/v1/backups/%s/restore?wipe=true (`flowg backups restore --wipe %s`), "+
			"or stop the server and run `flowg admin restore --backup-dir %s --set %s --only %s --wipe`",
			set, joinNames(names), set, set, catalogDir, set, only)
	}
}

// dirFlag is the flag of the directory of database n.
func dirFlag(n kv.Name) string {
	if n == kv.Logs {
		return "log-dir"
	}
	return string(n) + "-dir"
}

// setLocation is where set id of the catalog at dir is.
func setLocation(dir, id string) string {
	if strings.Contains(dir, "://") {
		return strings.TrimRight(dir, "/") + "/" + id
	}
	return filepath.Join(dir, id)
}
