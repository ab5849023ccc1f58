package operations

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one running operation. Its methods are safe for concurrent use,
// and do nothing on a nil *Op, so code below a door reports progress
// whether or not anyone tracks it.
type Op struct {
	t *Tracker

	done, total atomic.Uint64
	progressed  atomic.Bool

	mu     sync.Mutex
	rec    Record
	result json.RawMessage
	ended  bool
	parts  map[string]uint64 // SetPartDone
	// startRecorded: its running record was written when it started.
	startRecorded bool
}

// ID returns the operation's id ("" on nil).
func (o *Op) ID() string {
	if o == nil {
		return ""
	}
	return o.rec.ID // set once by Start
}

// SetSet records the set the operation wrote, verified or restored.
func (o *Op) SetSet(id string) {
	if o == nil || id == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rec.SetID = &id
}

// SetDatabases records the databases the operation works on.
func (o *Op) SetDatabases(names []string) {
	if o == nil || len(names) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rec.Databases = append([]string{}, names...)
}

// AddDone adds n bytes to the work done.
func (o *Op) AddDone(n uint64) {
	if o == nil {
		return
	}
	o.progressed.Store(true)
	o.done.Add(n)
}

// SetPartDone says that part (a database) of the operation has done n
// bytes so far: the work done is the sum over the parts.
func (o *Op) SetPartDone(part string, n uint64) {
	if o == nil {
		return
	}
	o.mu.Lock()
	if o.parts == nil {
		o.parts = map[string]uint64{}
	}
	old := o.parts[part]
	o.parts[part] = n
	o.mu.Unlock()
	o.progressed.Store(true)
	o.done.Add(n - old) // wraps correctly should n go down
}

// SetTotal sets the bytes the operation expects to do (0: not known).
func (o *Op) SetTotal(n uint64) {
	if o == nil {
		return
	}
	o.progressed.Store(true)
	o.total.Store(n)
}

// SetResult keeps the answer of the operation's request in memory for
// GET /api/v1/operations/:id; it is not written into the history.
func (o *Op) SetResult(body []byte) {
	if o == nil || !json.Valid(body) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.result = append(json.RawMessage{}, body...)
}

// Finish ends the operation, failed with errText unless it is empty, and
// writes its record into the history (a failure to write is logged, never
// returned), unless it is a dry run, kept in memory only. Only the first
// call counts.
func (o *Op) Finish(ctx context.Context, errText string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	if o.ended {
		o.mu.Unlock()
		return
	}
	o.ended = true
	end := o.t.now().UTC()
	o.rec.EndedAt = &end
	o.rec.State = StateSucceeded
	if errText != "" {
		o.rec.State, o.rec.Error = StateFailed, &errText
	}
	o.mu.Unlock()
	rec := o.Snapshot()
	o.t.finished(o)
	if rec.DryRun {
		return // a dry run writes nothing, not even its record: it stays in memory
	}
	_ = o.t.history.Write(context.WithoutCancel(ctx), rec)
}

// FinishErr is Finish with err's text ("" for nil).
func (o *Op) FinishErr(ctx context.Context, err error) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	o.Finish(ctx, text)
}

// Snapshot returns the operation's record as it is now.
func (o *Op) Snapshot() Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rec
	r.Databases = append([]string{}, o.rec.Databases...)
	end := o.t.now()
	if r.EndedAt != nil {
		end = *r.EndedAt
	}
	r.DurationSeconds = end.Sub(r.StartedAt).Round(time.Millisecond).Seconds()
	if o.progressed.Load() {
		r.Progress = &Progress{DoneBytes: o.done.Load(), TotalBytes: o.total.Load()}
	}
	r.Result = o.result
	return r
}

type ctxKey struct{}

// WithOp returns ctx carrying op, for the code below to report progress.
func WithOp(ctx context.Context, op *Op) context.Context {
	return context.WithValue(ctx, ctxKey{}, op)
}

// FromContext returns the operation ctx carries, or nil.
func FromContext(ctx context.Context) *Op {
	op, _ := ctx.Value(ctxKey{}).(*Op)
	return op
}
