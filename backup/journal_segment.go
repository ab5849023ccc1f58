package backup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// A journal segment is a flowg backup file (format 1, so every frame,
// checksum and the trailer's SHA-256 are checked as for a set's file) whose
// records are the changes of one shipping interval, in commit order. Its
// header's SinceTs is the version the segment follows (the previous
// segment's, or the base set's read timestamp) and ReadTs the newest version
// it covers. Each record's key is the change's Badger version, 8 bytes big
// endian, followed by the database key, so the records are in strictly
// increasing key order as every flowg file's are:
//
//	version | key, value, UserMeta, ExpiresAt    a write
//	version | key, Meta = Badger's delete bit    a delete
//	version (8 bytes alone), value = unix nanos  a time mark: every change
//	                                             up to version was captured
//	                                             by that instant
//
// A segment is named <seq>-<since>-<upTo>-<from>-<to>.seg: its sequence
// number in the chain (from 1), the version range (since, upTo] in hex and
// the time range (from, to] it covers, so a gap shows in the names alone. A
// compacted segment, which holds the records of segments seq to last in
// order, is named <seq>_<last>-<since>-<upTo>-<from>-<to>.seg.
const segmentExt = ".seg"

// journalTimeLayout is how segment names write an instant (UTC).
const journalTimeLayout = "20060102T150405.000000000Z"

// op is one captured change.
type op struct {
	key       []byte
	value     []byte
	userMeta  byte
	expiresAt uint64
	version   uint64
	deleted   bool
	resolved  bool // deleted was looked up (see resolver)
}

// mark says every change up to version was captured by time.
type mark struct {
	version uint64
	time    time.Time
}

// segmentName describes a segment from its file name.
type segmentName struct {
	seq      uint64
	last     uint64 // the last sequence number it holds: seq, unless compacted
	since    uint64
	upTo     uint64
	from, to time.Time
}

func (s segmentName) String() string {
	seqs := fmt.Sprintf("%08d", s.seq)
	if s.last > s.seq {
		seqs += fmt.Sprintf("_%08d", s.last)
	}
	return fmt.Sprintf("%s-%016x-%016x-%s-%s%s", seqs, s.since, s.upTo,
		s.from.UTC().Format(journalTimeLayout), s.to.UTC().Format(journalTimeLayout), segmentExt)
}

// parseSegmentName reads a name segmentName.String gives.
func parseSegmentName(name string) (segmentName, bool) {
	base, ok := strings.CutSuffix(name, segmentExt)
	if !ok {
		return segmentName{}, false
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 {
		return segmentName{}, false
	}
	var s segmentName
	var err1, err2, err3, err4, err5 error
	first, last, compacted := strings.Cut(parts[0], "_")
	s.seq, err1 = strconv.ParseUint(first, 10, 64)
	s.last = s.seq
	if compacted {
		var err error
		if s.last, err = strconv.ParseUint(last, 10, 64); err != nil || s.last <= s.seq {
			return segmentName{}, false
		}
	}
	s.since, err2 = strconv.ParseUint(parts[1], 16, 64)
	s.upTo, err3 = strconv.ParseUint(parts[2], 16, 64)
	s.from, err4 = time.Parse(journalTimeLayout, parts[3])
	s.to, err5 = time.Parse(journalTimeLayout, parts[4])
	if errors.Join(err1, err2, err3, err4, err5) != nil || s.seq == 0 || s.upTo < s.since || s.to.Before(s.from) {
		return segmentName{}, false
	}
	return s, true
}

// writeSegment writes one segment of database db into dir, durably: a
// temporary file, fsync, rename, fsync of the directory; encrypted to
// keys' recipients when there are any, as the catalog's sets are. ops and
// marks are sorted here.
func writeSegment(dir, db string, name segmentName, ops []op, marks []mark, toolVersion string, keys Keys) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*"+segmentExt)
	if err != nil {
		return fmt.Errorf("write journal segment: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	out, finish, err := encrypting(tmp, keys)
	if err == nil {
		err = encodeSegment(out, db, name, ops, marks, toolVersion)
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
		err = os.Rename(tmp.Name(), filepath.Join(dir, name.String()))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("write journal segment %s: %w", name, err)
	}
	return nil
}

func encodeSegment(w io.Writer, db string, name segmentName, ops []op, marks []mark, toolVersion string) error {
	sortOps(ops)
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].version < marks[j].version })
	marks = uniqueMarks(marks)
	fw, err := NewWriter(w, Header{Database: db, Created: name.to.UTC(), ReadTs: name.upTo, SinceTs: name.since, ToolVersion: toolVersion})
	if err != nil {
		return err
	}
	var key []byte
	m := 0
	for i, o := range ops {
		for ; m < len(marks) && marks[m].version <= o.version; m++ {
			if err := fw.addMark(marks[m]); err != nil {
				return err
			}
		}
		if i+1 < len(ops) && ops[i+1].version == o.version && string(ops[i+1].key) == string(o.key) {
			continue // the same key twice in one commit: the later one holds
		}
		key = binary.BigEndian.AppendUint64(key[:0], o.version)
		key = append(key, o.key...)
		if err := fw.addOp(key, o); err != nil {
			return err
		}
	}
	for ; m < len(marks); m++ {
		if err := fw.addMark(marks[m]); err != nil {
			return err
		}
	}
	_, err = fw.Close()
	return err
}

