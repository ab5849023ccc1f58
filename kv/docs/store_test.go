package docs

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// openDB opens a real on-disk Badger database in a temporary directory and
// closes it when the test ends.
func openDB(t *testing.T, dir string) *badger.DB {
	t.Helper()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestStore_RoundTrip(t *testing.T) {
	s := New(openDB(t, t.TempDir()))
	tests := []struct {
		name string
		kind Kind
		doc  string
		body []byte
	}{
		{name: "pipeline JSON", kind: KindPipeline, doc: "default", body: []byte(`{"nodes":[],"edges":[]}`)},
		{name: "transformer text", kind: KindTransformer, doc: "from_json.v2", body: []byte(". = parse_json!(.message)\n")},
		{name: "alert", kind: KindAlert, doc: "on-error", body: []byte(`{"webhook":"http://x"}`)},
		{name: "empty body", kind: KindAlert, doc: "empty", body: []byte{}},
		{name: "largest body", kind: KindPipeline, doc: "big", body: bytes.Repeat([]byte("a"), MaxBodySize)},
		{name: "longest name", kind: KindPipeline, doc: strings.Repeat("n", MaxNameLen), body: []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(tt.kind, tt.doc, tt.body); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := s.Get(tt.kind, tt.doc)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, tt.body) {
				t.Errorf("Get = %.40q (%d bytes), want %.40q (%d bytes)", got, len(got), tt.body, len(tt.body))
			}
		})
	}
}

func TestStore_PutReplaces(t *testing.T) {
	s := New(openDB(t, t.TempDir()))
	for _, body := range []string{"v1", "v2"} {
		if err := s.Put(KindPipeline, "p", []byte(body)); err != nil {
			t.Fatalf("Put %s: %v", body, err)
		}
	}
	got, err := s.Get(KindPipeline, "p")
	if err != nil || string(got) != "v2" {
		t.Fatalf("Get = %q, %v; want \"v2\", nil", got, err)
	}
}

func TestStore_ListSortedPerKind(t *testing.T) {
	s := New(openDB(t, t.TempDir()))
	puts := map[Kind][]string{
		KindPipeline:    {"zeta", "Alpha", "alpha", "b-1", "b.0", "b_2"},
		KindTransformer: {"t2", "t1"},
	}
	for kind, names := range puts {
		for _, n := range names {
			if err := s.Put(kind, n, []byte("{}")); err != nil {
				t.Fatalf("Put %s/%s: %v", kind, n, err)
			}
		}
	}
	tests := []struct {
		name string
		kind Kind
		want []string
	}{
		{name: "pipelines", kind: KindPipeline, want: []string{"Alpha", "alpha", "b-1", "b.0", "b_2", "zeta"}},
		{name: "transformers", kind: KindTransformer, want: []string{"t1", "t2"}},
		{name: "alerts empty", kind: KindAlert, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(tt.kind)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("List = %#v, want %#v", got, tt.want)
			}
			if !slices.IsSorted(got) {
				t.Errorf("List = %q is not sorted", got)
			}
		})
	}
}

func TestStore_DeleteThenNotFound(t *testing.T) {
	s := New(openDB(t, t.TempDir()))
	if err := s.Put(KindAlert, "a", []byte("x")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Delete(KindAlert, "a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(KindAlert, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(KindAlert, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	names, err := s.List(KindAlert)
	if err != nil || len(names) != 0 {
		t.Errorf("List after Delete = %q, %v; want [], nil", names, err)
	}
}

func TestStore_KindsAreSeparate(t *testing.T) {
	s := New(openDB(t, t.TempDir()))
	if err := s.Put(KindPipeline, "same", []byte("pipeline")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := s.Get(KindTransformer, "same"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get transformer/same: err = %v, want ErrNotFound", err)
	}
}

func TestStore_RejectsBadInput(t *testing.T) {
	s := New(openDB(t, t.TempDir()))
	tests := []struct {
		name    string
		kind    Kind
		doc     string
		body    []byte
		wantErr error
	}{
		{name: "empty name", kind: KindPipeline, doc: "", wantErr: ErrInvalidName},
		{name: "name too long", kind: KindPipeline, doc: strings.Repeat("n", MaxNameLen+1), wantErr: ErrInvalidName},
		{name: "slash", kind: KindPipeline, doc: "a/b", wantErr: ErrInvalidName},
		{name: "space", kind: KindPipeline, doc: "a b", wantErr: ErrInvalidName},
		{name: "non-ASCII", kind: KindPipeline, doc: "café", wantErr: ErrInvalidName},
		{name: "NUL", kind: KindPipeline, doc: "a\x00", wantErr: ErrInvalidName},
		{name: "dot", kind: KindPipeline, doc: ".", wantErr: ErrInvalidName},
		{name: "dot dot", kind: KindPipeline, doc: "..", wantErr: ErrInvalidName},
		{name: "unknown kind", kind: Kind("streams"), doc: "ok", wantErr: ErrUnknownKind},
		{name: "empty kind", kind: Kind(""), doc: "ok", wantErr: ErrUnknownKind},
		{name: "body too large", kind: KindPipeline, doc: "ok", body: make([]byte, MaxBodySize+1), wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(tt.kind, tt.doc, tt.body); !errors.Is(err, tt.wantErr) {
				t.Errorf("Put: err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == ErrTooLarge {
				return
			}
			if _, err := s.Get(tt.kind, tt.doc); !errors.Is(err, tt.wantErr) {
				t.Errorf("Get: err = %v, want %v", err, tt.wantErr)
			}
			if err := s.Delete(tt.kind, tt.doc); !errors.Is(err, tt.wantErr) {
				t.Errorf("Delete: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := s.List(Kind("nope")); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("List unknown kind: err = %v, want ErrUnknownKind", err)
	}
	if !kv.IsEmpty(s.db) {
		t.Errorf("database holds keys after only rejected writes")
	}
}

func TestStore_SurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := New(db).Put(KindTransformer, "keep", []byte("body")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	got, err := New(openDB(t, dir)).Get(KindTransformer, "keep")
	if err != nil || string(got) != "body" {
		t.Fatalf("Get after reopen = %q, %v; want \"body\", nil", got, err)
	}
}

func TestParseKind(t *testing.T) {
	tests := []struct {
		in      string
		want    Kind
		wantErr error
	}{
		{in: "pipelines", want: KindPipeline},
		{in: "Pipeline", want: KindPipeline},
		{in: " transformers ", want: KindTransformer},
		{in: "transformer", want: KindTransformer},
		{in: "ALERTS", want: KindAlert},
		{in: "alert", want: KindAlert},
		{in: "", wantErr: ErrUnknownKind},
		{in: "streams", wantErr: ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKind(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("ParseKind(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
