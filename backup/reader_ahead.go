package backup

import (
	"fmt"
	"runtime"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/klauspost/compress/zstd"
)

// readAhead is a Reader's queue of data frames read ahead of its caller,
// each decoded on its own goroutine.
type readAhead struct {
	window int // frames decoded ahead at most
	queue  []*pendingFrame
	queued int // decoded bytes of the frames in queue
	free   []*pendingFrame
	last   *pendingFrame // returned to the caller: in use until its next call
	stop   *stopAt       // why reading ahead stopped; nil while it goes on
}

// stopAt is where reading ahead stopped: at a byte that starts something
// other than a data frame (its kind, the SHA-256 of what came before it, its
// offset), or at an error.
type stopAt struct {
	kind   byte
	digest []byte
	pos    int64
	err    error
}

// framesAheadOfReader is how many data frames a Reader decodes ahead: one
// per CPU plus one being returned and one being read. Frames are about 1
// MiB decoded, so this holds a few MiB.
func framesAheadOfReader() int { return runtime.GOMAXPROCS(0) + 2 }

// aheadBytes bounds the decoded bytes of the frames read ahead: a frame
// decodes to up to MaxFrameRaw, and a file of such frames (a value of many
// MiB of zeros compresses a thousandfold) must not make a reader hold one
// per CPU. Ordinary frames are about 1 MiB, so the window alone limits them.
const aheadBytes = 16 << 20

// pooledFrameBytes bounds the buffers a released frame keeps for the next:
// the rare large frame's are left to the collector.
const pooledFrameBytes = 4 << 20

// room reports whether another frame may be read ahead: one always, more
// while the window and aheadBytes allow.
func (a *readAhead) room() bool {
	return len(a.queue) == 0 || (len(a.queue) < a.window && a.queued < aheadBytes)
}
func (a *readAhead) waiting() bool { return len(a.queue) > 0 }
func (a *readAhead) push(f *pendingFrame) {
	a.queue = append(a.queue, f)
	a.queued += int(f.rawLen)
}

// pop takes the oldest frame; it is the caller's until release.
func (a *readAhead) pop() *pendingFrame {
	f := a.queue[0]
	a.queue[0] = nil
	a.queue = a.queue[1:]
	a.queued -= int(f.rawLen)
	a.last = f
	return f
}

// release takes back the frame the caller had, for its buffers.
func (a *readAhead) release() {
	if f := a.last; f != nil {
		if cap(f.stored) > pooledFrameBytes {
			f.stored = nil
		}
		if cap(f.raw) > pooledFrameBytes || cap(f.dec.own) > pooledFrameBytes {
			f.raw, f.dec = nil, decoded{}
		}
		f.kvs = nil // the caller's now: a pooled frame must not keep them alive
		a.free = append(a.free, f)
		a.last = nil
	}
}

// newFrame returns an empty frame, reusing the buffers of a released one.
func (a *readAhead) newFrame() *pendingFrame {
	var f *pendingFrame
	if n := len(a.free); n > 0 {
		f, a.free = a.free[n-1], a.free[:n-1]
	} else {
		f = &pendingFrame{}
	}
	f.kvs, f.err, f.done = nil, nil, make(chan struct{})
	return f
}

// pendingFrame is one frame on its way from the file to the caller.
type pendingFrame struct {
	where        string
	rawLen, keys uint32
	stored       []byte // as read, its checksum already checked
	raw          []byte // decompressed
	dec          decoded
	kvs          []*pb.KV
	err          error
	done         chan struct{} // closed once kvs or err is set
}

func (f *pendingFrame) fail(err error) {
	f.err = err
	close(f.done)
}

// decode decompresses and decodes the frame, then closes f.done. The
// records point into the decompressed bytes. With reuse those are the
// frame's own buffers, which its next use overwrites; without, fresh ones
// the caller may keep.
func (f *pendingFrame) decode(dec *zstd.Decoder, reuse bool) {
	defer close(f.done)
	if !reuse {
		// The records will point into these buffers: the next frame
		// must not overwrite them.
		f.raw, f.dec = nil, decoded{}
	}
	plain := f.stored
	if dec != nil {
		var err error
		if f.raw, err = dec.DecodeAll(f.stored, f.raw[:0]); err != nil {
			f.err = fmt.Errorf("%w: %s does not decompress: %w", ErrCorrupt, f.where, err)
			return
		}
		plain = f.raw
	}
	if len(plain) != int(f.rawLen) {
		f.err = fmt.Errorf("%w: %s decodes to %d bytes, header says %d", ErrCorrupt, f.where, len(plain), f.rawLen)
		return
	}
	if dec == nil && !reuse {
		plain = append([]byte(nil), plain...) // f.stored is reused for the next frame read
	}
	kvs, err := decodeOwned(plain, f.where, &f.dec)
	if err != nil {
		f.err = err
		return
	}
	if len(kvs) != int(f.keys) {
		f.err = fmt.Errorf("%w: %s holds %d records, header says %d", ErrCorrupt, f.where, len(kvs), f.keys)
		return
	}
	f.kvs = kvs
}
