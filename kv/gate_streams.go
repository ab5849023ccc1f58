package kv

import "fmt"

// stream is one shared user admitted by EnterStream.
type stream struct {
	cut    func()
	wasCut bool
}

// EnterStream admits a shared user that may be cut short: a stream that
// lasts as long as its client reads, such as an online backup. At most max
// streams are admitted at once (max < 1: no limit); beyond that it returns
// ErrTooManyStreams. While the gate is held or wanted exclusively it returns
// ErrUnavailable. Each admitted stream must call leave once.
//
// cut is called at most once, by Cut, while the stream is admitted and
// never after leave has returned; it runs under the gate's lock, so it must
// return at once (cancel a context, set a deadline) and must not call the
// gate. The stream should then end soon and leave.
func (g *Gate) EnterStream(max int, cut func()) (leave func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.exclusive {
		return nil, ErrUnavailable
	}
	if max > 0 && len(g.streams) >= max {
		return nil, fmt.Errorf("%w (%d running, at most %d)", ErrTooManyStreams, len(g.streams), max)
	}
	if g.streams == nil {
		g.streams = map[*stream]struct{}{}
	}
	st := &stream{cut: cut}
	g.streams[st] = struct{}{}
	g.users++
	return func() {
		g.mu.Lock()
		delete(g.streams, st)
		g.mu.Unlock()
		g.Leave()
	}, nil
}

// Cut cuts every stream admitted and not yet cut, and returns how many it
// cut. Other shared users are left alone.
func (g *Gate) Cut() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for st := range g.streams {
		if !st.wasCut {
			st.wasCut = true
			st.cut()
			n++
		}
	}
	return n
}

// Streams returns how many streams are admitted.
func (g *Gate) Streams() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.streams)
}
