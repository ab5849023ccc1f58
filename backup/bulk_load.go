package backup

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/flowg-backup/flowg/kv"
)

// bulkWriter fills an empty database through Badger's StreamWriter with
// records given in increasing key order, in one stream, releasing as it
// goes the pages of the tables and value log it wrote (so the process
// does not grow with the database). A wipe restore, a verify's scratch
// load and a merge rebuilt beside its database all write through one.
type bulkWriter struct {
	db         *badger.DB
	sw         *badger.StreamWriter
	buf        *z.Buffer
	tableEvery int
	progress   func(keys, bytes uint64)

	records  uint64 // written
	bytes    uint64 // of keys and values written
	released uint64 // bytes when the value log's pages were last released
	writes   int    // buffers handed to the StreamWriter
}

// newBulkWriter prepares db, which must be empty, for a bulk load.
// progress, when set, is called after each buffer written. The caller
// must call close.
func newBulkWriter(db *badger.DB, progress func(keys, bytes uint64)) (*bulkWriter, error) {
	sw := db.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		sw.Cancel()
		return nil, fmt.Errorf("prepare restore: %w", err)
	}
	return &bulkWriter{db: db, sw: sw, buf: z.NewBuffer(8<<20, "flowg.bulk"),
		tableEvery: tableReleaseEvery(db), progress: progress}, nil
}

// add queues rec, whose key must be above every key added before; its
// slices may be reused once add returns.
func (w *bulkWriter) add(rec *pb.KV) error {
	if err := appendOrWrite(w.sw, w.buf, rec, w.db.Opts().Dir); err != nil {
		return err
	}
	w.records++
	w.bytes += uint64(len(rec.Key) + len(rec.Value))
	if w.bytes-w.released >= releaseBytes {
		// Nor need the values written to the value log (large ones go
		// there, not into tables): the process would grow by the backup's size.
		_ = kv.ReleaseValueLogPages(w.db.Opts().Dir)
		w.released = w.bytes
	}
	if w.buf.LenNoPadding() < 4<<20 {
		return nil
	}
	if err := writeBuffer(w.sw, w.buf); err != nil {
		return err
	}
	if w.writes++; w.writes%w.tableEvery == 0 {
		// The tables built so far are on disk: their pages need not
		// stay in this process's memory (see kv.ReleaseTablePages).
		_ = kv.ReleaseTablePages(w.db.Opts().Dir)
	}
	if w.progress != nil {
		w.progress(w.records, w.bytes)
	}
	return nil
}

// finish writes what is queued and makes the database hold it all.
func (w *bulkWriter) finish() error {
	if err := writeBuffer(w.sw, w.buf); err != nil {
		return err
	}
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("finish restore: %w", err)
	}
	if w.progress != nil {
		w.progress(w.records, w.bytes)
	}
	return nil
}

// close lets go of the buffer, and of the load if finish was not called.
func (w *bulkWriter) close() {
	w.sw.Cancel()
	w.buf.Release()
}
