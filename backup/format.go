package backup

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"time"
)

// File layout (all integers little-endian):
//
//	header   magic "FLOWGBAK" | version u16 | length u32 | JSON Header | crc32c u32
//	frame    'D' | stored length u32 | raw length u32 | keys u32 | crc32c u32 | stored bytes
//	keys     'K' | the same layout, holding keys only, prefix-coded (format 2)
//	trailer  'T' | keys u64 | logical bytes u64 | frames u64 | sha256 [32] | "FLOWGEND"
//
// A frame's stored bytes are a marshalled Badger pb.KVList, zstd-compressed
// when the header says so; its crc32c covers the frame's fixed fields and
// stored bytes. The trailer's SHA-256 covers every byte before it. Nothing may
// follow the end marker.
//
// Format 2 is the incremental backup: its data frames hold only the records
// changed since the parent set's read timestamp, followed by key frames
// listing every live key, from which a restore learns which keys were
// deleted (even once Badger has compacted their tombstones away). The
// trailer's key count and logical bytes cover the data frames only.
const (
	magic     = "FLOWGBAK"
	endMarker = "FLOWGEND"

	// FormatVersion is the version of full backups; readers refuse newer ones.
	FormatVersion = 1
	// FormatIncremental is the version of incremental backups (key frames).
	FormatIncremental = 2

	kindFrame     = 'D'
	kindInventory = 'K'
	kindTrailer   = 'T'

	headerFixedLen  = len(magic) + 2 + 4
	frameFixedLen   = 1 + 4 + 4 + 4 + 4
	trailerLen      = 1 + 8 + 8 + 8 + 32 + len(endMarker)
	maxHeaderLen    = 64 << 10
	targetFrameRaw  = 1 << 20
	maxFrameKeys    = 1 << 24
	rawLengthPrefix = 8
)

// MaxFrameRaw bounds the decoded size of one frame, and so the largest single
// key plus value a backup can hold; every length read is checked against it
// before anything is allocated.
const MaxFrameRaw = 64 << 20

// maxFrameStored bounds a stored (possibly compressed) frame: zstd never
// expands incompressible input by more than a small fraction.
const maxFrameStored = MaxFrameRaw + MaxFrameRaw/64 + 4096

// maxRawList bounds one length-prefixed list of a raw Badger backup stream.
// Badger batches up to about 100 MiB per list.
const maxRawList = 512 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Compression names the frame compression of a file.
type Compression string

// Supported compressions.
const (
	CompressionNone Compression = "none"
	CompressionZstd Compression = "zstd"
)

// ParseCompression accepts "zstd" (the default when empty) or "none".
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "", string(CompressionZstd):
		return CompressionZstd, nil
	case string(CompressionNone):
		return CompressionNone, nil
	}
	return "", fmt.Errorf("unknown compression %q: use zstd or none", s)
}

// Header describes a backup file. It is written first and checked before any
// frame is read.
type Header struct {
	FormatVersion int         `json:"format_version"`
	Database      string      `json:"database"`
	Created       time.Time   `json:"created"`
	ReadTs        uint64      `json:"read_ts"`
	ToolVersion   string      `json:"tool_version"`
	Compression   Compression `json:"compression"`
	// SinceTs, in an incremental backup, is the parent set's read timestamp:
	// the data frames hold what changed after it.
	SinceTs uint64 `json:"since_ts,omitempty"`

	// Raw is set by the reader for a raw Badger backup stream, which has no
	// header: every other field is then empty.
	Raw bool `json:"-"`
}

// Summary counts what a file holds. Writers and readers fill it in as they go;
// it is final once the trailer was written or checked.
type Summary struct {
	Keys      uint64 `json:"keys"`
	Bytes     uint64 `json:"logical_bytes"` // keys plus values
	Frames    uint64 `json:"frames"`
	FileBytes int64  `json:"file_bytes"`
	// SHA256 is the checksum of the whole file, as sha256sum prints it and the
	// manifest records it (empty for raw Badger streams).
	SHA256 string `json:"sha256,omitempty"`
	// ContentSum sums the records themselves (see contentSum).
	ContentSum string `json:"content_sum,omitempty"`
	// Inventory counts the keys listed by an incremental backup's key frames.
	Inventory uint64 `json:"inventory_keys,omitempty"`
}

// Incremental reports whether the header is an incremental backup's.
func (h Header) Incremental() bool { return h.FormatVersion >= FormatIncremental }

func crc32Castagnoli(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// IsFlowgFile reports whether lead, the start of a file, is the start of a
// flowg backup file (which names its database), not a raw Badger stream or
// anything else.
func IsFlowgFile(lead []byte) bool { return bytes.HasPrefix(lead, []byte(magic)) }
