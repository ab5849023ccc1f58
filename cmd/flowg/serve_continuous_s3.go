package main

import (
	"path/filepath"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// defaultJournalStagingName is the staging directory of the journal's
// segments for an s3:// catalog, beside the databases' directories, when
// --backup-continuous-staging-dir is not given.
const defaultJournalStagingName = "journal-staging"

// journalStaging is how segments wait on local disk for an s3:// catalog.
type journalStaging struct {
	dir       string
	maxStaged int64
	lease     time.Duration
}

// stagingFrom reads the flags of continuous backup to an s3:// catalog:
// nil for a local catalog (they are then a usage error).
func stagingFrom(c *cli.Context) (*journalStaging, error) {
	if !backup.IsS3URL(c.String("backup-dir")) {
		for _, name := range []string{"backup-continuous-staging-dir", "backup-continuous-max-staged", "backup-continuous-lease"} {
			if c.IsSet(name) {
				return nil, usagef("--%s is for an s3:// --backup-dir: a local catalog's journal is written into it directly", name)
			}
		}
		return nil, nil
	}
	maxStaged, err := humanize.ParseBytes(c.String("backup-continuous-max-staged"))
	if err != nil || maxStaged < 1<<20 || maxStaged > 1<<40 {
		return nil, usagef("--backup-continuous-max-staged %q: give a size between 1MiB and 1TiB, such as 1GiB", c.String("backup-continuous-max-staged"))
	}
	lease := c.Duration("backup-continuous-lease")
	if lease < 3*time.Second || lease > time.Hour {
		return nil, usagef("--backup-continuous-lease %s: give a duration between 3s and 1h, such as 30s", lease)
	}
	dir := c.String("backup-continuous-staging-dir")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(filepath.Clean(c.String("auth-dir"))), defaultJournalStagingName)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, usagef("--backup-continuous-staging-dir: %v", err)
	}
	return &journalStaging{dir: abs, maxStaged: int64(maxStaged), lease: lease}, nil
}
