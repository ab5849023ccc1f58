package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// Unknown fields. A strict import (the default) refuses a line with a
// field the schema does not name: it may be a typo, or a file of a later
// flowg whose meaning this one would drop. A lenient import
// (ImportOptions.Lenient) skips such fields and counts them; every other
// check (version, kind, types, names, sizes) stays.

// ErrUnknownField is wrapped by the error of a line with a field the
// schema does not name, in a strict import.
var ErrUnknownField = errors.New("unknown field")

// lineDecoder decodes the lines of one import, strictly or leniently.
type lineDecoder struct {
	lenient bool
	// ignored names the unknown fields skipped in the last line.
	ignored []string
}

// decode decodes line into v, refusing trailing data and, unless lenient,
// unknown fields; a lenient decode records the fields it skipped.
func (d *lineDecoder) decode(line []byte, v any) error {
	err := decodeLine(line, v, true)
	field, unknown := unknownField(err)
	if !unknown {
		return err
	}
	if !d.lenient {
		return fmt.Errorf("%w %q: this flowg does not know it (a typo, or a file of a later flowg); "+
			"import in lenient mode (--lenient, or lenient=true online) to skip unknown fields", ErrUnknownField, field)
	}
	if err := decodeLine(line, v, false); err != nil {
		return err
	}
	d.ignored = append(d.ignored, unknownKeys(line, v)...)
	return nil
}

// decodeLine decodes one JSON object into v, numbers as json.Number.
func decodeLine(line []byte, v any, disallowUnknown bool) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if disallowUnknown {
		dec.DisallowUnknownFields()
	}
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// unknownField reports whether err is encoding/json's refusal of an
// unknown field, and which.
func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		return "", false
	}
	return strings.Trim(strings.TrimPrefix(err.Error(), prefix), `"`), true
}

// unknownKeys returns, sorted, the top-level keys of line that v's type
// does not name (every field of the schema is top-level).
func unknownKeys(line []byte, v any) []string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) != nil {
		return nil
	}
	known := knownFields(reflect.TypeOf(v).Elem())
	var out []string
	for k := range obj {
		if !known[strings.ToLower(k)] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var knownCache sync.Map // reflect.Type -> map[string]bool

// knownFields returns the JSON names of t's fields, embedded structs
// included, lower-cased (encoding/json matches names case-insensitively).
func knownFields(t reflect.Type) map[string]bool {
	if m, ok := knownCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k := range knownFields(f.Type) {
				m[k] = true
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[strings.ToLower(name)] = true
	}
	knownCache.Store(t, m)
	return m
}
