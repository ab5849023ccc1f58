package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/drill"
	"github.com/urfave/cli/v2"
)

// drillFlags are the flags of serve for scheduled restore drills.
func drillFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "backup-drill", Usage: `run a restore drill of the newest restore-verified set on this cron schedule ("0 4 * * 0", or "@every 24h"); none when empty (see flowg admin drill)`, EnvVars: []string{"FLOWG_BACKUP_DRILL"}},
		&cli.StringFlag{Name: "backup-drill-work-dir", Usage: "where a scheduled drill restores its scratch copy; it needs room for the databases (default: the system temp dir)"},
	}
}

// drillPlan is what the drill flags of serve ask for.
type drillPlan struct {
	schedule string // "" for none
	workDir  string
}

// drillPlanFrom reads and checks the drill flags: a schedule that does not
// parse is a usage error, found before anything is opened.
func drillPlanFrom(c *cli.Context) (drillPlan, error) {
	p := drillPlan{schedule: strings.TrimSpace(c.String("backup-drill")), workDir: c.String("backup-drill-work-dir")}
	if p.schedule == "" {
		if p.workDir != "" {
			return p, usagef("--backup-drill-work-dir is for scheduled drills: give --backup-drill too (e.g. \"0 4 * * 0\")")
		}
		return p, nil
	}
	if _, err := backup.ParseSchedule(p.schedule); err != nil {
		return p, usagef("--backup-drill: %v", err)
	}
	return p, nil
}

// startDrillSchedule starts running restore drills of cat on the plan's
// schedule, nil when there is none. Each drill is logged with its set,
// RTO, RPO and result, and recorded in the catalog (which the metrics
// read); the caller stops the scheduler before the server.
func startDrillSchedule(cat *backup.Catalog, plan drillPlan, logger *slog.Logger) (*backup.Scheduler, error) {
	if plan.schedule == "" {
		return nil, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the flowg executable for --backup-drill: %w", err)
	}
	log := logger.With("job", "drill")
	job := func(ctx context.Context) error {
		rec, err := drill.Run(ctx, cat, drill.Options{WorkDir: plan.workDir, Executable: exe, Trigger: backup.TriggerScheduled})
		log.Info("restore drill", "set", rec.Set, "result", rec.Result, "rto_seconds", rec.RTOSeconds,
			"rpo_seconds", rec.RPOSeconds, "error", rec.Error)
		return err
	}
	sched, err := backup.NewScheduler(plan.schedule, job, log)
	if err != nil {
		return nil, err
	}
	sched.Named("drill").Start()
	logger.Info("drill schedule started", "schedule", plan.schedule, "next", sched.Next(time.Now()).Format(time.RFC3339))
	return sched, nil
}
