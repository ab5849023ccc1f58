package backup

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of Badger's pb.KV, which frames hold marshalled in a pb.KVList
// (field 1, repeated).
const (
	fieldKVList     = 1
	fieldKey        = 1
	fieldValue      = 2
	fieldUserMeta   = 3
	fieldVersion    = 4
	fieldExpiresAt  = 5
	fieldMeta       = 6
	fieldStreamID   = 10
	fieldStreamDone = 11
)

// frame is one frame being filled with records, then sealed (compressed
// and checksummed) and written. Frames are reused; a frame is owned by one
// goroutine at a time.
type frame struct {
	kind    byte   // kindFrame or kindInventory
	raw     []byte // the marshalled pb.KVList
	keys    uint32
	bytes   uint64 // keys plus values
	content contentSum
	lastKey []byte // the previous key of a key frame (prefix coding)
	stored  []byte // raw, or comp
	comp    []byte // compression buffer, reused
	fixed   [frameFixedLen]byte
}

// newFrame returns an empty frame with room for size bytes of records; it
// grows if they need more.
func newFrame(size int) *frame {
	return &frame{kind: kindFrame, raw: make([]byte, 0, size)}
}

// fullFrameSize is the room of a frame expected to fill up: its target and
// the record that takes it past.
const fullFrameSize = targetFrameRaw + 64<<10

// add appends one record as a pb.KV, without allocating.
func (f *frame) add(key, value []byte, userMeta byte, version, expiresAt uint64) {
	size := protowire.SizeTag(fieldKey) + protowire.SizeBytes(len(key))
	if len(value) > 0 {
		size += protowire.SizeTag(fieldValue) + protowire.SizeBytes(len(value))
	}
	if userMeta != 0 {
		size += protowire.SizeTag(fieldUserMeta) + protowire.SizeBytes(1)
	}
	if version != 0 {
		size += protowire.SizeTag(fieldVersion) + protowire.SizeVarint(version)
	}
	if expiresAt != 0 {
		size += protowire.SizeTag(fieldExpiresAt) + protowire.SizeVarint(expiresAt)
	}
	b := protowire.AppendTag(f.raw, fieldKVList, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fieldKey, protowire.BytesType)
	b = protowire.AppendBytes(b, key)
	if len(value) > 0 {
		b = protowire.AppendTag(b, fieldValue, protowire.BytesType)
		b = protowire.AppendBytes(b, value)
	}
	if userMeta != 0 {
		b = protowire.AppendTag(b, fieldUserMeta, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte{userMeta})
	}
	if version != 0 {
		b = protowire.AppendTag(b, fieldVersion, protowire.VarintType)
		b = protowire.AppendVarint(b, version)
	}
	if expiresAt != 0 {
		b = protowire.AppendTag(b, fieldExpiresAt, protowire.VarintType)
		b = protowire.AppendVarint(b, expiresAt)
	}
	f.raw = b
	f.keys++
	f.bytes += uint64(len(key) + len(value))
	f.content.add(key, value, userMeta, expiresAt)
}

// addKey appends key to a key frame, prefix-coded: the record's key is
// what follows the prefix it shares with the previous key of the frame, and
// its version field is that prefix's length. Sorted keys share long
// prefixes, so the list of every live key of an incremental backup stays
// small. Each frame starts afresh, so frames decode on their own.
//
// A key with an expiry carries its ExpiresAt, so an incremental set built
// from the journal on top of this one can leave out the keys that expired
// meanwhile (see incremental_journal.go); readers before it ignore it.
func (f *frame) addKey(key []byte, expiresAt uint64) {
	shared := 0
	for shared < len(f.lastKey) && shared < len(key) && f.lastKey[shared] == key[shared] {
		shared++
	}
	suffix := key[shared:]
	size := protowire.SizeTag(fieldKey) + protowire.SizeBytes(len(suffix))
	if shared > 0 {
		size += protowire.SizeTag(fieldVersion) + protowire.SizeVarint(uint64(shared))
	}
	if expiresAt != 0 {
		size += protowire.SizeTag(fieldExpiresAt) + protowire.SizeVarint(expiresAt)
	}
	b := protowire.AppendTag(f.raw, fieldKVList, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fieldKey, protowire.BytesType)
	b = protowire.AppendBytes(b, suffix)
	if shared > 0 {
		b = protowire.AppendTag(b, fieldVersion, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(shared))
	}
	if expiresAt != 0 {
		b = protowire.AppendTag(b, fieldExpiresAt, protowire.VarintType)
		b = protowire.AppendVarint(b, expiresAt)
	}
	f.raw = b
	f.lastKey = append(f.lastKey[:0], key...)
	f.keys++
}

// recordSize bounds what add appends for a record.
func recordSize(key, value []byte) int { return len(key) + len(value) + 48 }

// seal compresses the frame with enc (nil: stored as is) and fills in its
// fixed fields and checksum.
func (f *frame) seal(enc *zstd.Encoder) {
	f.stored = f.raw
	if enc != nil {
		f.comp = enc.EncodeAll(f.raw, f.comp[:0])
		f.stored = f.comp
	}
	f.fixed[0] = f.kind
	binary.LittleEndian.PutUint32(f.fixed[1:], uint32(len(f.stored)))
	binary.LittleEndian.PutUint32(f.fixed[5:], uint32(len(f.raw)))
	binary.LittleEndian.PutUint32(f.fixed[9:], f.keys)
	crc := crc32.Update(crc32.Checksum(f.fixed[:13], crcTable), crcTable, f.stored)
	binary.LittleEndian.PutUint32(f.fixed[13:], crc)
}

func (f *frame) reset() {
	f.raw = f.raw[:0]
	f.lastKey = f.lastKey[:0]
	f.keys, f.bytes = 0, 0
	f.content = contentSum{}
}

// newEncoder returns a single-threaded zstd encoder for frames. Its own
// checksum is off: every frame already carries a CRC-32C of its compressed
// bytes, and the file a SHA-256, so zstd's XXH64 would be a third pass.
func newEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
}
