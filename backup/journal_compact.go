package backup

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// Compaction merges the small segments of a chain, once they are old
// enough, into larger ones, so a long-lived journal is not one file per
// interval: a compacted segment holds the records of a run of consecutive
// segments, in the same order, and is named for the whole run (see
// segmentName). It is written and made durable before the segments it
// replaces are removed; until they are, readChain takes the compacted one.
const (
	// compactSpan is the longest time a compacted segment covers.
	compactSpan = time.Hour
	// compactBytes bounds the stored bytes of the segments merged into one.
	compactBytes = 64 << 20
)

// compactChain merges the runs of plain segments of ch that ended at or
// before olderThan. It returns how many segments it replaced.
func compactChain(ctx context.Context, ch chainState, olderThan time.Time, keys Keys, toolVersion string) (int, error) {
	if keys.Encrypts() && len(keys.Identities) == 0 {
		return 0, nil // segments it cannot read back: left as they are
	}
	replaced := 0
	var group []segmentName
	var stored int64
	flush := func() error {
		if len(group) >= 2 {
			if err := mergeSegments(ctx, ch, group, keys, toolVersion); err != nil {
				return err
			}
			replaced += len(group)
		}
		group, stored = nil, 0
		return nil
	}
	for _, seg := range ch.segs {
		size, listed := ch.sizes[seg.String()]
		if !listed {
			return replaced, fmt.Errorf("compact journal chain %s: segment %s: %w", ch.ID, seg, os.ErrNotExist)
		}
		if seg.last != seg.seq || seg.to.After(olderThan) {
			if err := flush(); err != nil {
				return replaced, err
			}
			continue
		}
		if len(group) > 0 && (seg.to.Sub(group[0].from) > compactSpan || size+stored > compactBytes) {
			if err := flush(); err != nil {
				return replaced, err
			}
		}
		group = append(group, seg)
		stored += size
	}
	return replaced, flush()
}

// mergeSegments writes one compacted segment holding group, consecutive
// segments of ch, then removes them.
func mergeSegments(ctx context.Context, ch chainState, group []segmentName, keys Keys, toolVersion string) error {
	first, last := group[0], group[len(group)-1]
	name := segmentName{seq: first.seq, last: last.last, since: first.since, upTo: last.upTo, from: first.from, to: last.to}
	f, err := ch.js.create(ctx, ch.Database, ch.ID, name.String())
	if err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	out, finish, err := encrypting(f, keys)
	if err == nil {
		err = copySegments(ctx, out, ch, group, name, keys, toolVersion)
	}
	if err == nil {
		err = finish()
	}
	if err == nil {
		err = f.commit(ctx)
	} else {
		f.discard()
	}
	if err != nil {
		return fmt.Errorf("compact journal segments %d to %d of chain %s: %w", first.seq, last.last, ch.ID, err)
	}
	names := make([]string, 0, len(group))
	for _, seg := range group {
		names = append(names, seg.String())
	}
	return ch.js.remove(ctx, ch.Database, ch.ID, names...)
}

// copySegments writes the records of group, each read whole and checked,
// into one segment file on w.
func copySegments(ctx context.Context, w io.Writer, ch chainState, group []segmentName, name segmentName, keys Keys, toolVersion string) error {
	fw, err := NewWriter(w, Header{Database: ch.Database, Created: name.to.UTC(), ReadTs: name.upTo, SinceTs: name.since, ToolVersion: toolVersion})
	if err != nil {
		return err
	}
	var key []byte
	for _, seg := range group {
		err := ch.each(ctx, seg, keys.Identities, func(o *op, m *mark) error {
			if m != nil {
				return fw.addMark(*m)
			}
			key = binary.BigEndian.AppendUint64(key[:0], o.version)
			key = append(key, o.key...)
			return fw.addOp(key, *o)
		})
		if err != nil {
			return fmt.Errorf("segment %s: %w", seg, err)
		}
	}
	_, err = fw.Close()
	return err
}

// compactLogged deletes the database's chains no set can start any more
// (see pruneChains) and merges its old segments, at most every half
// CompactAfter, holding the set lock shared (skipped, and tried again at
// the next segment, while a prune holds it); a failure is logged and
// leaves the journal as it is.
func (j *dbJournal) compactLogged() {
	if j.opts.CompactAfter < 0 || time.Since(j.lastCompact) < j.opts.CompactAfter/2 || !j.lease.held() {
		return
	}
	if j.stage != nil && !j.stage.healthy() {
		return // the object store does not take segments: no pass against it
	}
	j.lastCompact = time.Now()
	// Held shared, as a restore holds it, so a prune (which deletes chains
	// too) waits for the pass; during a prune the pass is skipped, never
	// waited for: the shipper must not wait on what may wait on it.
	release, ok := j.cat.tryHoldSets()
	if !ok {
		j.lastCompact = time.Time{}
		return
	}
	defer release()
	chains, err := readChainsIn(context.Background(), j.js, string(j.name))
	if err != nil {
		j.log.Error("continuous backup: compact", "error", err)
		return
	}
	if ids, err := pruneChains(context.Background(), j.cat, j.js, string(j.name)); err != nil {
		j.log.Error("continuous backup: delete chains no set can start", "error", err)
	} else if len(ids) > 0 {
		j.log.Info("continuous backup: deleted journal chains whose sets retention deleted", "chains", ids)
		if chains, err = readChainsIn(context.Background(), j.js, string(j.name)); err != nil {
			j.log.Error("continuous backup: compact", "error", err)
			return
		}
	}
	for _, ch := range chains {
		n, err := compactChain(context.Background(), ch, time.Now().Add(-j.opts.CompactAfter), j.cat.keys, j.opts.ToolVersion)
		if err != nil {
			j.log.Error("continuous backup: compact", "chain", ch.ID, "error", err)
		}
		if n > 0 {
			j.log.Info("continuous backup: compacted", "chain", ch.ID, "segments", n)
		}
	}
}
