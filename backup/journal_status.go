package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// JournalWindow is what one chain of a database's journal can restore.
type JournalWindow struct {
	Database string    `json:"database"`
	Chain    string    `json:"chain"`
	BaseSet  string    `json:"base_set"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Segments int       `json:"segments"`
	Bytes    int64     `json:"bytes"`
	// Reason says why the chain started.
	Reason string `json:"reason"`
	// Problem says why the window ends before the chain's last file: a
	// gap, a damaged segment (with verify), a base set that is gone.
	Problem string `json:"problem,omitempty"`
	// BaseSetGone says the chain's base set is gone or not usable: the
	// chain restores nothing.
	BaseSetGone bool `json:"base_set_gone,omitempty"`
	// NeedsKey says verify could not read a segment of an encrypted
	// catalog for want of an identity: not a verdict on the segment.
	NeedsKey bool `json:"needs_key,omitempty"`
	// Verified is set when every segment of the window was read whole and
	// every checksum held.
	Verified bool `json:"verified,omitempty"`

	// What retention trims the chain by (retention_trim.go): its epoch,
	// the version range it covers and its segments.
	epoch            string
	baseReadTs, upTo uint64
	segs             []segmentName
}

// JournalWindows lists the chains of every database's journal, oldest
// first per database. With verify, every segment is read to its end (every
// frame checksum, the trailer's SHA-256), and the window of a chain ends
// before the first one that fails. Nothing is written.
func (c *Catalog) JournalWindows(ctx context.Context, verify bool) ([]JournalWindow, error) {
	js := c.journal()
	var out []JournalWindow
	for _, name := range kv.Names {
		chains, err := readChainsIn(ctx, js, string(name))
		if err != nil {
			return nil, err
		}
		for _, ch := range chains {
			w, err := c.window(ctx, ch, verify)
			if err != nil {
				return nil, err
			}
			out = append(out, w)
		}
	}
	return out, nil
}

func (c *Catalog) window(ctx context.Context, ch chainState, verify bool) (JournalWindow, error) {
	w := JournalWindow{Database: ch.Database, Chain: ch.ID, BaseSet: ch.BaseSet, From: ch.start(), Reason: ch.Reason, Problem: ch.problem,
		epoch: ch.Epoch, baseReadTs: ch.BaseReadTs, upTo: ch.upTo(), segs: ch.segs}
	if info, err := c.Get(ctx, ch.BaseSet); err != nil || !usable(info) {
		problem := "its base set " + ch.BaseSet + " is gone"
		if err == nil {
			problem = fmt.Sprintf("its base set %s is %s", ch.BaseSet, info.Label)
		}
		w.Problem, w.To, w.BaseSetGone = problem, w.From, true
		return w, nil
	}
	w.To = ch.start()
	for _, seg := range ch.segs {
		size := ch.sizes[seg.String()]
		if verify {
			err := ch.each(ctx, seg, c.keys.Identities, func(*op, *mark) error { return nil })
			if ctx.Err() != nil {
				return w, ctx.Err()
			}
			if err != nil {
				w.Problem = fmt.Sprintf("segment %s: %v", seg, err)
				w.NeedsKey = errors.Is(err, ErrEncrypted)
				return w, nil
			}
		}
		w.Segments++
		w.Bytes += size
		w.To = seg.to
	}
	w.Verified = verify && w.Problem == ""
	return w, nil
}
