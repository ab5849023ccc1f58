package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/flowg-backup/flowg/backup"
)

// What `flowg admin restore` prints: one line per database restored, the
// warnings of the restore, and the users and tokens a merge brought back.

// printRestored prints the line of one database: its figures, how it was
// restored from which file, and notes in parentheses.
func printRestored(w io.Writer, job restoreJob, res backup.Result, how string, notes ...string) {
	fmt.Fprintf(w, "%s  %s from %s", fileFigures(string(job.name), res.Written, uint64(res.File.FileBytes),
		shortDuration(res.Duration), res.File.SHA256), how, job.file)
	if res.Expired > 0 {
		notes = append(notes, countText(res.Expired, "expired record")+" skipped")
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
}

func printWarnings(w io.Writer, warnings []string) {
	for _, warning := range warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

// warnRevived warns that a merge of auth brought back users or tokens that
// the database no longer held (deleted or revoked since the backup).
func warnRevived(w io.Writer, revived map[string][]string) {
	kinds := make([]string, 0, len(revived))
	for kind := range revived {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		names := revived[kind]
		fmt.Fprintf(w, "warning: the restore brought back %s the database no longer held (deleted or revoked since the backup): %s\n",
			countText(len(names), kind), strings.Join(names, ", "))
	}
	if len(kinds) > 0 {
		fmt.Fprintf(w, "  delete them again (users) or check they stay revoked (tokens) if that was intended\n")
	}
}

// warnIncomplete warns about each database of dirs that a merge restore
// left holding part of a backup (see backup.FindIncomplete).
func warnIncomplete(w io.Writer, dirs ...string) {
	for _, m := range backup.IncompleteIn(dirs...) {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}
