package backup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// JournalSpan is what the journal of one database can restore, over all
// its chains: from the oldest instant a chain reaches to the newest, and
// the gaps inside (between chains, or a chain cut short by a problem).
type JournalSpan struct {
	Database string    `json:"database"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	// Gaps says, oldest first, which instants between From and To no
	// restore --at can reach, and why.
	Gaps []string `json:"gaps,omitempty"`
}

// ListWithJournal lists the sets as List does, each with the windows of
// the journal chains that start from it, and each database's span of the
// journal (none without a journal; local or s3://): what `flowg
// admin backups list` and GET /api/v1/backups show.
func (c *Catalog) ListWithJournal(ctx context.Context) ([]SetInfo, []JournalSpan, error) {
	sets, err := c.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	windows, err := c.JournalWindows(ctx, false)
	if errors.Is(err, ErrContinuousTarget) {
		return sets, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	index := make(map[string]int, len(sets))
	for i, s := range sets {
		index[s.ID] = i
	}
	for _, w := range windows {
		if i, ok := index[w.BaseSet]; ok {
			sets[i].Journal = append(sets[i].Journal, w)
		}
	}
	return sets, JournalSpans(windows), nil
}

// JournalSpans folds windows (per database, oldest chain first, as
// JournalWindows gives them) into one span per database. A chain whose
// base set is gone restores nothing and is left out, named as a gap.
func JournalSpans(windows []JournalWindow) []JournalSpan {
	var out []JournalSpan
	var last *JournalWindow
	for i := range windows {
		w := windows[i]
		if len(out) == 0 || out[len(out)-1].Database != w.Database {
			out = append(out, JournalSpan{Database: w.Database})
			last = nil
		}
		span := &out[len(out)-1]
		if w.BaseSetGone {
			span.Gaps = append(span.Gaps, fmt.Sprintf("chain %s restores nothing: %s", w.Chain, w.Problem))
			continue
		}
		switch {
		case last == nil:
			span.From = w.From
		case w.From.After(last.To):
			why := "chain " + w.Chain + " started: " + w.Reason
			if last.Problem != "" {
				why = "chain " + last.Chain + " ends: " + last.Problem + "; " + why
			}
			span.Gaps = append(span.Gaps, fmt.Sprintf("from %s to %s (%s)", last.To.Format(time.RFC3339Nano), w.From.Format(time.RFC3339Nano), why))
		}
		if w.To.After(span.To) {
			span.To = w.To
		}
		last = &windows[i]
	}
	return out
}

// VerifyJournal reads every segment of every chain of the journal to its
// end and checks every checksum (JournalWindows with verify): what `flowg
// admin backups verify --all` adds to the sets. A catalog without a
// journal has none to verify. Nothing is written.
func (c *Catalog) VerifyJournal(ctx context.Context) ([]JournalWindow, error) {
	windows, err := c.JournalWindows(ctx, true)
	if errors.Is(err, ErrContinuousTarget) {
		return nil, nil
	}
	return windows, err
}
