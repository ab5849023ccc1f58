package backup

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/klauspost/compress/zstd"
)

// keysPerRange is the rough number of keys each parallel range of a dump
// covers: small enough that workers rarely wait on the ordered writer, large
// enough that seeking is negligible. Since ranges are cut at stream
// boundaries too (tableSplits), each stream's part of a table gets all of
// the table's pieces, and each range starts with a seek through every level:
// on 10M log records 4,096 keys made 5,591 ranges and cost 7% more CPU than
// the old cut (37.1–37.2 CPU-s against 34.5–34.6), 8,192 about 3% (35.0–36.0).
const keysPerRange = 8 << 10

// framesAhead is how many sealed frames one range may hold while the writer
// is busy with an earlier range. Before ranges were cut at stream
// boundaries (tableSplits), one could hold the tail of a whole log stream,
// and a worker that reached it while the other was still in the previous
// one stopped when its frames filled up.
// Measured on 1M log records: 4 frames took 2.1 s, 16 took 1.35 s, 64 take
// 1.28 s at 173 MiB of peak RSS (once the table pages read are released,
// see kv.ReleaseTablePages); 128 gain nothing more. Splitting busy ranges for idle workers (work stealing) was
// tried too: 2% faster, 35 MiB more, not worth its locking.
const framesAhead = 64

// framesUnderWay is how many frames may be under way in a dump — taken by
// a worker and not yet written — before the workers of ranges ahead of the
// writer wait (see framePool): it bounds a dump's memory however slow its
// reader is (a frame holds about 1 MiB of records and, once sealed, their
// compressed copy, about a quarter of that).
// A range can still hold several frames, and the other worker must be able
// to run far ahead meanwhile.
// Measured on an online backup of 1M log records: 64 frames took 3.2 s,
// 128 took 2.85 s, 256 take 2.1 s as without a bound; a client reading at
// 5 MB/s then raises the server's peak RSS to 647 MiB, not 775 MiB and
// growing with the database.
const framesUnderWay = 4 * framesAhead

// StreamFramesUnderWay is framesUnderWay for a dump a client downloads
// (DumpOptions.FramesUnderWay of an online backup): a slow client leaves the
// workers ahead of the writer, and each frame they hold costs memory the
// server keeps until the client catches up. Measured on a server holding 1M
// log records, one client reading at 100 KB/s raised its RSS from 50 MiB to
// 1 GiB (and growing) in 25 s with 256 frames, 200 MiB with 64, 135 MiB with
// 16; a fast download took as long with 64 as with 256 (5 to 10 s on a
// loaded two-core machine).
const StreamFramesUnderWay = framesAhead

// pipeline dumps key ranges in parallel at one read timestamp and writes
// their frames in key order: workers take ranges in order, fill and seal
// frames, and hand them over through one channel per range; the writer
// drains range 0, then range 1, and so on.
type pipeline struct {
	txn      *badger.Txn
	since    uint64 // only records above this version (incremental backups)
	keysOnly bool   // key frames: the live keys of an incremental backup
	out      *Writer
	ranges   []keyRange
	workers  int
	underWay int // frames under way before workers ahead wait; framesUnderWay when 0
	progress func(keys, bytes uint64)
	// exclude lists the stream patterns whose keys are left out (logs
	// database only).
	exclude []string
	// release, when set, is called every releaseEvery frames written: it
	// drops the pages of the tables read so far (see kv.ReleaseTablePages).
	release func()
	// peakChans is the most range channels held at once, and framesOut the
	// frames taken from the pool and not given back at the end (for tests).
	peakChans, framesOut int
}

// releaseEvery is how many frames (of up to 1 MiB of records) a dump
// writes between two releases of the table pages it read.
const releaseEvery = 32

type keyRange struct{ start, end []byte } // [start, end); nil end: to the last key

func (p *pipeline) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := p.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(p.ranges))
	outs := newRangeChans(len(p.ranges))
	defer func() { p.peakChans = outs.peak }()
	underWay := p.underWay
	if underWay <= 0 {
		underWay = framesUnderWay
	}
	pool := newFramePool(ctx, underWay)
	defer pool.close()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc, err := encoderFor(p.out)
			if err != nil {
				cancel(err)
				return
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.ranges) {
					return
				}
				out := outs.get(i)
				err := p.dumpRange(ctx, i, out, pool, enc)
				close(out)
				if err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	err := p.write(ctx, outs, pool)
	if err != nil {
		cancel(err) // workers waiting to hand over or take a frame give up
	}
	wg.Wait()
	p.framesOut = pool.taken()
	if err != nil {
		return err
	}
	return context.Cause(ctx)
}

