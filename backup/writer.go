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

	"github.com/klauspost/compress/zstd"
)

// Writer writes one backup file: the header at creation, the frames Dump's
// pipeline seals, the trailer on Close. A Writer is not safe for concurrent
// use; it buffers at most one frame.
type Writer struct {
	out     io.Writer
	sum     hash.Hash
	enc     *zstd.Encoder
	summary Summary
	content contentSum
	cur     *frame
	// incremental files end with key frames; inventory is set once they began.
	incremental bool
	inventory   bool
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
	bw := &Writer{sum: sha256.New(), cur: newFrame(fullFrameSize), incremental: hdr.FormatVersion == FormatIncremental}
	bw.out = io.MultiWriter(w, bw.sum)
	if hdr.Compression == CompressionZstd {
		enc, err := newEncoder()
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

// beginKeys ends the data frames of an incremental backup; key frames follow.
func (w *Writer) beginKeys() error {
	if !w.incremental {
		return fmt.Errorf("a key list belongs to an incremental backup (format %d) only", FormatIncremental)
	}
	if w.inventory {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.inventory = true
	w.cur.kind = kindInventory
	return nil
}

func checkRecordSize(key, value []byte) error {
	if len(key) > maxKeyLen {
		return fmt.Errorf("key %q is %d bytes, over Badger's %d-byte limit", truncateKey(key), len(key), maxKeyLen)
	}
	if size := recordSize(key, value); size > MaxFrameRaw {
		return fmt.Errorf("record %q is %d bytes, over the %d-byte frame limit", truncateKey(key), size, MaxFrameRaw)
	}
	return nil
}

// flush seals and writes the pending frame, if any.
func (w *Writer) flush() error {
	if w.cur.keys == 0 {
		return nil
	}
	w.cur.seal(w.enc)
	err := w.writeFrame(w.cur)
	w.cur.reset()
	return err
}

// writeFrame writes a sealed frame and counts it.
func (w *Writer) writeFrame(f *frame) error {
	if err := w.write(f.fixed[:]); err != nil {
		return err
	}
	if err := w.write(f.stored); err != nil {
		return err
	}
	w.summary.Frames++
	if f.kind == kindInventory {
		w.summary.Inventory += uint64(f.keys)
		return nil
	}
	w.summary.Keys += uint64(f.keys)
	w.summary.Bytes += f.bytes
	w.content.merge(f.content)
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
	w.summary.ContentSum = w.content.hex()
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

func (w *Writer) compression() Compression {
	if w.enc != nil {
		return CompressionZstd
	}
	return CompressionNone
}

func truncateKey(key []byte) string {
	if len(key) > 48 {
		return string(key[:48]) + "..."
	}
	return string(key)
}
