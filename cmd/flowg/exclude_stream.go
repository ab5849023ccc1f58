package main

import (
	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// --exclude-stream (admin backup, admin backups create) and
// --backup-exclude-stream (serve): streams left out of backups. It is the
// operator's configuration, never a parameter of the API.

func excludeStreamFlag(name string) cli.Flag {
	return &cli.StringSliceFlag{Name: name, Usage: "leave the records and configuration of the streams matching this glob (path.Match: 'debug', 'trace-*') out of the logs backup; repeatable; recorded in the manifest (excluded_streams)"}
}

// excludeStreamsFrom reads flag name and checks its globs.
func excludeStreamsFrom(c *cli.Context, name string) ([]string, error) {
	patterns := c.StringSlice(name)
	if err := backup.CheckExcludeStreams(patterns); err != nil {
		return nil, usagef("--%s: %v", name, err)
	}
	return patterns, nil
}
