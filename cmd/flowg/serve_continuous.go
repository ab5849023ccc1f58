package main

import (
	"log/slog"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// The flags of serve that turn on continuous backup: every commit of each
// database captured and written to the catalog's journal, so `flowg admin
// restore --at TIME` restores any instant it covers.

func continuousFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "backup-continuous", Usage: "capture every commit into the journal of --backup-dir (a local directory or s3://), restorable to any instant with 'flowg admin restore --at'"},
		&cli.DurationFlag{Name: "backup-continuous-interval", Value: backup.DefaultContinuousInterval, Usage: "with --backup-continuous: write the captured commits as a journal segment this often (the most a crash loses)"},
		&cli.DurationFlag{Name: "backup-continuous-compact-after", Value: backup.DefaultContinuousCompactAfter, Usage: "with --backup-continuous: merge journal segments older than this into larger ones (up to an hour or 64 MiB each); 0 never"},
		&cli.StringFlag{Name: "backup-continuous-max-buffer", Value: "64MiB", Usage: "with --backup-continuous: bytes of commits held between two segments; past it the journal starts a new chain from a new set instead of slowing writes"},
		&cli.StringFlag{Name: "backup-continuous-staging-dir", Usage: "with --backup-continuous and an s3:// --backup-dir: where segments wait on local disk (0700) until the object store holds them, a directory of this server's own (default: " + defaultJournalStagingName + " beside the --auth-dir directory)"},
		&cli.StringFlag{Name: "backup-continuous-max-staged", Value: "1GiB", Usage: "with --backup-continuous and an s3:// --backup-dir: bytes of segments each database may keep staged while the object store is unreachable; past it the journal chain ends and a new one starts from a new set once the store is back"},
		&cli.DurationFlag{Name: "backup-continuous-lease", Value: backup.DefaultContinuousLease, Usage: "with --backup-continuous and an s3:// --backup-dir: term of this server's lease on the catalog's journal (renewed every third of it); a server that died without releasing it is replaced after it expires"},
	}
}

// continuousFrom reads the --backup-continuous* flags: nil options when
// continuous backup is off. Bad values are usage errors, found before
// anything is opened.
func continuousFrom(c *cli.Context) (*backup.ContinuousOptions, error) {
	interval := c.Duration("backup-continuous-interval")
	maxBuffer, err := humanize.ParseBytes(c.String("backup-continuous-max-buffer"))
	if err != nil || maxBuffer < 4<<10 || maxBuffer > 1<<40 {
		return nil, usagef("--backup-continuous-max-buffer %q: give a size between 4KiB and 1TiB, such as 64MiB", c.String("backup-continuous-max-buffer"))
	}
	if !c.Bool("backup-continuous") {
		for _, name := range []string{"backup-continuous-interval", "backup-continuous-max-buffer", "backup-continuous-compact-after",
			"backup-continuous-staging-dir", "backup-continuous-max-staged", "backup-continuous-lease"} {
			if c.IsSet(name) {
				return nil, usagef("--%s tunes continuous backup: add --backup-continuous", name)
			}
		}
		return nil, nil
	}
	staging, err := stagingFrom(c)
	if err != nil {
		return nil, err
	}
	if interval < 10*time.Millisecond || interval > time.Hour {
		return nil, usagef("--backup-continuous-interval %s: give a duration between 10ms and 1h, such as 1s", interval)
	}
	compactAfter := c.Duration("backup-continuous-compact-after")
	switch {
	case compactAfter == 0:
		compactAfter = -1 // never
	case compactAfter < time.Second:
		return nil, usagef("--backup-continuous-compact-after %s: give an age of at least 1s, such as 10m, or 0 to never merge segments", compactAfter)
	}
	opts := &backup.ContinuousOptions{Interval: interval, MaxBuffer: int64(maxBuffer), MaxChain: c.Int("backup-full-every"), CompactAfter: compactAfter, ToolVersion: version,
		ExcludeStreams: c.StringSlice("backup-exclude-stream")}
	if staging != nil {
		opts.StagingDir, opts.MaxStaged, opts.Lease = staging.dir, staging.maxStaged, staging.lease
	}
	return opts, nil
}

// startContinuous starts continuous backup of store into cat, before the
// server accepts writes (nil when it is off); stop ships the last commits
// and a watermark.
func startContinuous(c *cli.Context, opts *backup.ContinuousOptions, cat *backup.Catalog, store *kv.Store, logger *slog.Logger) (cont *backup.Continuous, stop func(), err error) {
	if opts == nil {
		return nil, func() {}, nil
	}
	opts.Logger = logger.With("job", "continuous-backup")
	cont, err = backup.StartContinuous(c.Context, cat, store, *opts)
	if err != nil {
		return nil, nil, opError{op: "serve", err: err, safe: "the databases were opened and closed; nothing was served",
			next: "give each server its own --backup-dir (and --backup-continuous-staging-dir), check the object store, or drop --backup-continuous"}
	}
	logger.Info("continuous backup started", "backup_dir", cat.Dir(), "interval", opts.Interval, "max_buffer", opts.MaxBuffer, "staging_dir", opts.StagingDir)
	return cont, func() {
		cont.Stop()
		logger.Info("continuous backup stopped: the last commits and a watermark were written")
	}, nil
}

// exposeContinuous adds the journal's lag metrics to the server's /metrics.
func exposeContinuous(srv *httpapi.Server, cont *backup.Continuous) error {
	if cont == nil {
		return nil
	}
	return srv.ExposeContinuous(cont.Status)
}
