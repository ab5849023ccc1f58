package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
)

func clientBackupCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "backup",
		Usage:     "download and verify backups of a running server's databases into a directory",
		UsageText: "flowg backup [--server URL] [--token TOKEN] --backup-dir DIR [--only auth,config,logs]",
		Description: `Downloads each database from GET /api/v1/backup/{auth,config,logs} into a
temporary 0600 file in DIR (created 0700), checks every checksum as it arrives,
then verifies the whole file by loading it into a scratch in-memory database.
Only when every download verified are the files renamed into place as
DIR/auth.db, DIR/config.db and DIR/log.db and DIR/manifest.json written, so a
failed run leaves an earlier backup in DIR intact; a DIR the failed run created
(and any parent it created) is removed again while empty, one that existed is
never removed. The server keeps serving and nothing on it is changed. DIR is
laid out as 'flowg admin backup' lays it out: 'flowg restore' and 'flowg admin
restore' read it.

The token (--token or FLOWG_TOKEN) needs, per database:
   auth    read_acls
   config  read_pipelines, read_transformers, read_alerts
   logs    read_streams

Examples:
   export FLOWG_TOKEN=$(flowg admin token create --auth-dir ./data/auth --user root)   # server stopped
   flowg backup --server http://localhost:5080 --backup-dir ./backup
   flowg backup --server https://flowg.example.com --backup-dir /mnt/backups/flowg --only logs,config
   flowg backup --server https://flowg.internal:5443 --ca-cert ./ca.pem --backup-dir ./backup   # a private CA
   flowg admin verify --backup-dir ./backup`,
		Flags: []cli.Flag{
			serverFlag(), caCertFlag(),
			tokenFlag(),
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory to write the backup files into (created 0700)"},
			onlyFlag(),
		},
		Action: clientBackup,
	})
}

// clientBackup downloads the backups the server streams now into
// --backup-dir, each verified before any moves into place (downloadAll).
func clientBackup(c *cli.Context) error {
	names, err := namesWithoutArgs(c)
	if err != nil {
		return err
	}
	dir, api, err := backupDirAndClient(c, "name the directory to write into with --backup-dir")
	if err != nil {
		return err
	}
	start := time.Now()
	sources := make([]downloadSource, len(names))
	for i, name := range names {
		sources[i] = serverBackup(name)
	}
	done, err := downloadAll(c, api, "backup", dir, sources)
	if err != nil {
		return err
	}
	printDownloads(c, dir, done)
	fmt.Fprintf(c.App.ErrWriter, "backup of %s from %s complete and verified in %s\n", joinNames(names), api.server, shortDuration(time.Since(start)))
	return nil
}
