package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/operations"
)

// The flags of flowg serve for the console's API: the history of operations
// and the download links.

func opsAPIFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "operations-keep", Value: operations.DefaultKeep, Usage: "how many records of backups, verifies and restores the history (GET /api/v1/operations, kept in the backup catalog) holds; older ones are deleted as new ones are written"},
		&cli.DurationFlag{Name: "download-link-ttl", Value: httpapi.DefaultDownloadLinkTTL, Usage: "how long a single-use download link (POST /api/v1/backups/ID/DB/link) works"},
		&cli.IntFlag{Name: "max-download-links", Value: httpapi.DefaultMaxDownloadLinks, Usage: "download links made and not yet used nor expired the server keeps at most; more get 429 with Retry-After"},
		&cli.IntFlag{Name: "max-download-links-per-user", Value: httpapi.DefaultMaxDownloadLinksPerUser, Usage: "download links not yet used nor expired one user may hold, so that one user cannot take all of --max-download-links; more get 429 with Retry-After"},
	}
}

// opsAPIOptions are the server options those flags set.
type opsAPIOptions struct {
	operationsKeep   int
	downloadLinkTTL  time.Duration
	maxDownloadLinks int

	maxDownloadLinksPerUser int
}

// opsAPIOptionsFrom reads and checks the flags of opsAPIFlags.
func opsAPIOptionsFrom(c *cli.Context) (opsAPIOptions, error) {
	o := opsAPIOptions{operationsKeep: c.Int("operations-keep"), downloadLinkTTL: c.Duration("download-link-ttl"),
		maxDownloadLinks: c.Int("max-download-links"), maxDownloadLinksPerUser: c.Int("max-download-links-per-user")}
	if o.operationsKeep < 1 {
		return o, usagef("--operations-keep %d: give how many operation records the history keeps, at least 1", o.operationsKeep)
	}
	if o.downloadLinkTTL < time.Second || o.downloadLinkTTL > 24*time.Hour {
		return o, usagef("--download-link-ttl %s: give how long a download link works, from 1s to 24h (e.g. 60s)", o.downloadLinkTTL)
	}
	if o.maxDownloadLinks < 1 {
		return o, usagef("--max-download-links %d: give how many unused download links the server keeps, at least 1", o.maxDownloadLinks)
	}
	if o.maxDownloadLinksPerUser < 1 {
		return o, usagef("--max-download-links-per-user %d: give how many unused download links one user may hold, at least 1", o.maxDownloadLinksPerUser)
	}
	return o, nil
}
