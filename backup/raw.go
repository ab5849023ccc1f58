package backup

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// rawWriter writes the raw Badger backup stream that `badger restore` and
// Badger's DB.Load read: a little-endian uint64 length, then a pb.KVList,
// repeated. It has no header, checksum or trailer.
type rawWriter struct {
	out     io.Writer
	list    pb.KVList
	size    int
	summary Summary
	content contentSum
}

func newRawWriter(w io.Writer) *rawWriter { return &rawWriter{out: w} }

func (w *rawWriter) Add(key, value []byte, userMeta byte, version, expiresAt uint64) error {
	kv := &pb.KV{
		Key:       append([]byte(nil), key...),
		Value:     append([]byte(nil), value...),
		UserMeta:  []byte{userMeta},
		Version:   version,
		ExpiresAt: expiresAt,
	}
	w.list.Kv = append(w.list.Kv, kv)
	w.content.add(key, value, userMeta, expiresAt)
	w.size += len(key) + len(value) + 32
	w.summary.Keys++
	w.summary.Bytes += uint64(len(key) + len(value))
	if w.size >= targetFrameRaw {
		return w.flush()
	}
	return nil
}

func (w *rawWriter) flush() error {
	if len(w.list.Kv) == 0 {
		return nil
	}
	body, err := proto.Marshal(&w.list)
	if err != nil {
		return fmt.Errorf("encode records: %w", err)
	}
	var prefix [rawLengthPrefix]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(body)))
	for _, p := range [][]byte{prefix[:], body} {
		n, err := w.out.Write(p)
		w.summary.FileBytes += int64(n)
		if err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
	}
	w.summary.Frames++
	w.list.Kv = w.list.Kv[:0]
	w.size = 0
	return nil
}

func (w *rawWriter) Close() (Summary, error) {
	err := w.flush()
	w.summary.ContentSum = w.content.hex()
	return w.summary, err
}
