package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// `flowg backups download`: the files of a restore-verified set into a
// directory, through downloadAll (client_download.go).

func clientBackupsDownload(c *cli.Context) error {
	only, err := onlyGiven(c)
	if err != nil {
		return err
	}
	dir, api, err := backupDirAndClient(c, "name the directory to write into with --backup-dir")
	if err != nil {
		return err
	}
	set, names, err := chooseVerifiedSet(c, api, "download", only)
	if err != nil {
		return err
	}
	safe := downloadSafe(dir)
	if set.Parent != "" {
		return opError{op: "download", err: fmt.Errorf("set %s is incremental (built on set %s): its files hold only the changes since", set.ID, set.Parent),
			safe: safe, next: "download a full set, or restore this one on the server with `flowg backups restore`, which rebuilds its chain"}
	}
	if !setHolds(set, names) {
		return opError{op: "download", err: fmt.Errorf("set %s holds %s, not %s", set.ID, strings.Join(setDBNames(set), ", "), joinNames(names)),
			safe: safe, next: "download the databases it holds (--only), or pick another set"}
	}
	if len(names) == 0 {
		return opError{op: "download", err: fmt.Errorf("set %s holds no database file (%s)", set.ID, setLabelText(set)), safe: safe}
	}
	start := time.Now()
	sources := make([]downloadSource, len(names))
	for i, name := range names {
		sources[i] = setFile(&set, name)
	}
	done, err := downloadAll(c, api, "download", dir, sources)
	if err != nil {
		return err
	}
	printDownloads(c, dir, done)
	fmt.Fprintf(c.App.ErrWriter, "set %s (%s) downloaded from %s into %s in %s\n", set.ID, set.Label, api.server, dir, shortDuration(time.Since(start)))
	return nil
}
