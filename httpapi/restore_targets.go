package httpapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/restore"
)

// The server's side of the restore use case: its held databases as
// restore targets (restore.Served: the gate, 503 during a wipe), the
// options of its restores, and how their undo is worded for its users.

// servedTargets are the server's databases for one restore.
func (s *Server) servedTargets() *restore.Served {
	return &restore.Served{
		Store:   s.store,
		Busy:    busy,
		Acquire: s.acquire,
		WriteContext: func(ctx context.Context) (context.Context, context.CancelFunc) {
			// A client that goes away must not cut a merge short: once
			// writing begins it runs to the end unless the server stops.
			return s.opContext(context.WithoutCancel(ctx))
		},
		BeforeWrite: s.opts.BeforeRestoreWrite,
		UndoText:    s.undoText,
		Location:    s.setLocation,
	}
}

// restoreOptions are the options of every restore the server runs.
func (s *Server) restoreOptions(c echo.Context) restore.Options {
	return restore.Options{Catalog: s.catalog.cat, By: principalOf(c).User, ToolVersion: s.opts.Version, TmpDir: s.opts.UploadDir,
		MaxBytes: s.opts.MaxRestoreBytes, MaxSafetyCopies: s.opts.MaxSafetyCopies}
}

// undoText says how to undo a restore: restore the safety snapshot, or put
// back the previous database directory aside.
func (s *Server) undoText(u restore.Undo) string {
	var ways []string
	for _, sn := range u.Snapshots {
		id := sn.Set
		ways = append(ways, fmt.Sprintf("the safety snapshot %s (on the server) holds the %s database as it was: "+
			"restore it with POST /api/v1/backups/%s/restore?wipe=true (`flowg backups restore --wipe %s`), "+
			"or stop the server and run `flowg admin restore --backup-dir %s --set %s --only %s --wipe`",
			id, sn.Database, id, id, s.catalog.cat.Dir(), id, sn.Database))
	}
	for _, a := range u.Asides {
		ways = append(ways, fmt.Sprintf("the previous database directory is kept on the server at %s", a.Previous))
	}
	if len(ways) == 0 {
		return "no safety copy was kept (no_safety_snapshot / discard_previous): restore an earlier restore-verified set from GET /api/v1/backups to go back"
	}
	return strings.Join(ways, "; ")
}