// write drains the ranges' frames in order into the file.
func (p *pipeline) write(ctx context.Context, outs *rangeChans, pool *framePool) error {
	var released uint64 // logical bytes written at the last release
	for i := range outs.n {
		ch := outs.get(i)
		pool.drain(i)
		for {
			var f *frame
			var ok bool
			select {
			case f, ok = <-ch:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if !ok {
				break
			}
			err := p.out.writeFrame(f)
			pool.put(f)
			if err != nil {
				return err
			}
			if p.release != nil && (p.out.summary.Frames%releaseEvery == 0 || p.out.summary.Bytes-released >= releaseBytes) {
				p.release()
				released = p.out.summary.Bytes
			}
			if p.progress != nil {
				p.progress(p.out.summary.Keys, p.out.summary.Bytes)
			}
		}
		outs.drop(i)
	}
	return nil
}

// dumpRange fills frames with the live records of one range and sends them,
// sealed, to out.
func (p *pipeline) dumpRange(ctx context.Context, i int, out chan<- *frame, pool *framePool, enc *zstd.Encoder) error {
	r := p.ranges[i]
	it := liveIterator(p.txn, p.since)
	defer it.Close()
	kind := byte(kindFrame)
	if p.keysOnly {
		kind = kindInventory
	}
	// An incremental's frames mostly hold a range's few changes or its
	// keys: far less than a full frame. Allocating and zeroing a full one
	// for each was a sixth of an incremental backup's CPU on 1M log
	// records (500 frames, 532 MB); it is now 33 MB.
	size := fullFrameSize
	if p.since > 0 || p.keysOnly {
		size = smallFrameSize
	}
	f, err := pool.get(i, size)
	if err != nil {
		return err
	}
	f.kind = kind
	skip := streamSkipper(p.exclude)
	// handOver seals f and sends it to the writer, which gives it back to
	// the pool once written.
	handOver := func() error {
		f.seal(enc)
		select {
		case out <- f:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	// send hands f over and takes the range's next frame.
	send := func() error {
		if err := handOver(); err != nil {
			return err
		}
		var err error
		if f, err = pool.get(i, size); err != nil {
			return err
		}
		f.kind = kind
		return nil
	}
	for it.Seek(r.start); it.Valid(); it.Next() {
		item := it.Item()
		if r.end != nil && bytes.Compare(item.Key(), r.end) >= 0 {
			break
		}
		// Badger's iterator already skips deleted and expired keys: asking
		// again would read the clock once more per record with a TTL.
		if reserved(item.Key()) || (skip != nil && skip(item.Key())) {
			continue
		}
		if p.keysOnly {
			if f.keys > 0 && len(f.raw)+recordSize(item.Key(), nil) > targetFrameRaw {
				if err := send(); err != nil {
					return err
				}
			}
			f.addKey(item.Key(), item.ExpiresAt())
			continue
		}
		// A full frame is sent before the value is read: Value holds the
		// value log file's read lock while its callback runs, and a send
		// may wait for the writer, which may wait for a worker that
		// queues behind a rotation of that file.
		if f.keys > 0 && len(f.raw)+recordSize(item.Key(), nil)+int(item.ValueSize()) > targetFrameRaw {
			if err := send(); err != nil {
				return err
			}
		}
		err := item.Value(func(v []byte) error {
			if err := checkRecordSize(item.Key(), v); err != nil {
				return err
			}
			f.add(item.Key(), v, item.UserMeta(), item.Version(), item.ExpiresAt())
			return nil
		})
		if err != nil {
			return fmt.Errorf("read key %q: %w", truncateKey(item.Key()), err)
		}
	}
	if f.keys > 0 {
		// Not send: a frame taken after the last would never be given
		// back, and the pool, one frame short per range, held every worker
		// but the writer's after framesUnderWay ranges (a dump of 10M
		// records ran on one core).
		return handOver()
	}
	pool.put(f)
	return nil
}

// encoderFor returns a worker's own compressor for w's frames (nil: frames
// are stored as is).
func encoderFor(w *Writer) (*zstd.Encoder, error) {
	if w.enc == nil {
		return nil, nil
	}
	enc, err := newEncoder()
	if err != nil {
		return nil, fmt.Errorf("start zstd: %w", err)
	}
	return enc, nil
}

// splitKeys cuts the key space into ranges of about keysPerRange keys, from
// the boundaries and key counts of the database's tables, read at txn (see
// tableSplits). The ranges cover every key, in order, whatever their quality.
func splitKeys(db *badger.DB, txn *badger.Txn) []keyRange {
	var splits [][]byte
	s := newSplitter(txn)
	defer s.close()
	for _, t := range db.Tables() {
		left, right := y.ParseKey(t.Left), y.ParseKey(t.Right)
		splits = append(splits, left, right)
		pieces := int(t.KeyCount) / keysPerRange
		splits = append(splits, s.tableSplits(left, right, pieces)...)
	}
	sort.Slice(splits, func(i, j int) bool { return bytes.Compare(splits[i], splits[j]) < 0 })
	ranges := []keyRange{{}}
	for _, s := range splits {
		last := &ranges[len(ranges)-1]
		if len(s) == 0 || (last.start != nil && bytes.Compare(s, last.start) <= 0) {
			continue
		}
		last.end = s
		ranges = append(ranges, keyRange{start: s})
	}
	return ranges
}

// interpolate returns n-1 keys evenly spaced between left and right, reading
// the 8 bytes after their common prefix as a number (exact for keys that
// grow like timestamps or counters, rough otherwise).
func interpolate(left, right []byte, n int) [][]byte {
	if n < 2 || bytes.Compare(left, right) >= 0 {
		return nil
	}
	common := 0
	for common < len(left) && common < len(right) && left[common] == right[common] {
		common++
	}
	word := func(k []byte) *big.Int {
		var b [8]byte
		copy(b[:], k[common:])
		return new(big.Int).SetUint64(binary.BigEndian.Uint64(b[:]))
	}
	lo, hi := word(left), word(right)
	span := new(big.Int).Sub(hi, lo)
	out := make([][]byte, 0, n-1)
	for i := 1; i < n; i++ {
		v := new(big.Int).Mul(span, big.NewInt(int64(i)))
		v.Div(v, big.NewInt(int64(n)))
		v.Add(v, lo)
		key := append([]byte(nil), left[:common]...)
		key = binary.BigEndian.AppendUint64(key, v.Uint64())
		out = append(out, key)
	}
	return out
}
