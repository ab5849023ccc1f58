package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports a long operation on stderr: a bar on a terminal, a plain
// line every few seconds otherwise (logs and CI stay readable).
type progress struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
	last  time.Time
}

func newProgress(w io.Writer, label string, totalBytes int64) *progress {
	p := &progress{w: w, label: label, last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if totalBytes <= 0 {
			totalBytes = -1
		}
		p.bar = progressbar.NewOptions64(totalBytes,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// update reports running totals.
func (p *progress) update(keys, bytes uint64) {
	if p.bar != nil {
		_ = p.bar.Set64(int64(bytes))
		return
	}
	if time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.w, "%s: %s, %s so far\n", p.label, countText(keys, "key"), sizeText(bytes))
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func shortSum(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// fileFigures formats, in the aligned columns every command prints one
// database's file in, its name, keys, size of the file, the time taken and
// the short SHA-256; the caller adds what was done with it.
func fileFigures(name string, keys, bytes uint64, took string, sha256 string) string {
	return fmt.Sprintf("%-6s %8d %-4s %10s  %7s  sha256 %s", name, keys, plural(keys, "key"), sizeText(bytes), took, shortSum(sha256))
}

// entryFigures is fileFigures of a manifest's entry for database name.
func entryFigures(name string, e backup.DBEntry) string {
	line := fileFigures(name, e.Keys, uint64(e.Bytes), shortDuration(e.Duration), e.SHA256)
	if len(e.ExcludedStreams) > 0 {
		line += "  (streams left out: " + strings.Join(e.ExcludedStreams, ", ") + ")"
	}
	return line
}

// shortDuration prints d to the millisecond, or to the microsecond below one
// (a small restore takes less than a millisecond, which is not "0s").
func shortDuration(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}
