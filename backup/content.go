package backup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// contentHash is a SHA-256 over the records of a database in key order:
// for each record its key, value, UserMeta and ExpiresAt, length-prefixed.
// A file and the database restored from it hash the same, which is what
// verification compares; unlike the file checksum it does not depend on
// compression or framing.
type contentHash struct {
	h   hash.Hash
	buf [8 + 8 + 1 + 8]byte
}

func newContentHash() *contentHash { return &contentHash{h: sha256.New()} }

func (c *contentHash) add(key, value []byte, userMeta byte, expiresAt uint64) {
	binary.LittleEndian.PutUint64(c.buf[0:], uint64(len(key)))
	binary.LittleEndian.PutUint64(c.buf[8:], uint64(len(value)))
	c.buf[16] = userMeta
	binary.LittleEndian.PutUint64(c.buf[17:], expiresAt)
	c.h.Write(c.buf[:])
	c.h.Write(key)
	c.h.Write(value)
}

func (c *contentHash) hex() string { return hex.EncodeToString(c.h.Sum(nil)) }

func userMetaOf(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
