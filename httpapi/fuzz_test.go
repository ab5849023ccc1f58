package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/dbtest"
	"github.com/flowg-backup/flowg/kv"
)

// FuzzRestoreUpload posts arbitrary bytes as the body of a config restore
// (a merge: wipe and merge share the staging and checking of the upload, and
// TestRestore_BadUploadsAre400AndChangeNothing covers both). No input may get a 5xx or panic the server; every refusal
// leaves the database as it was; and only two kinds of input may be
// accepted: a valid flowg backup (the seed corpus holds one), after which
// the database holds what the file says, and a raw Badger stream, which
// carries no integrity data (8 zero bytes are a valid empty one).
func FuzzRestoreUpload(f *testing.F) {
	e := newEnv(f, nil)
	e.putPipeline("p", `{"v":1}`)
	e.putPipeline("q", "text")
	good := e.backupOf("config")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(good)
	_ = zw.Close()
	for _, seed := range [][]byte{
		good,
		good[:len(good)-1],
		good[:40],
		append(bytes.Clone(good[:len(good)/2]), 0xff, 0xff, 0xff, 0xff),
		gz.Bytes(),
		e.backupOf("auth"),
		{},
		[]byte("backup=config.db"),
		{0, 0, 0, 0, 0, 0, 0, 0},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3},
	} {
		f.Add(seed)
	}
	before := e.content(f, kv.Config)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/restore/config", bytes.NewReader(body))
		req.Header.Set("Authorization", e.root)
		req.Header.Set("Content-Type", "application/octet-stream")
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("upload of %d bytes: answer %d %s", len(body), rec.Code, rec.Body)
		}
		after := e.content(t, kv.Config)
		if rec.Code == http.StatusOK {
			var got struct{ Warnings []string }
			_ = json.Unmarshal(rec.Body.Bytes(), &got)
			if !slices.Contains(got.Warnings, backup.RawWarning) {
				want := merged(before, fileContent(t, body))
				sameContent(t, "config after an accepted upload", after, want)
			}
			before = after
			return
		}
		if !strings.Contains(rec.Body.String(), `"hint"`) {
			t.Fatalf("refusal %d %s has no hint", rec.Code, rec.Body)
		}
		sameContent(t, "config after the upload", after, before)
	})
}

// FuzzAuthHeader sends arbitrary Authorization headers to a protected
// route. No header may panic the server or get a 5xx, and only the real
// credentials may get a 2xx.
func FuzzAuthHeader(f *testing.F) {
	e := newEnv(f, nil)
	pat := e.token(e.root)
	jwtHeader := e.root
	secretOf := func(h string) string { return h[strings.Index(h, ":")+1:] }
	for _, seed := range []string{
		pat,
		jwtHeader,
		"",
		"Bearer",
		"Bearer pat:",
		"Bearer jwt:",
		"bearer PAT:" + secretOf(pat),
		"Bearer pat:" + secretOf(pat)[:30],
		"Bearer jwt:eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
		"Bearer jwt:" + secretOf(jwtHeader) + "x",
		"Basic cm9vdDpyb290LXNlY3JldA==",
		"Bearer \x00pat:\xff",
		"Bearer pat:" + strings.Repeat("a", 10000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest("GET", "/api/v1/streams", nil)
		req.Header["Authorization"] = []string{header}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("header %q: answer %d %s", header, rec.Code, rec.Body)
		case rec.Code < 300:
			if !strings.Contains(header, secretOf(pat)) && !strings.Contains(header, secretOf(jwtHeader)) {
				t.Fatalf("header %q was accepted: %d %s", header, rec.Code, rec.Body)
			}
		case rec.Code != http.StatusUnauthorized:
			t.Fatalf("header %q: answer %d %s, want 401", header, rec.Code, rec.Body)
		}
	})
}

// fileContent reads a flowg backup file into the form env.content gives.
func fileContent(t *testing.T, file []byte) map[string]string {
	t.Helper()
	r, err := backup.NewReader(bytes.NewReader(file), backup.ReadOptions{Size: int64(len(file))})
	if err != nil {
		t.Fatalf("accepted file does not read: %v", err)
	}
	out := map[string]string{}
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("accepted file does not read: %v", err)
		}
		for _, rec := range kvs {
			var meta byte
			if len(rec.UserMeta) > 0 {
				meta = rec.UserMeta[0]
			}
			out[string(rec.Key)] = dbtest.Record{Value: string(rec.Value), UserMeta: meta, ExpiresAt: rec.ExpiresAt}.Brief()
		}
	}
}

// merged is base with every key of over written over it.
func merged(base, over map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
