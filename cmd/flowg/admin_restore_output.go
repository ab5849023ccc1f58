package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

// What `flowg admin restore` prints of a restore's Outcome: the warnings,
// one line per database restored (or planned), the safety snapshot or the
// directories kept aside, and the one command that undoes the restore.

const bulkLoadedNote = "into an empty database: bulk-loaded"

// printOutcome prints what the restore did, also when it stopped halfway.
func printOutcome(c *cli.Context, dirs kv.Dirs, req restore.Request, sources restore.Sources, out restore.Outcome) {
	errOut := c.App.ErrWriter
	reportWarnings(c, out.Warnings)
	shown := map[string]string{}
	for _, src := range sources {
		shown[string(src.Database)] = src.Shown
	}
	if req.DryRun {
		for _, res := range out.Results {
			printWarnings(errOut, res.Warnings)
			printPlan(c, res.Database, shown[res.Database], *res.Plan)
		}
		reportOf(c).set("dry_run", true)
		fmt.Fprintln(errOut, "dry run: nothing was written")
		return
	}
	for _, res := range out.Results {
		if id := res.SafetySnapshot; id != "" {
			fmt.Fprintf(errOut, "safety snapshot of %s written to %s, set %s\n", res.Database, c.String("catalog-dir"), id)
			reportOf(c).add("safety_snapshots", map[string]string{"database": res.Database, "set": id})
		}
	}
	how := "merged"
	if req.Wipe {
		how = "wiped and restored"
	}
	for _, res := range out.Results {
		reportWarnings(c, res.Warnings)
		printRestored(c, res, shown[res.Database], how)
		if slices.Contains(res.Notes, bulkLoadedNote) {
			fmt.Fprintf(errOut, "%s held nothing to merge with: its file was bulk-loaded\n", dirs.Of(kv.Name(res.Database)))
		}
		if slices.Contains(res.Notes, restore.NoteMovedIntoPlace) {
			fmt.Fprintf(errOut, "%s: %s\n", dirs.Of(kv.Name(res.Database)), restore.NoteMovedIntoPlace)
		}
		if res.SetAside != "" {
			fmt.Fprintf(errOut, "previous %s database kept at %s\n", res.Database, res.SetAside)
		}
	}
	for _, a := range out.Asides {
		reportOf(c).add("set_aside", map[string]string{"dir": a.Dir, "previous": a.Previous})
	}
	if out.Undo != "" {
		fmt.Fprintf(errOut, "  to undo this restore: %s\n", out.Undo)
		reportOf(c).set("undo", out.Undo)
	}
}

// printRestored prints the line of one database: its figures, how it was
// restored from which file, and notes in parentheses.
func printRestored(c *cli.Context, res restore.Result, file, how string) {
	w := c.App.Writer
	took, _ := time.ParseDuration(res.Duration)
	fmt.Fprintf(w, "%s  %s from %s", fileFigures(res.Database, res.Written, uint64(res.File.Bytes), shortDuration(took), res.File.SHA256), how, file)
	notes := append([]string{}, res.Notes...)
	if res.ExpiredSkipped > 0 {
		notes = append(notes, countText(res.ExpiredSkipped, "expired record")+" skipped")
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
	reportOf(c).add("databases", map[string]any{"database": res.Database, "how": how, "file": file, "written": res.Written,
		"file_bytes": res.File.Bytes, "sha256": res.File.SHA256, "duration": res.Duration, "expired_skipped": res.ExpiredSkipped, "notes": notes})
}

func printWarnings(w io.Writer, warnings []string) {
	for _, warning := range warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

// reportWarnings prints the warnings of the restore and adds them to the
// JSON report.
func reportWarnings(c *cli.Context, warnings []string) {
	printWarnings(c.App.ErrWriter, warnings)
	for _, w := range warnings {
		reportOf(c).add("warnings", w)
	}
}

// warnIncomplete warns about each database of dirs that a merge restore
// left holding part of a backup (see backup.FindIncomplete).
func warnIncomplete(w io.Writer, dirs ...string) {
	for _, m := range backup.IncompleteIn(dirs...) {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}
