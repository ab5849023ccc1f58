package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrSkipped is returned by Scheduler.Tick when the previous run is still going.
var ErrSkipped = errors.New("previous run still going; this run was skipped")

// ParseSchedule accepts a standard 5-field cron line ("0 2 * * *") or a
// descriptor ("@daily", "@every 6h").
func ParseSchedule(spec string) (cron.Schedule, error) {
	if d, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every"); ok {
		if every, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && every < time.Second {
			return nil, fmt.Errorf("schedule %q: the interval must be at least 1s", spec)
		}
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w (use 5 cron fields like \"0 2 * * *\", or \"@every 6h\")", spec, err)
	}
	return sched, nil
}

// Scheduler runs a job on a cron schedule, never two runs at once: a tick
// that comes while the previous run goes on is skipped and logged.
type Scheduler struct {
	cron     *cron.Cron
	schedule cron.Schedule
	job      func(ctx context.Context) error
	logger   *slog.Logger
	running  sync.Mutex
	ctx      context.Context
	cancel   context.CancelFunc
	what     string // names the job in log messages: "backup" unless Named
}

// NewScheduler prepares a scheduler; nothing runs before Start.
func NewScheduler(spec string, job func(ctx context.Context) error, logger *slog.Logger) (*Scheduler, error) {
	sched, err := ParseSchedule(spec)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{schedule: sched, job: job, logger: logger, ctx: ctx, cancel: cancel, what: "backup"}
	s.cron = cron.New()
	s.cron.Schedule(sched, cron.FuncJob(func() { _ = s.Tick() }))
	return s, nil
}

// Named makes the log messages call the job what ("scheduled drill done")
// instead of "backup"; call it before Start.
func (s *Scheduler) Named(what string) *Scheduler {
	s.what = what
	return s
}

// Next returns the first run time after t.
func (s *Scheduler) Next(t time.Time) time.Time { return s.schedule.Next(t) }

// Start starts running the job on schedule.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop cancels a run in progress, stops scheduling, and waits for the run
// to end: it returns as soon as the job heeds its ctx, not when the job
// would have finished on its own. No run starts after Stop.
func (s *Scheduler) Stop() {
	s.cancel()
	<-s.cron.Stop().Done()
	s.running.Lock()
	defer s.running.Unlock()
}

// Tick runs the job now unless a run is going on, in which case it returns
// ErrSkipped at once.
func (s *Scheduler) Tick() error {
	if !s.running.TryLock() {
		s.logger.Warn("scheduled " + s.what + " skipped: the previous run is still going")
		return ErrSkipped
	}
	defer s.running.Unlock()
	if s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	start := time.Now()
	err := s.job(s.ctx)
	if err != nil {
		s.logger.Error("scheduled "+s.what+" failed", "err", err, "duration", time.Since(start))
	} else {
		s.logger.Info("scheduled "+s.what+" done", "duration", time.Since(start))
	}
	return err
}
