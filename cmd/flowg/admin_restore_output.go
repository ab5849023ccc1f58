package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// What `flowg admin restore` prints: one line per database restored, the
// warnings of the restore, and the users and tokens a merge brought back.

// printRestored prints the line of one database: its figures, how it was
// restored from which file, and notes in parentheses.
func printRestored(c *cli.Context, job restoreJob, res backup.Result, how string, notes ...string) {
	w := c.App.Writer
	fmt.Fprintf(w, "%s  %s from %s", fileFigures(string(job.name), res.Written, uint64(res.File.FileBytes),
		shortDuration(res.Duration), res.File.SHA256), how, job.file)
	if res.Expired > 0 {
		notes = append(notes, countText(res.Expired, "expired record")+" skipped")
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
	reportOf(c).add("databases", map[string]any{"database": string(job.name), "how": how, "file": job.file, "written": res.Written,
		"file_bytes": res.File.FileBytes, "sha256": res.File.SHA256, "duration": res.Duration.String(), "expired_skipped": res.Expired, "notes": notes})
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

// setAside is a wiped database's directory and where its previous one was
// kept.
type setAside struct{ dir, aside string }

// printUndoWipe prints the one command that puts back every previous
// database a wipe kept aside: a loop over the directories when every one
// was kept under the same suffix (a restore's), else the moves one after
// the other.
func printUndoWipe(c *cli.Context, asides []setAside) {
	undo := undoWipe(asides)
	if undo == "" {
		return
	}
	fmt.Fprintf(c.App.ErrWriter, "  to undo this restore: %s\n", undo)
	r := reportOf(c)
	r.set("undo", undo)
	for _, a := range asides {
		r.add("set_aside", map[string]string{"dir": a.dir, "previous": a.aside})
	}
}

// undoWipe is the command of printUndoWipe, "" when nothing was kept aside.
func undoWipe(asides []setAside) string {
	if len(asides) == 0 {
		return ""
	}
	if len(asides) == 1 {
		a := asides[0]
		return fmt.Sprintf("mv %s %s.undone && mv %s %s", shellQuote(a.dir), shellQuote(a.dir), shellQuote(a.aside), shellQuote(a.dir))
	}
	suffix := strings.TrimPrefix(asides[0].aside, asides[0].dir)
	dirs := make([]string, len(asides))
	same := strings.HasPrefix(asides[0].aside, asides[0].dir)
	for i, a := range asides {
		dirs[i] = shellQuote(a.dir)
		same = same && a.aside == a.dir+suffix
	}
	if same {
		return fmt.Sprintf("for d in %s; do mv \"$d\" \"$d.undone\" && mv \"$d%s\" \"$d\"; done", strings.Join(dirs, " "), suffix)
	}
	moves := make([]string, len(asides))
	for i, a := range asides {
		moves[i] = fmt.Sprintf("mv %s %s.undone && mv %s %s", shellQuote(a.dir), shellQuote(a.dir), shellQuote(a.aside), shellQuote(a.dir))
	}
	return strings.Join(moves, " && ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and /._-+:@,=.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
