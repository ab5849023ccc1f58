package httpapi

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
)

// The dry run of both restore routes (?dry_run=true): the file is checked
// whole, with the same limits as a restore, and compared with the database
// by backup.PlanFrom, the plan `flowg admin restore --dry-run` prints.
// Nothing is written: no safety snapshot, no merge, no wipe.

// dryRunFromFile plans the restore of database name from the file stage
// gives and answers what it would add, overwrite and (with wipe) remove.
func (s *Server) dryRunFromFile(c echo.Context, name kv.Name, p restoreParams, stage func() (*restoreSource, error)) (restore.Result, error) {
	start := time.Now()
	reply := restore.Result{Database: string(name), Mode: p.mode(), DryRun: true, Warnings: []string{}}
	if p.wipe {
		if err := s.checkWipeable(name); err != nil {
			return reply, err
		}
	}
	src, err := stage()
	if err != nil {
		return reply, err
	}
	if src.cleanup != nil {
		defer src.cleanup()
	}
	ctx, cancel := s.opContext(c.Request().Context())
	defer cancel()
	guard := s.sizeGuard(name)
	if err := guard.CheckFile(ctx, src.open); err != nil {
		return reply, err
	}
	db, release, err := s.acquire(name)
	if err != nil {
		return reply, err
	}
	defer release()
	plan, err := backup.PlanFrom(ctx, db, src.open, backup.RestoreOptions{Database: string(name), TmpDir: s.opts.UploadDir, MaxBytes: guard.MaxBytes})
	if err == nil && src.sha256 != "" && plan.File.SHA256 != "" && plan.File.SHA256 != src.sha256 {
		err = fmt.Errorf("%w: %s: its SHA-256 differs from the one the set's manifest records", backup.ErrChecksum, src.fileName)
	}
	if err == nil {
		err = guard.Check(plan.File.Bytes)
	}
	if err != nil {
		return reply, refusal(c, src, err)
	}
	reply.File = restore.File{Name: src.fileName, ServerFile: src.serverFile, Format: string(backup.FormatFlowg), Bytes: src.size, Keys: plan.File.Keys, SHA256: plan.File.SHA256}
	if plan.Header.Raw {
		reply.File.Format = string(backup.FormatBadger)
	}
	reply.Warnings = append(reply.Warnings, plan.Warn...)
	reply.Plan = &plan
	reply.Duration = time.Since(start).Round(time.Millisecond).String()
	s.log.Info("restore dry run", "request_id", requestID(c), "database", name, "mode", reply.Mode, "user", principalOf(c).User,
		"set", src.set, "added", plan.Added, "overwritten", plan.Changed, "removed_by_wipe", plan.Removed)
	return reply, nil
}
