package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
)

// A strict import refuses a line with a field the schema does not name,
// with the line number; a lenient one skips such fields, counts them, and
// keeps every other check.
func TestImport_UnknownFieldsStrictAndLenient(t *testing.T) {
	file := `{"v":1,"kind":"pipeline","name":"p","json":{},"colour":"red","Owner":"x"}` + "\n" +
		`{"v":1,"kind":"stream","name":"s","ttl":"1h","colour":"blue"}` + "\n" +
		`{"v":1,"kind":"end","count":2,"signed_by":"later-flowg"}` + "\n"

	dbs := openDBs(t, t.TempDir())
	_, err := Import(context.Background(), writeFile(t, file), dbs, ImportOptions{})
	if !errors.Is(err, ErrUnknownField) || !errors.Is(err, ErrBadLine) || !strings.Contains(err.Error(), "line 1") ||
		!strings.Contains(err.Error(), `"colour"`) || !strings.Contains(err.Error(), "lenient") {
		t.Fatalf("strict: err = %v, want ErrUnknownField on line 1 naming colour and the lenient mode", err)
	}
	for n, db := range dbs {
		if !kv.IsEmpty(db) {
			t.Errorf("strict refusal wrote into %s", n)
		}
	}

	res, err := Import(context.Background(), writeFile(t, file), dbs, ImportOptions{Lenient: true})
	if err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if res.IgnoredFields != 4 || fmt.Sprint(res.IgnoredFieldNames) != "[pipeline.Owner pipeline.colour stream.colour end.signed_by]" {
		t.Errorf("lenient: ignored %d fields %v, want 4: pipeline.Owner pipeline.colour stream.colour end.signed_by", res.IgnoredFields, res.IgnoredFieldNames)
	}
	if res.Changes[KindPipeline].Added != 1 || res.Changes[KindStream].Added != 1 {
		t.Errorf("lenient: changes %+v %+v, want the pipeline and the stream added", *res.Changes[KindPipeline], *res.Changes[KindStream])
	}
	body, err := docs.New(dbs[kv.Config]).Get(docs.KindPipeline, "p")
	if err != nil || string(body) != "{}" {
		t.Errorf("lenient: pipeline p = %q, %v; want {}", body, err)
	}
}

// Lenient skips unknown fields only: every other refusal stays, before a
// write, with the line number.
func TestImport_LenientKeepsEveryOtherCheck(t *testing.T) {
	good := `{"v":1,"kind":"pipeline","name":"p","json":{},"extra":1}` + "\n"
	tests := []struct {
		name    string
		line    string
		wantErr error
	}{
		{"wrong version", `{"v":2,"kind":"role","name":"r","scopes":[],"extra":1}`, ErrVersion},
		{"wrong type beside an unknown field", `{"v":1,"kind":"role","extra":1,"name":"r","scopes":"all"}`, ErrBadLine},
		{"wrong type before an unknown field", `{"v":1,"kind":"role","name":"r","scopes":"all","extra":1}`, ErrBadLine},
		{"unknown kind", `{"v":1,"kind":"token","id":"x"}`, ErrBadLine},
		{"bad name", `{"v":1,"kind":"pipeline","name":"../x","text":"","extra":1}`, docs.ErrInvalidName},
		{"not JSON", `{"v":1,"kind":"pipeline"`, ErrBadLine},
		{"trailing data", `{"v":1,"kind":"stream","name":"s","extra":1} {}`, ErrBadLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbs := openDBs(t, t.TempDir())
			_, err := Import(context.Background(), writeFile(t, good+tt.line+"\n"+`{"v":1,"kind":"end","count":2}`+"\n"), dbs, ImportOptions{Lenient: true})
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "line 2") {
				t.Fatalf("err = %v, want %v on line 2", err, tt.wantErr)
			}
			if !kv.IsEmpty(dbs[kv.Config]) {
				t.Errorf("written despite the bad line")
			}
		})
	}
}
