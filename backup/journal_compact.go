package backup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	var size int64
	flush := func() error {
		if len(group) >= 2 {
			if err := mergeSegments(ctx, ch, group, keys, toolVersion); err != nil {
				return err
			}
			replaced += len(group)
		}
		group, size = nil, 0
		return nil
	}
	for _, seg := range ch.segs {
		st, err := os.Stat(filepath.Join(ch.dir, seg.String()))
		if err != nil {
			return replaced, err
		}
		if seg.last != seg.seq || seg.to.After(olderThan) {
			if err := flush(); err != nil {
				return replaced, err
			}
			continue
		}
		if len(group) > 0 && (seg.to.Sub(group[0].from) > compactSpan || size+st.Size() > compactBytes) {
			if err := flush(); err != nil {
				return replaced, err
			}
		}
		group = append(group, seg)
		size += st.Size()
	}
	return replaced, flush()
}

// mergeSegments writes one compacted segment holding group, consecutive
// segments of ch, then removes them.
func mergeSegments(ctx context.Context, ch chainState, group []segmentName, keys Keys, toolVersion string) error {
	first, last := group[0], group[len(group)-1]
	name := segmentName{seq: first.seq, last: last.last, since: first.since, upTo: last.upTo, from: first.from, to: last.to}
	tmp, err := os.CreateTemp(ch.dir, ".tmp-*"+segmentExt)
	if err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	out, finish, err := encrypting(tmp, keys)
	if err == nil {
		err = copySegments(ctx, out, ch, group, name, keys, toolVersion)
	}
	if err == nil {
		err = finish()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(ch.dir, name.String()))
	}
	if err == nil {
		err = syncDir(ch.dir)
	}
	if err != nil {
		return fmt.Errorf("compact journal segments %d to %d of chain %s: %w", first.seq, last.last, ch.ID, err)
	}
	var errs []error
	for _, seg := range group {
		if err := os.Remove(filepath.Join(ch.dir, seg.String())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, syncDir(ch.dir))
	return errors.Join(errs...)
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
		err := eachInSegment(ctx, filepath.Join(ch.dir, seg.String()), ch.Database, seg, keys.Identities, func(o *op, m *mark) error {
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
