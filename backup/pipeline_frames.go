package backup

import (
	"context"
	"sync"
)

// smallFrameSize is the room a new frame of an incremental backup starts
// with.
const smallFrameSize = 64 << 10

// framePool hands frames to a dump's workers and takes them back from its
// writer, and holds workers back while too many are under way: the writer
// takes the ranges in order, and without a bound a slow writer (a slow
// client of an online backup) let the workers read ahead through the whole
// database into memory. The worker of the range the writer drains is never
// held back, so the dump always moves on.
//
// Frames come back to the pool for reuse. A sync.Pool did that before, but a
// dump runs under a soft memory limit (StreamingMemoryLimit) that makes
// collections frequent, and each one emptied it.
type framePool struct {
	mu      sync.Mutex
	turn    *sync.Cond
	free    []*frame
	out     int // frames taken and not yet given back
	limit   int
	current int // the range the writer drains
	stop    func() bool
	err     error
}

// newFramePool returns a pool that lets limit frames be under way (those of
// the range being written count, but its worker is never held back); the
// workers it holds back give up when ctx ends.
func newFramePool(ctx context.Context, limit int) *framePool {
	p := &framePool{limit: limit}
	p.turn = sync.NewCond(&p.mu)
	p.stop = context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.err = context.Cause(ctx)
		p.turn.Broadcast()
		p.mu.Unlock()
	})
	return p
}

// get returns a frame for range i, reused or new with room for size bytes,
// once range i is the one being written or fewer than the limit are out.
func (p *framePool) get(i, size int) (*frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i != p.current && p.out >= p.limit && p.err == nil {
		p.turn.Wait()
	}
	if p.err != nil {
		return nil, p.err
	}
	p.out++
	if n := len(p.free); n > 0 {
		f := p.free[n-1]
		p.free = p.free[:n-1]
		return f, nil
	}
	return newFrame(size), nil
}

// put takes back a frame written or left unused. One that grew past a full
// frame's room, for a large record, is let go rather than kept for frames
// that do not need it.
func (p *framePool) put(f *frame) {
	f.reset()
	p.mu.Lock()
	if cap(f.raw) <= fullFrameSize && cap(f.comp) <= fullFrameSize {
		p.free = append(p.free, f)
	}
	p.out--
	p.turn.Signal()
	p.mu.Unlock()
}

// drain says the writer has moved on to range i.
func (p *framePool) drain(i int) {
	p.mu.Lock()
	p.current = i
	p.turn.Broadcast()
	p.mu.Unlock()
}

// taken is how many frames are out of the pool.
func (p *framePool) taken() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out
}

// close lets go of the pool's context.
func (p *framePool) close() { p.stop() }

// rangeChans holds the channel of each range of a dump, made when the
// range's worker or the writer first asks for it and let go once the writer
// has drained it. Made up front, with room for framesAhead frames each,
// they were about 600 bytes per range whatever the range held: 150 MiB at
// 1B records (a range per keysPerRange keys), more than a dump's whole
// budget; now only the ranges between the writer and the workers hold one.
type rangeChans struct {
	mu   sync.Mutex
	n    int
	chs  map[int]chan *frame
	peak int // most channels held at once
}

func newRangeChans(n int) *rangeChans {
	return &rangeChans{n: n, chs: map[int]chan *frame{}}
}

// get returns range i's channel, making it if need be.
func (r *rangeChans) get(i int) chan *frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.chs[i]
	if !ok {
		ch = make(chan *frame, framesAhead)
		r.chs[i] = ch
		r.peak = max(r.peak, len(r.chs))
	}
	return ch
}

// drop lets go of range i's channel once the writer has drained it.
func (r *rangeChans) drop(i int) {
	r.mu.Lock()
	delete(r.chs, i)
	r.mu.Unlock()
}
