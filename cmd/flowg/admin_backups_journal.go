package main

import (
	"fmt"
	"io"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// `flowg admin backups journal`: what the catalog's journal (written by
// `flowg serve --backup-continuous`) can restore, per database and chain,
// and with --verify whether every segment reads back whole.

func adminBackupsJournalCommand(catalogFlags []cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "journal",
		Usage:     "show each database's restorable window in the catalog's journal (continuous backup); --verify reads every segment",
		UsageText: "flowg admin backups journal [--backup-dir DIR] [--verify [--identity FILE]] [--json]",
		Description: `Lists the chains of the journal that 'flowg serve --backup-continuous'
writes into the catalog: per database, each chain's window (from its base
set to its newest segment), its segments, why it started, and any problem (a
gap, a damaged segment, a base set that is gone), which ends the window
before it. 'flowg admin restore --at TIME' restores any instant of a window.

With --verify every segment is read to its end and every checksum checked;
the command then exits 1 if any chain has a problem.

Examples:
   flowg admin backups journal --backup-dir ./backups
   flowg admin backups journal --backup-dir ./backups --verify --json`,
		Flags: append(append(catalogFlags, decryptFlags()...),
			&cli.BoolFlag{Name: "verify", Usage: "read every segment whole and check every checksum"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"}),
		Action: adminBackupsJournal,
	}
}

func adminBackupsJournal(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	cat, err := catalogFrom(c, c.String("backup-dir"))
	if err != nil {
		return opError{op: "journal", err: err}
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	cat.WithKeys(backup.Keys{Identities: ids})
	windows, err := cat.JournalWindows(c.Context, c.Bool("verify"))
	if err != nil {
		return opError{op: "journal", err: err}
	}
	if c.Bool("json") {
		if windows == nil {
			windows = []backup.JournalWindow{}
		}
		if err := encodeJSON(c.App.Writer, windows); err != nil {
			return err
		}
	} else {
		printWindows(c.App.Writer, windows)
	}
	if len(windows) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no journal in %s (start the server with --backup-continuous)\n", c.String("backup-dir"))
	}
	if c.Bool("verify") {
		for _, w := range windows {
			if w.Problem != "" {
				return opError{op: "journal verify", safe: "nothing was written",
					err:  fmt.Errorf("the %s journal's chain %s can be restored only up to %s: %s", w.Database, w.Chain, w.To.Format(time.RFC3339Nano), w.Problem),
					next: "restore --at an instant up to then, or from a set; the server starts a new chain at its next start if the newest chain is broken"}
			}
		}
	}
	return nil
}

func printWindows(w io.Writer, windows []backup.JournalWindow) {
	if len(windows) == 0 {
		return
	}
	fmt.Fprintf(w, "%-8s  %-24s  %-30s  %-30s  %8s  %9s  %s\n", "DATABASE", "CHAIN", "FROM", "TO", "SEGMENTS", "SIZE", "BASE SET")
	for _, win := range windows {
		fmt.Fprintf(w, "%-8s  %-24s  %-30s  %-30s  %8d  %9s  %s\n", win.Database, win.Chain, win.From.Format(time.RFC3339Nano),
			win.To.Format(time.RFC3339Nano), win.Segments, humanize.IBytes(uint64(win.Bytes)), win.BaseSet)
		if win.Problem != "" {
			fmt.Fprintf(w, "          problem: %s\n", win.Problem)
		}
	}
}

// printSpans prints, after the sets, each database's restorable window in
// the journal and its gaps.
func printSpans(w io.Writer, spans []backup.JournalSpan) {
	if len(spans) == 0 {
		return
	}
	fmt.Fprintf(w, "\njournal (restore --at any instant of a window):\n")
	fmt.Fprintf(w, "%-8s  %-30s  %-30s\n", "DATABASE", "FROM", "TO")
	for _, s := range spans {
		if s.From.IsZero() {
			fmt.Fprintf(w, "%-8s  %-30s  %-30s\n", s.Database, "-", "-")
		} else {
			fmt.Fprintf(w, "%-8s  %-30s  %-30s\n", s.Database, s.From.Format(time.RFC3339Nano), s.To.Format(time.RFC3339Nano))
		}
		for _, g := range s.Gaps {
			fmt.Fprintf(w, "          gap: %s\n", g)
		}
	}
}

// verifyJournalChains reads every segment of the catalog's journal (what
// `admin backups verify --all` adds to the sets), prints a line per chain,
// and returns how many chains a damaged or missing segment cuts short and
// how many could not be read for want of an identity. A chain whose base
// set is gone is shown, not counted: it restores nothing, and the server
// deletes it.
func verifyJournalChains(c *cli.Context, cat *backup.Catalog) (bad, needKey int, err error) {
	windows, err := cat.VerifyJournal(c.Context)
	if err != nil {
		return 0, 0, err
	}
	for _, w := range windows {
		verdict := fmt.Sprintf("verified, restorable from %s to %s", w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano))
		switch {
		case w.NeedsKey:
			needKey++
			verdict = encryptedAdvice
		case w.BaseSetGone:
			verdict = "restores nothing: " + w.Problem
		case w.Problem != "":
			bad++
			verdict = fmt.Sprintf("restorable only from %s to %s: %s", w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano), w.Problem)
		}
		fmt.Fprintf(c.App.Writer, "journal %s %s  %s\n", w.Database, w.Chain, verdict)
		reportOf(c).add("journal", w)
	}
	return bad, needKey, nil
}

// prunedName names what a retention decision is about: a set's ID,
// "journal chain ID of DATABASE", or "segments A to B of journal chain ID
// of DATABASE" for the oldest segments of a chain kept.
func prunedName(d backup.Decision) string {
	if d.Segments != "" {
		return "segments " + d.Segments + " of journal chain " + d.ID + " of " + d.Journal
	}
	if d.Journal != "" {
		return "journal chain " + d.ID + " of " + d.Journal
	}
	return d.ID
}

// prunedKind is the list of the --json report a decision goes to.
func prunedKind(d backup.Decision) string {
	if d.Journal != "" {
		return "journal_chains"
	}
	return "sets"
}