// addMark writes a time mark.
func (w *Writer) addMark(m mark) error {
	key := binary.BigEndian.AppendUint64(nil, m.version)
	return w.addRecord(key, binary.BigEndian.AppendUint64(nil, uint64(m.time.UnixNano())), 0, m.version, 0)
}

// addRecord appends one record to the file's frames, sealing the frame
// when the record would take it past its target size.
func (w *Writer) addRecord(key, value []byte, userMeta byte, version, expiresAt uint64) error {
	if err := checkRecordSize(key, value); err != nil {
		return err
	}
	if w.cur.keys > 0 && len(w.cur.raw)+recordSize(key, value) > targetFrameRaw {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.cur.add(key, value, userMeta, version, expiresAt)
	return nil
}

// uniqueMarks keeps the first, earliest, mark of each version of sorted marks.
func uniqueMarks(marks []mark) []mark {
	out := marks[:0]
	for _, m := range marks {
		if len(out) == 0 || out[len(out)-1].version != m.version {
			out = append(out, m)
		}
	}
	return out
}

// addOp writes a change under its journal key; a delete carries Badger's
// delete bit in Meta, as raw Badger backups do.
func (w *Writer) addOp(key []byte, o op) error {
	if !o.deleted {
		return w.addRecord(key, o.value, o.userMeta, o.version, o.expiresAt)
	}
	if err := checkRecordSize(key, nil); err != nil {
		return err
	}
	if w.cur.keys > 0 && len(w.cur.raw)+recordSize(key, nil) > targetFrameRaw {
		if err := w.flush(); err != nil {
			return err
		}
	}
	f := w.cur
	size := protowire.SizeTag(fieldKey) + protowire.SizeBytes(len(key)) +
		protowire.SizeTag(fieldVersion) + protowire.SizeVarint(o.version) +
		protowire.SizeTag(fieldMeta) + protowire.SizeBytes(1)
	b := protowire.AppendTag(f.raw, fieldKVList, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fieldKey, protowire.BytesType)
	b = protowire.AppendBytes(b, key)
	b = protowire.AppendTag(b, fieldVersion, protowire.VarintType)
	b = protowire.AppendVarint(b, o.version)
	b = protowire.AppendTag(b, fieldMeta, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte{badgerBitDelete})
	f.raw = b
	f.keys++
	f.bytes += uint64(len(key))
	f.content.add(key, nil, 0, 0)
	return nil
}

// segmentReader reads one segment's changes and marks in order, checking
// every frame; the segment is good only once next returned io.EOF.
type segmentReader struct {
	r    *Reader
	kvs  []*pb.KV
	name segmentName
}

// openSegmentFrom reads the segment stored (of size bytes), which it closes.
func openSegmentFrom(stored io.ReadCloser, size int64, db string, name segmentName, ids []age.Identity) (*segmentReader, func(), error) {
	f, size, err := plain(stored, size, ids)
	if err != nil {
		return nil, nil, err
	}
	r, err := NewReader(f, ReadOptions{Size: size, Database: db, Sequential: true})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if h := r.Header(); h.SinceTs != name.since || h.ReadTs != name.upTo {
		f.Close()
		return nil, nil, fmt.Errorf("%w: its header covers versions %d to %d, its name %d to %d", ErrCorrupt, h.SinceTs, h.ReadTs, name.since, name.upTo)
	}
	return &segmentReader{r: r, name: name}, func() { f.Close() }, nil
}

// next returns the next change or mark (exactly one of them is set).
func (s *segmentReader) next() (*op, *mark, error) {
	for len(s.kvs) == 0 {
		kvs, err := s.r.Next()
		if err != nil {
			return nil, nil, err
		}
		s.kvs = kvs
	}
	kv := s.kvs[0]
	s.kvs = s.kvs[1:]
	if len(kv.Key) < 8 {
		return nil, nil, fmt.Errorf("%w: a journal record's key is %d bytes, shorter than its version", ErrCorrupt, len(kv.Key))
	}
	version := binary.BigEndian.Uint64(kv.Key)
	if version <= s.name.since || version > s.name.upTo {
		return nil, nil, fmt.Errorf("%w: a journal record of version %d is outside the segment's %d to %d", ErrCorrupt, version, s.name.since, s.name.upTo)
	}
	if len(kv.Key) == 8 {
		if len(kv.Value) != 8 {
			return nil, nil, fmt.Errorf("%w: a journal time mark holds %d bytes", ErrCorrupt, len(kv.Value))
		}
		return nil, &mark{version: version, time: time.Unix(0, int64(binary.BigEndian.Uint64(kv.Value))).UTC()}, nil
	}
	o := &op{key: kv.Key[8:], value: kv.Value, userMeta: userMetaOf(kv.UserMeta), expiresAt: kv.ExpiresAt, version: version,
		deleted: len(kv.Meta) > 0 && kv.Meta[0]&badgerBitDelete != 0}
	return o, nil, nil
}
