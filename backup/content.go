package backup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// contentSum identifies a set of records independently of their order,
// framing and compression, so a file and the database restored from it sum
// the same, which is what verification compares. It is the sum, in four
// 64-bit lanes, of a SHA-256 per record over its key, value, UserMeta and
// ExpiresAt (length-prefixed). Being a sum, it can be computed by parallel
// workers and merged.
type contentSum [4]uint64

func (c *contentSum) add(key, value []byte, userMeta byte, expiresAt uint64) {
	var prefix [8 + 8 + 1 + 8]byte
	binary.LittleEndian.PutUint64(prefix[0:], uint64(len(key)))
	binary.LittleEndian.PutUint64(prefix[8:], uint64(len(value)))
	prefix[16] = userMeta
	binary.LittleEndian.PutUint64(prefix[17:], expiresAt)
	h := sha256.New()
	h.Write(prefix[:])
	h.Write(key)
	h.Write(value)
	var d [sha256.Size]byte
	h.Sum(d[:0])
	for i := range c {
		c[i] += binary.LittleEndian.Uint64(d[8*i:])
	}
}

func (c *contentSum) merge(o contentSum) {
	for i := range c {
		c[i] += o[i]
	}
}

func (c contentSum) hex() string {
	var b [32]byte
	for i, lane := range c {
		binary.LittleEndian.PutUint64(b[8*i:], lane)
	}
	return hex.EncodeToString(b[:])
}

func userMetaOf(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
