package logstore

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestQuery_RangeBounds(t *testing.T) {
	c := newClock(base)
	s := New(openDB(t, t.TempDir()), c.Now)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	for i := range 5 {
		appendAt(t, s, c, "app", at(i), i)
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{name: "unbounded", want: []int{0, 1, 2, 3, 4}},
		{name: "from is inclusive", from: at(1), want: []int{1, 2, 3, 4}},
		{name: "from one nanosecond later", from: at(1).Add(time.Nanosecond), want: []int{2, 3, 4}},
		{name: "to is exclusive", to: at(3), want: []int{0, 1, 2}},
		{name: "to one nanosecond later", to: at(3).Add(time.Nanosecond), want: []int{0, 1, 2, 3}},
		{name: "both bounds", from: at(1), to: at(3), want: []int{1, 2}},
		{name: "from equals to", from: at(2), to: at(2), want: []int{}},
		{name: "bounds in another zone", from: at(1).In(time.FixedZone("X", -7*3600)), to: at(2).In(time.FixedZone("Y", 9*3600)), want: []int{1}},
		{name: "before every record", to: at(0), want: []int{}},
		{name: "after every record", from: at(5), want: []int{}},
		{name: "from before 1970", from: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), want: []int{0, 1, 2, 3, 4}},
		{name: "to before 1970", to: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), want: []int{}},
		{name: "to after 2262", to: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), want: []int{0, 1, 2, 3, 4}},
		{name: "from after 2262", from: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), want: []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Query("app", tt.from, tt.to, 0)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got == nil || !slices.Equal(ns(t, got), tt.want) {
				t.Errorf("Query(%s, %s) = %v, want %v", tt.from, tt.to, ns(t, got), tt.want)
			}
		})
	}
}

func TestQuery_Limit(t *testing.T) {
	c := newClock(base)
	s := New(openDB(t, t.TempDir()), c.Now)
	const total = MaxLimit + 50
	recs := make([]map[string]any, total)
	for i := range recs {
		recs[i] = map[string]any{"n": i}
	}
	if _, err := s.Append("many", recs); err != nil {
		t.Fatalf("Append: %v", err)
	}
	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{name: "zero means default", limit: 0, want: DefaultLimit},
		{name: "one", limit: 1, want: 1},
		{name: "ten", limit: 10, want: 10},
		{name: "exactly the cap", limit: MaxLimit, want: MaxLimit},
		{name: "above the cap", limit: MaxLimit * 3, want: MaxLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Query("many", time.Time{}, time.Time{}, tt.limit)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if len(got) != tt.want {
				t.Fatalf("Query(limit %d) = %d records, want %d", tt.limit, len(got), tt.want)
			}
			for i, v := range ns(t, got) {
				if v != i {
					t.Fatalf("record %d has n = %d, want %d (not oldest first)", i, v, i)
				}
			}
		})
	}
}

func TestQuery_LimitKeepsOldest(t *testing.T) {
	c := newClock(base)
	s := New(openDB(t, t.TempDir()), c.Now)
	for i := range 5 {
		appendAt(t, s, c, "app", base.Add(time.Duration(i)*time.Minute), i)
	}
	got, err := s.Query("app", base.Add(time.Minute), time.Time{}, 2)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if want := []int{1, 2}; !slices.Equal(ns(t, got), want) {
		t.Errorf("Query = %v, want %v", ns(t, got), want)
	}
}

func TestQuery_StreamsAreSeparate(t *testing.T) {
	c := newClock(base)
	s := New(openDB(t, t.TempDir()), c.Now)
	// Names that share a prefix with "a", sort either side of "a/", or would
	// collide if the '/' after the name were missing.
	streams := []string{"a", "a-b", "a.b", "a_b", "ab", "a0", "A"}
	for i, name := range streams {
		appendAt(t, s, c, name, base.Add(time.Duration(i)*time.Second), i)
	}
	for i, name := range streams {
		t.Run(name, func(t *testing.T) {
			got, err := s.Query(name, time.Time{}, time.Time{}, 0)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if want := []int{i}; !slices.Equal(ns(t, got), want) {
				t.Errorf("Query(%s) = %v, want %v", name, ns(t, got), want)
			}
		})
	}
	got, err := s.Query("unknown", time.Time{}, time.Time{}, 0)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Query(unknown) = %#v, %v; want [], nil", got, err)
	}
}

func TestQuery_RejectsBadInput(t *testing.T) {
	s := New(openDB(t, t.TempDir()), nil)
	tests := []struct {
		name     string
		stream   string
		from, to time.Time
		limit    int
		wantErr  error
	}{
		{name: "empty stream", stream: "", wantErr: ErrInvalidName},
		{name: "space in stream", stream: "a b", wantErr: ErrInvalidName},
		{name: "negative limit", stream: "ok", limit: -1, wantErr: ErrInvalidLimit},
		{name: "to before from", stream: "ok", from: base, to: base.Add(-time.Nanosecond), wantErr: ErrInvalidRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Query(tt.stream, tt.from, tt.to, tt.limit); !errors.Is(err, tt.wantErr) {
				t.Errorf("Query: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestListStreams(t *testing.T) {
	c := newClock(base)
	s := New(openDB(t, t.TempDir()), c.Now)
	got, err := s.ListStreams()
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ListStreams on an empty database = %#v, %v; want [], nil", got, err)
	}
	for i, name := range []string{"web", "a-b", "a", "ab", "web"} {
		appendAt(t, s, c, name, base.Add(time.Duration(i)*time.Second), i)
	}
	if err := s.SetTTL("configured-only", time.Hour); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	if err := s.SetTTL("web", time.Hour); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	// Records of a stream without config that have all expired do not
	// make it a stream.
	c.Set(time.Now().Add(-48 * time.Hour))
	if err := s.SetTTL("gone", time.Hour); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	if _, err := s.Append("gone", []map[string]any{{"n": 1}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.db.DropPrefix(configKey("gone")); err != nil {
		t.Fatalf("drop config of gone: %v", err)
	}

	got, err = s.ListStreams()
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	if want := []string{"a", "a-b", "ab", "configured-only", "web"}; !slices.Equal(got, want) {
		t.Errorf("ListStreams = %q, want %q", got, want)
	}
}
