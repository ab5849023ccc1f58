package backup

import (
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"google.golang.org/protobuf/proto"
)

// TestAppendStreamRecord_ReadsBackAsTheStreamWriterExpects checks the
// hand-written marshalling against protobuf's own decoding, the way
// Badger's StreamWriter reads the buffer.
func TestAppendStreamRecord_ReadsBackAsTheStreamWriterExpects(t *testing.T) {
	records := []*pb.KV{
		{Key: []byte("k")},
		{Key: []byte("log/a/1"), Value: []byte(`{"m":"x"}`), UserMeta: []byte{7}, Version: 42, ExpiresAt: 1795394736},
		{Key: []byte("v0"), Value: make([]byte, 300<<10), Meta: []byte{0x2}},
		{Key: make([]byte, 1000), ExpiresAt: 1},
	}
	buf := z.NewBuffer(1<<20, "test")
	defer buf.Release()
	for _, rec := range records {
		appendStreamRecord(buf, rec)
	}
	i := 0
	err := buf.SliceIterate(func(s []byte) error {
		var got pb.KV
		if err := proto.Unmarshal(s, &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want := proto.Clone(records[i]).(*pb.KV)
		want.StreamId, want.Version, want.Meta = wipeStreamID, max(want.Version, 1), nil
		if !proto.Equal(&got, want) {
			t.Errorf("record %d reads back as %v, want %v", i, &got, want)
		}
		i++
		return nil
	})
	if err != nil || i != len(records) {
		t.Fatalf("read %d of %d records: %v", i, len(records), err)
	}
}
