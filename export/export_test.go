package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// openDBs opens the three databases, on disk, under root.
func openDBs(t *testing.T, root string) map[kv.Name]*badger.DB {
	t.Helper()
	dbs := map[kv.Name]*badger.DB{}
	for _, n := range kv.Names {
		db, err := kv.Open(filepath.Join(root, string(n)), kv.OpenOptions{})
		if err != nil {
			t.Fatalf("open %s: %v", n, err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[n] = db
	}
	return dbs
}

// populate fills dbs through the stores flowg itself uses.
func populate(t *testing.T, dbs map[kv.Name]*badger.DB) {
	t.Helper()
	svc := auth.NewService(dbs[kv.Auth], auth.Options{})
	if _, _, err := svc.Bootstrap("root-password-1"); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutRole(auth.Role{Name: "ops", Scopes: auth.ScopeSet{auth.ScopeReadStreams}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutUser("ana", "ana-password-1", []string{"ops"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateToken(auth.LocalAdmin, "ana", nil, 0); err != nil {
		t.Fatal(err)
	}
	ds := docs.New(dbs[kv.Config])
	for _, d := range []struct {
		kind       docs.Kind
		name, body string
	}{
		{docs.KindPipeline, "default", `{"nodes":[{"id":"a","html":"<b>&</b>"}],"edges":[]}`},
		{docs.KindPipeline, "pretty", "{\n  \"nodes\": []\n}"},
		{docs.KindTransformer, "from_json", ". = parse_json!(.message)\n"},
		{docs.KindAlert, "empty", ""},
		{docs.KindAlert, "binary", "\xff\x00\xfe"},
	} {
		if err := ds.Put(d.kind, d.name, []byte(d.body)); err != nil {
			t.Fatal(err)
		}
	}
	ls := logstore.New(dbs[kv.Logs], nil)
	if err := ls.SetTTL("app", time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"app", "debug"} {
		recs := []map[string]any{{"msg": "one", "n": json.Number("12345678901234567890")}, {"msg": "<two>", "nested": map[string]any{"b": 1.5, "a": true}}}
		if _, err := ls.Append(s, recs); err != nil {
			t.Fatal(err)
		}
	}
}

func exportAll(t *testing.T, dbs map[kv.Name]*badger.DB, opts Options) string {
	t.Helper()
	var out bytes.Buffer
	var lines uint64
	for _, n := range kv.Names {
		sum, err := ExportDB(context.Background(), n, dbs[n], &out, opts)
		if err != nil {
			t.Fatalf("export %s: %v", n, err)
		}
		lines += sum.Total()
	}
	if err := WriteEnd(&out, lines); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func writeFile(t *testing.T, content string) func() (io.ReadCloser, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

func TestRoundTrip_IdenticalAndIdempotent(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	first := exportAll(t, src, Options{IncludeSecrets: true})
	for _, want := range []string{`"kind":"role","name":"ops"`, `"kind":"user","name":"ana"`, `"password_hash":"$argon2id$`,
		`"kind":"pipeline","name":"default","json":{"nodes":[{"id":"a","html":"<b>&</b>"}]`, `"text":"{\n  \"nodes\": []\n}"`,
		`"kind":"alert","name":"binary","base64":"/wD+"`, `"kind":"stream","name":"app","ttl":"1h"`, `"n":12345678901234567890`, `"expires_at":"`} {
		if !strings.Contains(first, want) {
			t.Errorf("export lacks %s:\n%s", want, first)
		}
	}
	if strings.Contains(first, "token") || strings.Contains(first, "secret_hash") {
		t.Errorf("export carries tokens:\n%s", first)
	}

	dst := openDBs(t, t.TempDir())
	res, err := Import(context.Background(), writeFile(t, first), dst, ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if c := res.Changes[KindLog]; c.Added != 4 || c.Overwritten != 0 {
		t.Errorf("first import of logs: %+v, want 4 added", *c)
	}
	second := exportAll(t, dst, Options{IncludeSecrets: true})
	if second != first {
		t.Fatalf("second export differs:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	res, err = Import(context.Background(), writeFile(t, first), dst, ImportOptions{})
	if err != nil {
		t.Fatalf("second import: %v", err)
	}
	for k, c := range res.Changes {
		if c.Added != 0 || c.Overwritten != 0 || c.Unchanged == 0 {
			t.Errorf("second import, %s: %+v, want only unchanged", k, *c)
		}
	}
	// The imported root logs in with its password.
	if _, err := auth.NewService(dst[kv.Auth], auth.Options{JWTKey: testJWTKey}).Login("root", "root-password-1"); err != nil {
		t.Errorf("login of the imported root: %v", err)
	}
}

func TestExport_SecretsOnlyWhenAsked(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	out := exportAll(t, src, Options{})
	if strings.Contains(out, "password_hash") || strings.Contains(out, "argon2id") || strings.Contains(out, "sessions_from") {
		t.Fatalf("export without secrets holds a hash:\n%s", out)
	}
	// Imported into an empty database, users without hash are named.
	res, err := Import(context.Background(), writeFile(t, out), openDBs(t, t.TempDir()), ImportOptions{})
	if err != nil || fmt.Sprint(res.NoPassword) != "[ana root]" {
		t.Errorf("import without secrets into empty databases: no password for %v, %v; want [ana root]", res.NoPassword, err)
	}
	// Imported over a user that exists, a line without hash keeps its password.
	if _, err := Import(context.Background(), writeFile(t, out), src, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewService(src[kv.Auth], auth.Options{JWTKey: testJWTKey}).Login("ana", "ana-password-1"); err != nil {
		t.Errorf("login after an import without secrets: %v", err)
	}
}

func TestExport_Filters(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	var out bytes.Buffer
	sum, err := ExportDB(context.Background(), kv.Logs, src[kv.Logs], &out, Options{Streams: []string{"ap*"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines[KindLog] != 2 || sum.Lines[KindStream] != 1 || strings.Contains(out.String(), `"debug"`) {
		t.Errorf("--stream ap*: %v\n%s", sum.Lines, out.String())
	}
	future := time.Now().Add(time.Hour)
	sum, err = ExportDB(context.Background(), kv.Logs, src[kv.Logs], io.Discard, Options{Since: future})
	if err != nil || sum.Lines[KindLog] != 0 {
		t.Errorf("--since in the future: %v, %v", sum.Lines, err)
	}
	sum, err = ExportDB(context.Background(), kv.Logs, src[kv.Logs], io.Discard, Options{Until: future})
	if err != nil || sum.Lines[KindLog] != 4 {
		t.Errorf("--until in the future: %v, %v", sum.Lines, err)
	}
}

func TestExportBackup_SameLinesAsTheDatabase(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	for _, n := range kv.Names {
		var file bytes.Buffer
		if _, _, err := backup.Dump(context.Background(), src[n], &file, backup.DumpOptions{Database: string(n)}); err != nil {
			t.Fatal(err)
		}
		r, err := backup.NewReader(&file, backup.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var fromFile, fromDB bytes.Buffer
		if _, err := ExportBackup(context.Background(), r, "", &fromFile, Options{IncludeSecrets: true}); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := ExportDB(context.Background(), n, src[n], &fromDB, Options{IncludeSecrets: true}); err != nil {
			t.Fatal(err)
		}
		if fromFile.String() != fromDB.String() || fromDB.Len() == 0 {
			t.Errorf("%s: from the backup file:\n%s\nfrom the database:\n%s", n, fromFile.String(), fromDB.String())
		}
	}
}

func TestImport_RefusesBadFilesBeforeWriting(t *testing.T) {
	good := `{"v":1,"kind":"pipeline","name":"p","json":{}}` + "\n"
	tests := []struct {
		name    string
		line    string
		opts    ImportOptions
		wantErr error
		want    string
	}{
		{name: "not JSON", line: "{nope", wantErr: ErrBadLine, want: "line 2"},
		{name: "wrong version", line: `{"v":2,"kind":"role","name":"r","scopes":[]}`, wantErr: ErrVersion},
		{name: "no version", line: `{"kind":"role","name":"r","scopes":[]}`, wantErr: ErrVersion},
		{name: "unknown kind", line: `{"v":1,"kind":"token","id":"x"}`, wantErr: ErrBadLine, want: "unknown kind"},
		{name: "unknown field", line: `{"v":1,"kind":"role","name":"r","scopes":[],"admin":true}`, wantErr: ErrBadLine, want: "admin"},
		{name: "wrong type", line: `{"v":1,"kind":"role","name":"r","scopes":"all"}`, wantErr: ErrBadLine},
		{name: "unknown scope", line: `{"v":1,"kind":"role","name":"r","scopes":["root"]}`, wantErr: auth.ErrUnknownScope},
		{name: "bad name", line: `{"v":1,"kind":"pipeline","name":"../x","text":""}`, wantErr: docs.ErrInvalidName},
		{name: "two bodies", line: `{"v":1,"kind":"alert","name":"a","text":"","json":{}}`, wantErr: ErrBadLine, want: "exactly one"},
		{name: "body too large", line: `{"v":1,"kind":"alert","name":"a","text":"` + strings.Repeat("a", docs.MaxBodySize+1) + `"}`, wantErr: docs.ErrTooLarge},
		{name: "line too long", line: `{"v":1,"kind":"alert","name":"a","text":"` + strings.Repeat("a", 200) + `"}`, opts: ImportOptions{MaxLineBytes: 100}, wantErr: ErrLineTooLong},
		{name: "bad hash", line: `{"v":1,"kind":"user","name":"u","roles":[],"created":"2026-01-01T00:00:00Z","password_hash":"plain","sessions_from":"2026-01-01T00:00:00Z"}`, wantErr: ErrBadLine, want: "argon2id"},
		{name: "user without created", line: `{"v":1,"kind":"user","name":"u","roles":[]}`, wantErr: ErrBadLine, want: "created"},
		{name: "seq as number", line: `{"v":1,"kind":"log","stream":"s","time":"2026-01-01T00:00:00Z","seq":5,"fields":{}}`, wantErr: ErrBadLine},
		{name: "log without fields", line: `{"v":1,"kind":"log","stream":"s","time":"2026-01-01T00:00:00Z","seq":"5"}`, wantErr: ErrBadLine, want: "fields"},
		{name: "record too large", line: `{"v":1,"kind":"log","stream":"s","time":"2026-01-01T00:00:00Z","seq":"5","fields":{"a":"` + strings.Repeat("a", logstore.MaxRecordSize) + `"}}`, wantErr: logstore.ErrTooLarge},
		{name: "expiry in fractions", line: `{"v":1,"kind":"log","stream":"s","time":"2026-01-01T00:00:00Z","seq":"5","fields":{},"expires_at":"2099-01-01T00:00:00.5Z"}`, wantErr: logstore.ErrInvalidRecord},
		{name: "bad ttl", line: `{"v":1,"kind":"stream","name":"s","ttl":"1ms"}`, wantErr: logstore.ErrInvalidTTL},
		{name: "trailing data", line: `{"v":1,"kind":"stream","name":"s"} {}`, wantErr: ErrBadLine, want: "after"},
		{name: "empty line", line: "", wantErr: ErrBadLine, want: "empty"},
		{name: "other database", line: `{"v":1,"kind":"stream","name":"s"}`, opts: ImportOptions{Databases: []kv.Name{kv.Config}}, wantErr: ErrOtherDatabase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbs := openDBs(t, t.TempDir())
			// A good line first, a good line after: the bad one in the
			// middle must stop the import before the first is written.
			_, err := Import(context.Background(), writeFile(t, good+tt.line+"\n"+good), dbs, tt.opts)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %v mentioning line 2 and %q", err, tt.wantErr, tt.want)
			}
			for n, db := range dbs {
				if !kv.IsEmpty(db) {
					t.Errorf("%s written despite the bad line", n)
				}
			}
		})
	}
}

func TestImport_DryRunWritesNothing(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	file := exportAll(t, src, Options{IncludeSecrets: true})
	dst := openDBs(t, t.TempDir())
	res, err := Import(context.Background(), writeFile(t, file), dst, ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes[KindUser].Added != 2 || res.Changes[KindPipeline].Added != 2 {
		t.Errorf("dry run counts: users %+v, pipelines %+v", *res.Changes[KindUser], *res.Changes[KindPipeline])
	}
	for n, db := range dst {
		if !kv.IsEmpty(db) {
			t.Errorf("dry run wrote into %s", n)
		}
	}
}

// testJWTKey signs the JWTs of the logins that prove a password came through.
var testJWTKey = []byte("flowg-test-jwt-key-32-bytes-long")

// A bad line after more good lines than one write batch holds: the check of
// the whole file, not the batching, keeps the good lines from being written.
func TestImport_BadLineLateInALargeFileWritesNothing(t *testing.T) {
	var b strings.Builder
	for i := range 3 * batchItems {
		fmt.Fprintf(&b, `{"v":1,"kind":"pipeline","name":"p-%d","json":{}}`+"\n", i)
	}
	b.WriteString(`{"v":1,"kind":"pipeline","name":"bad","json":{}` + "\n")
	dbs := openDBs(t, t.TempDir())
	_, err := Import(context.Background(), writeFile(t, b.String()), dbs, ImportOptions{})
	if !errors.Is(err, ErrBadLine) || !strings.Contains(err.Error(), fmt.Sprintf("line %d", 3*batchItems+1)) {
		t.Fatalf("err = %v, want ErrBadLine at line %d", err, 3*batchItems+1)
	}
	if !kv.IsEmpty(dbs[kv.Config]) {
		t.Errorf("the good lines before the bad one were written")
	}
}

// Streams whose names share a prefix, and records on either side of the
// time bounds: the filters, which seek past what they leave out, keep
// exactly what they should.
func TestExport_FiltersSeekExactly(t *testing.T) {
	dbs := openDBs(t, t.TempDir())
	clock := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	ls := logstore.New(dbs[kv.Logs], func() time.Time { clock = clock.Add(time.Millisecond); return clock })
	var times []time.Time
	for _, s := range []string{"app", "app-x", "app0", "app_y", "apq", "ap"} {
		for i := range 3 {
			recs, err := ls.Append(s, []map[string]any{{"s": s, "i": i}})
			if err != nil {
				t.Fatal(err)
			}
			if s == "app" {
				times = append(times, recs[0].Timestamp)
			}
		}
	}
	count := func(opts Options) map[string]int {
		var out bytes.Buffer
		if _, err := ExportDB(context.Background(), kv.Logs, dbs[kv.Logs], &out, opts); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var l LogLine
			if line != "" && json.Unmarshal([]byte(line), &l) == nil {
				got[l.Stream]++
			}
		}
		return got
	}
	tests := []struct {
		name string
		opts Options
		want map[string]int
	}{
		{"one stream", Options{Streams: []string{"app"}}, map[string]int{"app": 3}},
		{"glob", Options{Streams: []string{"app*"}}, map[string]int{"app": 3, "app-x": 3, "app0": 3, "app_y": 3}},
		{"two", Options{Streams: []string{"ap", "apq"}}, map[string]int{"ap": 3, "apq": 3}},
		{"since the second", Options{Streams: []string{"app"}, Since: times[1]}, map[string]int{"app": 2}},
		{"until the second", Options{Streams: []string{"app"}, Until: times[1]}, map[string]int{"app": 1}},
		{"the second only", Options{Streams: []string{"app"}, Since: times[1], Until: times[2]}, map[string]int{"app": 1}},
		{"since before 1970", Options{Streams: []string{"app"}, Since: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}, map[string]int{"app": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := count(tt.opts)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// countingReader serves n bytes of 'a' and counts what was read.
type countingReader struct{ left, read int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > r.left {
		n = r.left
	}
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.left -= n
	r.read += n
	return int(n), nil
}

// A line of 1 GiB is refused after reading little more than the limit:
// nothing near its length is read, let alone held.
func TestCheckFile_HugeLineStopsAtTheLimit(t *testing.T) {
	r := &countingReader{left: 1 << 30}
	_, err := CheckFile(context.Background(), r, ImportOptions{})
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v, want ErrLineTooLong on line 1", err)
	}
	if limit := int64(DefaultMaxLineBytes + 2*64<<10); r.read > limit {
		t.Errorf("read %d bytes of the line, want at most %d", r.read, limit)
	}
}

// A file cut at a line boundary parses line by line: only the end line
// tells it from a whole export. Every cut is refused before a write.
func TestImport_RefusesAFileWithoutItsEndLine(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	file := exportAll(t, src, Options{IncludeSecrets: true})
	lines := strings.SplitAfter(strings.TrimSuffix(file, "\n"), "\n")
	if !strings.Contains(lines[len(lines)-1], `"kind":"end","count":`+fmt.Sprint(len(lines)-1)) {
		t.Fatalf("last line %q is not the end line counting %d lines", lines[len(lines)-1], len(lines)-1)
	}
	cutAt := strings.Join(lines[:len(lines)-1], "")
	tests := []struct {
		name    string
		content string
		wantErr error
		want    string
	}{
		{name: "cut before the end line", content: cutAt, wantErr: ErrIncomplete, want: "no end line"},
		{name: "cut midway at a line boundary", content: strings.Join(lines[:3], ""), wantErr: ErrIncomplete, want: "after 3 lines"},
		{name: "empty file", content: "", wantErr: ErrIncomplete, want: "after 0 lines"},
		{name: "a line lost", content: strings.Join(lines[1:], "") + "\n", wantErr: ErrIncomplete, want: "lines were lost"},
		{name: "two exports joined", content: file + file, wantErr: ErrBadLine, want: "after the end line"},
		{name: "end line with a stray field", content: cutAt + `{"v":1,"kind":"end","count":1,"x":1}` + "\n", wantErr: ErrBadLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbs := openDBs(t, t.TempDir())
			_, err := Import(context.Background(), writeFile(t, tt.content), dbs, ImportOptions{})
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.want)
			}
			for n, db := range dbs {
				if !kv.IsEmpty(db) {
					t.Errorf("%s written from an incomplete file", n)
				}
			}
		})
	}
}
