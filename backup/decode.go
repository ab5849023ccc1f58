package backup

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

var errWireFormat = errors.New("bad protobuf encoding")

// decoded holds the buffers decodeOwned fills. A fresh one per frame lets
// callers keep records as long as they like; a reused one makes decoding
// allocation-free, for callers done with a frame's records before the next.
type decoded struct {
	own  []byte
	kvs  []pb.KV
	ptrs []*pb.KV
}

// decodeOwned decodes a marshalled pb.KVList the caller hands over and
// checks every record has a key: the records point into b, which must stay
// untouched as long as they are used.
func decodeOwned(own []byte, where string, d *decoded) ([]*pb.KV, error) {
	kvs := d.kvs[:0]
	defer func() { d.kvs = kvs[:0] }()
	for len(own) > 0 {
		num, typ, n := protowire.ConsumeTag(own)
		if n < 0 {
			return nil, decodeError(where, len(kvs), errWireFormat)
		}
		own = own[n:]
		if num != fieldKVList || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, own); n < 0 {
				return nil, decodeError(where, len(kvs), errWireFormat)
			}
			own = own[n:]
			continue
		}
		msg, n := protowire.ConsumeBytes(own)
		if n < 0 {
			return nil, decodeError(where, len(kvs), errWireFormat)
		}
		own = own[n:]
		kvs = append(kvs, pb.KV{})
		if err := decodeKV(msg, &kvs[len(kvs)-1]); err != nil {
			return nil, decodeError(where, len(kvs), err)
		}
	}
	out := d.ptrs[:0]
	for i := range kvs {
		if len(kvs[i].Key) == 0 {
			return nil, fmt.Errorf("%w: %s record %d has no key", ErrCorrupt, where, i+1)
		}
		out = append(out, &kvs[i])
	}
	d.ptrs = out
	return out, nil
}

// maxKeyLen is the longest key Badger stores (its maxKeySize). Its
// transactions refuse a longer one; its bulk paths (StreamWriter, KVLoader)
// would cut it short and corrupt the database, so files holding one are
// refused before anything is written.
const maxKeyLen = 65000

// badgerPrefix starts Badger's own keys, which no backup holds.
const badgerPrefix = "!badger!"

// checkKey refuses a key Badger would refuse in a transaction.
func checkKey(key []byte, where string, i int) error {
	switch {
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: %s record %d has a %d-byte key, over Badger's %d-byte limit", ErrCorrupt, where, i+1, len(key), maxKeyLen)
	case bytes.HasPrefix(key, []byte(badgerPrefix)):
		return fmt.Errorf("%w: %s record %d's key starts with %q, which Badger keeps for itself", ErrCorrupt, where, i+1, badgerPrefix)
	}
	return nil
}

func decodeError(where string, record int, err error) error {
	return fmt.Errorf("%w: %s does not decode at record %d: %w", ErrCorrupt, where, record+1, err)
}

// decodeKV decodes one pb.KV; unknown fields are skipped, as protobuf does.
func decodeKV(b []byte, kv *pb.KV) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errWireFormat
		}
		b = b[n:]
		switch {
		case typ == protowire.BytesType && (num == fieldKey || num == fieldValue || num == fieldUserMeta || num == fieldMeta):
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return errWireFormat
			}
			b = b[n:]
			switch num {
			case fieldKey:
				kv.Key = v
			case fieldValue:
				kv.Value = v
			case fieldUserMeta:
				kv.UserMeta = v
			case fieldMeta:
				kv.Meta = v
			}
		case typ == protowire.VarintType && (num == fieldVersion || num == fieldExpiresAt || num == fieldStreamID || num == fieldStreamDone):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return errWireFormat
			}
			b = b[n:]
			switch num {
			case fieldVersion:
				kv.Version = v
			case fieldExpiresAt:
				kv.ExpiresAt = v
			case fieldStreamID:
				kv.StreamId = uint32(v)
			case fieldStreamDone:
				kv.StreamDone = v != 0
			}
		case num >= fieldKey && num <= fieldMeta || num == fieldStreamID || num == fieldStreamDone:
			return fmt.Errorf("%w: field %d has wire type %d", errWireFormat, num, typ)
		default:
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return errWireFormat
			}
			b = b[n:]
		}
	}
	return nil
}
