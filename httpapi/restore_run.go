package httpapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// What an import (import.go) shares with the restores: it runs as one of
// its database's restores and takes the same safety snapshot first. The
// restores themselves go through the restore use case (runRestore); this
// stays until the import moves below the door too.

// beginRestore marks a restore of n as running: a 409 if one already is.
func (s *Server) beginRestore(n kv.Name) (func(), error) {
	end, err := s.store.BeginRestore(n)
	if err != nil {
		if errors.Is(err, kv.ErrBusy) {
			return nil, busy(n, err)
		}
		return nil, err
	}
	return end, nil
}

// restoreRun is one import of one database in progress.
type restoreRun struct {
	s     *Server
	c     echo.Context
	name  kv.Name
	p     restoreParams
	user  string
	reply restore.Result
}

// safetySnapshot writes db, as it is now, to a pre_restore set of the
// backup catalog and records it in the reply; with no_safety_snapshot it
// writes nothing.
func (r *restoreRun) safetySnapshot(ctx context.Context, db *badger.DB) error {
	if r.p.noSnapshot {
		return nil
	}
	m, err := r.s.catalog.cat.Create(ctx, []backup.Source{{Name: string(r.name), DB: db}}, backup.SetOptions{
		Trigger: backup.TriggerPreRestore, By: r.user, WriteOptions: backup.WriteOptions{ToolVersion: r.s.opts.Version},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internal("the safety snapshot could not be written, so the restore did not start", fmt.Sprintf(
			"nothing was changed; free space in the backup catalog %s or fix its permissions (flowg serve --backup-dir)", r.s.catalog.cat.Dir()), err)
	}
	r.reply.SafetySnapshot, r.reply.SafetySnapshotDir = m.ID, r.s.setLocation(m.ID)
	return nil
}

// undo says how to undo the import (aside: never, an import merges).
func (r *restoreRun) undo(string) string {
	var u restore.Undo
	if id := r.reply.SafetySnapshot; id != "" {
		u.Snapshots = []restore.Snapshot{{Database: r.name, Set: id}}
	}
	return r.s.undoText(u)
}
