package operations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrNotFound is returned for an operation id that names no operation.
var ErrNotFound = errors.New("operation not found")

// recentKept is how many finished operations a Tracker keeps in memory
// with the answer of their request.
const recentKept = 64

// Tracker runs the operation records of one process: it holds the
// operations running now, with their progress, and writes each one's
// record into the History when it ends. It is safe for concurrent use.
type Tracker struct {
	history *History
	now     func() time.Time

	mu      sync.Mutex
	running map[string]*Op
	recent  []*Op // finished, oldest first, at most recentKept
}

// NewTracker returns a tracker writing into h; now is its clock (time.Now
// when nil).
func NewTracker(h *History, now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	return &Tracker{history: h, now: now, running: map[string]*Op{}}
}

// Start says what an operation is when it starts.
type Start struct {
	Kind      string
	Trigger   string
	Who       string
	Databases []string
	SetID     string
	DryRun    bool
	// EndRecordOnly writes the record when the operation ends only, not
	// when it starts (an offline command whose catalog does not exist yet).
	EndRecordOnly bool
}

// Start registers a running operation and writes its record, running,
// into the history (unless it is a dry run or s.EndRecordOnly): another
// process lists it, and one whose process dies is listed interrupted. End
// it with Op.Finish.
func (t *Tracker) Start(s Start) *Op {
	now := t.now()
	op := &Op{t: t, rec: Record{ID: newID(now), Kind: s.Kind, Trigger: s.Trigger, Who: s.Who, StartedAt: now.UTC(),
		State: StateRunning, Databases: append([]string{}, s.Databases...), DryRun: s.DryRun, PID: thisPID, Host: thisHost}}
	if s.SetID != "" {
		op.SetSet(s.SetID)
	}
	runningHere.Store(op.rec.ID, struct{}{})
	t.mu.Lock()
	t.running[op.rec.ID] = op
	t.mu.Unlock()
	if !s.DryRun && !s.EndRecordOnly {
		_ = t.history.Write(context.Background(), op.Snapshot())
		op.startRecorded = true
	}
	return op
}

// finished moves op from the running operations to the recent ones.
func (t *Tracker) finished(op *Op) {
	runningHere.Delete(op.rec.ID)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.running, op.rec.ID)
	t.recent = append(t.recent, op)
	if len(t.recent) > recentKept {
		t.recent = slices.Delete(t.recent, 0, len(t.recent)-recentKept)
	}
}

// Discard forgets op, which is not written into the history: for an
// operation that turned out to be a refusal (it changed nothing and its
// caller got the answer).
func (t *Tracker) Discard(op *Op) {
	if op == nil {
		return
	}
	op.mu.Lock()
	op.ended = true
	op.mu.Unlock()
	runningHere.Delete(op.rec.ID)
	t.mu.Lock()
	delete(t.running, op.rec.ID)
	t.mu.Unlock()
	if op.startRecorded {
		t.history.remove(context.Background(), op.rec.ID)
	}
}

// Running returns how many operations of kind run now ("" for all).
func (t *Tracker) Running(kind string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, op := range t.running {
		if kind == "" || op.rec.Kind == kind {
			n++
		}
	}
	return n
}

// List returns up to limit operations, newest first, older than the
// operation before when it is not empty: those running in this process and
// those of the history.
func (t *Tracker) List(ctx context.Context, before string, limit int) ([]Record, error) {
	stored, err := t.history.List(ctx, before, limit)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]Record, 0, len(stored))
	for _, op := range t.live() {
		if before == "" || op.rec.ID < before {
			r := op.Snapshot()
			r.Result = nil
			out = append(out, r)
			seen[r.ID] = true
		}
	}
	for _, r := range stored {
		if !seen[r.ID] {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// live returns the operations running and the recent ones.
func (t *Tracker) live() []*Op {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Op, 0, len(t.running)+len(t.recent))
	for _, op := range t.running {
		out = append(out, op)
	}
	return append(out, t.recent...)
}

// Get returns operation id: from memory while it runs or shortly after
// (with the answer of its request), else from the history.
func (t *Tracker) Get(ctx context.Context, id string) (Record, error) {
	if !ValidID(id) {
		return Record{}, fmt.Errorf("%w: %q is not an operation id", ErrNotFound, id)
	}
	for _, op := range t.live() {
		if op.rec.ID == id {
			return op.Snapshot(), nil
		}
	}
	ids, err := t.history.ids(ctx)
	if err != nil {
		return Record{}, err
	}
	if !slices.Contains(ids, id) {
		return Record{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return t.history.Get(ctx, id)
}
