package backup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Reading a raw Badger backup stream: a little-endian uint64 length and a
// marshalled pb.KVList, repeated. Badger batches about 100 MiB per list and
// a list may claim up to maxRawList, so a list is never read whole: its
// records are read one by one, and handed out in chunks of about
// rawChunkBytes, as frames of a flowg file are.

// rawChunkBytes is how many bytes of records one Next of a raw stream
// returns at most (or one record, if larger).
const rawChunkBytes = 4 << 20

// maxRawRecord bounds one record of a raw stream: no flowg file holds a
// larger one (see MaxFrameRaw), so none could be restored.
const maxRawRecord = MaxFrameRaw

// rawList is where the reading of a raw stream is.
type rawList struct {
	index uint64 // lists begun
	left  uint64 // bytes of the current list not read yet
	keys  uint64 // records of the current list read so far
}

func (r *Reader) nextRaw() ([]*pb.KV, error) {
	if r.raw.left == 0 {
		if _, err := r.in.Peek(1); err == io.EOF {
			if r.summary.Keys == 0 {
				// Badger writes nothing at all for an empty database; lists
				// without records are no backup, and would wipe everything.
				return nil, fmt.Errorf("%w: a raw Badger stream without a single record", ErrNotBackup)
			}
			if r.contentSum {
				r.summary.ContentSum = r.content.hex()
			}
			r.done = true
			return nil, io.EOF
		}
		if err := r.beginRawList(); err != nil {
			return nil, err
		}
	}
	kvs, err := r.rawChunk()
	if err != nil {
		if r.raw.index == 1 && r.compressor != "" {
			return nil, r.compressedError()
		}
		return nil, err
	}
	if err := r.account(kvs); err != nil {
		return nil, err
	}
	return kvs, nil
}

// beginRawList reads the length of the next list and checks it.
func (r *Reader) beginRawList() error {
	r.raw.index++
	r.raw.keys = 0
	where := fmt.Sprintf("list %d", r.raw.index)
	prefix, err := r.read(rawLengthPrefix, where)
	if err != nil {
		if r.raw.index == 1 && r.compressor != "" {
			return r.compressedError()
		}
		return err
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n > maxRawList || (r.size > 0 && int64(n) > r.size-r.pos) {
		if r.raw.index == 1 && r.compressor != "" {
			return r.compressedError()
		}
		if r.raw.index == 1 {
			return fmt.Errorf("%w: neither a flowg backup nor a Badger backup stream (first length %d)", ErrNotBackup, n)
		}
		return fmt.Errorf("%w: %s claims %d bytes, more than the file holds", ErrTruncated, where, n)
	}
	r.raw.left = n
	return nil
}

// rawChunk reads records of the current list until about rawChunkBytes
// were read or the list ends. The records are fresh: callers may keep them.
func (r *Reader) rawChunk() ([]*pb.KV, error) {
	where := fmt.Sprintf("list %d", r.raw.index)
	bad := ErrCorrupt
	if r.raw.index == 1 {
		bad = ErrNotBackup
	}
	fail := func(err error) error {
		return fmt.Errorf("%w (%w)", bad, decodeError(where, int(r.raw.keys), err))
	}
	var kvs []*pb.KV
	chunk := 0
	for r.raw.left > 0 && chunk < rawChunkBytes {
		num, typ, err := r.rawTag(where)
		if err != nil {
			return nil, err
		}
		if num != fieldKVList || typ != protowire.BytesType {
			if err := r.skipRawField(typ, where); err != nil {
				return nil, err
			}
			continue
		}
		n, err := r.rawVarint(where)
		if err != nil {
			return nil, err
		}
		if n > r.raw.left || n > maxRawRecord {
			return nil, fail(fmt.Errorf("%w: a record of %d bytes", errWireFormat, n))
		}
		msg := make([]byte, n)
		if err := r.rawBytes(msg, where); err != nil {
			return nil, err
		}
		kv := &pb.KV{}
		if err := decodeKV(msg, kv); err != nil {
			return nil, fail(err)
		}
		if len(kv.Key) == 0 {
			return nil, fmt.Errorf("%w: %s record %d has no key", bad, where, r.raw.keys+1)
		}
		if err := checkKey(kv.Key, where, int(r.raw.keys)); err != nil {
			return nil, err
		}
		r.raw.keys++
		kvs = append(kvs, kv)
		chunk += len(msg)
	}
	return kvs, nil
}

// rawTag reads a protobuf field tag of the current list.
func (r *Reader) rawTag(where string) (protowire.Number, protowire.Type, error) {
	v, err := r.rawVarint(where)
	if err != nil {
		return 0, 0, err
	}
	num, typ := protowire.DecodeTag(v)
	if num < protowire.MinValidNumber {
		return 0, 0, fmt.Errorf("%w (%w)", ErrCorrupt, decodeError(where, int(r.raw.keys), errWireFormat))
	}
	return num, typ, nil
}

// rawVarint reads a varint of the current list.
func (r *Reader) rawVarint(where string) (uint64, error) {
	var buf [binary.MaxVarintLen64]byte
	for i := range buf {
		if err := r.rawBytes(buf[i:i+1], where); err != nil {
			return 0, err
		}
		if buf[i] < 0x80 {
			v, n := protowire.ConsumeVarint(buf[:i+1])
			if n < 0 {
				break
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w (%w)", ErrCorrupt, decodeError(where, int(r.raw.keys), errWireFormat))
}

// skipRawField reads past a field of the list other than a record.
func (r *Reader) skipRawField(typ protowire.Type, where string) error {
	var n uint64
	switch typ {
	case protowire.VarintType:
		_, err := r.rawVarint(where)
		return err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		var err error
		if n, err = r.rawVarint(where); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w (%w)", ErrCorrupt, decodeError(where, int(r.raw.keys), errWireFormat))
	}
	if n > r.raw.left {
		return fmt.Errorf("%w (%w)", ErrCorrupt, decodeError(where, int(r.raw.keys), errWireFormat))
	}
	for n > 0 {
		step := min(n, 64<<10)
		if _, err := r.read(int(step), where); err != nil {
			return err
		}
		r.raw.left -= step
		n -= step
	}
	return nil
}

// rawBytes fills b from the current list, which must hold that many bytes.
func (r *Reader) rawBytes(b []byte, where string) error {
	if uint64(len(b)) > r.raw.left {
		return fmt.Errorf("%w (%w)", ErrCorrupt, decodeError(where, int(r.raw.keys), errors.New("a record runs past the end of its list")))
	}
	if err := r.readInto(b, where); err != nil {
		return err
	}
	r.raw.left -= uint64(len(b))
	return nil
}
