package backup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Writer writes one backup file: the header at creation, frames of records as
// they are added, the trailer on Close. A Writer is not safe for concurrent
// use; it buffers at most one frame.
type Writer struct {
	out     io.Writer
	sum     hash.Hash
	enc     *zstd.Encoder
	summary Summary

	frame     []byte // marshalled KVList being filled
	frameKeys uint32
	stored    []byte
	kvBuf     pb.KV
	content   *contentHash
}

// NewWriter writes hdr to w and returns a Writer for the records. Unset
// header fields get defaults: the current format version and zstd.
func NewWriter(w io.Writer, hdr Header) (*Writer, error) {
	if hdr.FormatVersion == 0 {
		hdr.FormatVersion = FormatVersion
	}
	if hdr.Compression == "" {
		hdr.Compression = CompressionZstd
	}
	bw := &Writer{sum: sha256.New(), content: newContentHash(), frame: make([]byte, 0, targetFrameRaw+64<<10)}
	bw.out = io.MultiWriter(w, bw.sum)
	if hdr.Compression == CompressionZstd {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("start zstd: %w", err)
		}
		bw.enc = enc
	}
	if err := bw.writeHeader(hdr); err != nil {
		return nil, err
	}
	return bw, nil
}

func (w *Writer) writeHeader(hdr Header) error {
	body, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("encode header: %w", err)
	}
	buf := make([]byte, 0, headerFixedLen+len(body)+4)
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(hdr.FormatVersion))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
	buf = append(buf, body...)
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf[len(magic):], crcTable))
	return w.write(buf)
}

// Add appends one record. Only Key, Value, UserMeta, Version and ExpiresAt
// are kept. The record's slices may be reused by the caller once Add returns.
func (w *Writer) Add(key, value []byte, userMeta byte, version, expiresAt uint64) error {
	w.kvBuf = pb.KV{Key: key, Value: value, Version: version, ExpiresAt: expiresAt}
	if userMeta != 0 {
		w.kvBuf.UserMeta = []byte{userMeta}
	}
	size := proto.Size(&w.kvBuf)
	if size > MaxFrameRaw-16 {
		return fmt.Errorf("record %q is %d bytes, over the %d-byte frame limit", truncateKey(key), size, MaxFrameRaw)
	}
	if len(w.frame) > 0 && len(w.frame)+size+16 > targetFrameRaw {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.frame = protowire.AppendTag(w.frame, 1, protowire.BytesType)
	w.frame = protowire.AppendVarint(w.frame, uint64(size))
	var err error
	w.frame, err = proto.MarshalOptions{}.MarshalAppend(w.frame, &w.kvBuf)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	w.content.add(key, value, userMeta, expiresAt)
	w.frameKeys++
	w.summary.Keys++
	w.summary.Bytes += uint64(len(key) + len(value))
	return nil
}

// flush writes the pending frame, if any.
func (w *Writer) flush() error {
	if w.frameKeys == 0 {
		return nil
	}
	data := w.frame
	if w.enc != nil {
		w.stored = w.enc.EncodeAll(w.frame, w.stored[:0])
		data = w.stored
	}
	if err := w.writeFrame(data, len(w.frame), w.frameKeys); err != nil {
		return err
	}
	w.frame = w.frame[:0]
	w.frameKeys = 0
	return nil
}

func (w *Writer) writeFrame(data []byte, rawLen int, keys uint32) error {
	var fixed [frameFixedLen]byte
	fixed[0] = kindFrame
	binary.LittleEndian.PutUint32(fixed[1:], uint32(len(data)))
	binary.LittleEndian.PutUint32(fixed[5:], uint32(rawLen))
	binary.LittleEndian.PutUint32(fixed[9:], keys)
	crc := crc32.Update(crc32.Checksum(fixed[:13], crcTable), crcTable, data)
	binary.LittleEndian.PutUint32(fixed[13:], crc)
	if err := w.write(fixed[:]); err != nil {
		return err
	}
	if err := w.write(data); err != nil {
		return err
	}
	w.summary.Frames++
	return nil
}

// Close writes the last frame and the trailer. It does not close the
// underlying writer.
func (w *Writer) Close() (Summary, error) {
	if err := w.flush(); err != nil {
		return w.summary, err
	}
	if w.enc != nil {
		_ = w.enc.Close()
	}
	digest := w.sum.Sum(nil)
	buf := make([]byte, 0, trailerLen)
	buf = append(buf, kindTrailer)
	buf = binary.LittleEndian.AppendUint64(buf, w.summary.Keys)
	buf = binary.LittleEndian.AppendUint64(buf, w.summary.Bytes)
	buf = binary.LittleEndian.AppendUint64(buf, w.summary.Frames)
	buf = append(buf, digest...)
	buf = append(buf, endMarker...)
	if err := w.write(buf); err != nil {
		return w.summary, err
	}
	w.summary.SHA256 = hex.EncodeToString(w.sum.Sum(nil)) // the whole file, trailer included
	w.summary.ContentSHA256 = w.content.hex()
	return w.summary, nil
}

func (w *Writer) write(p []byte) error {
	n, err := w.out.Write(p)
	w.summary.FileBytes += int64(n)
	if err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	return nil
}

func truncateKey(key []byte) string {
	if len(key) > 48 {
		return string(key[:48]) + "..."
	}
	return string(key)
}

func (w *Writer) compression() Compression {
	if w.enc != nil {
		return CompressionZstd
	}
	return CompressionNone
}
