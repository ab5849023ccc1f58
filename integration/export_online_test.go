package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The online side of export and import under way: an export while the
// server ingests, the offline commands refused while it serves, the line
// bound of the online import.

// The online export of logs streamed with curl while the server ingests:
// every answer is whole lines, each a record of one consistent read, and
// never fewer than were acknowledged before the export began.
func TestExport_OnlineWhileIngesting(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	var acked atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			recs := make([]map[string]any, 50)
			for j := range recs {
				recs[j] = map[string]any{"i": i, "j": j, "msg": strings.Repeat("x", 200)}
			}
			b, _ := json.Marshal(map[string]any{"records": recs})
			r, err := s.trySend(t.Context(), s.http, http.MethodPost, "/api/v1/streams/busy/logs", root, bytes.NewReader(b), "application/json")
			if err != nil || r.status != http.StatusOK {
				return
			}
			acked.Add(int64(len(recs)))
		}
	}()
	defer func() { close(stop); <-done }()
	for acked.Load() < 500 {
		time.Sleep(10 * time.Millisecond)
	}
	for round := range 3 {
		before := acked.Load()
		out := filepath.Join(dirs.client, fmt.Sprintf("busy-%d.jsonl", round))
		r := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "--fail", "-H", "Authorization: "+root,
			"--output", out, s.url+"/api/v1/export/logs?stream=busy")
		if r.code != 0 {
			t.Fatalf("curl:\n%s", r)
		}
		b := readFile(t, out)
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Fatalf("round %d: the export does not end with a whole line", round)
		}
		n := countPrefix(exportKinds(t, b), "log:busy")
		if int64(n) < before {
			t.Errorf("round %d: %d records exported, %d were acknowledged before", round, n, before)
		}
		t.Logf("round %d: %d records (%d bytes) exported while ingesting, %d acknowledged before", round, n, len(b), before)
		lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
		if want := fmt.Sprintf(`{"v":1,"kind":"end","count":%d}`, len(lines)-1); lines[len(lines)-1] != want {
			t.Fatalf("round %d: last line %q, want the end line %s", round, lines[len(lines)-1], want)
		}
	}
	// The same stream cut at a line boundary is refused by the import.
	b := readFile(t, filepath.Join(dirs.client, "busy-0.jsonl"))
	cut := b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1]
	r := s.send(t, http.MethodPost, "/api/v1/import/logs", root, bytes.NewReader(cut), mimeNDJSON)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "incomplete") {
		t.Fatalf("import of an export cut before its end line:\n%s", r)
	}
}

// While the server runs, the offline commands are refused and point to the
// online endpoints.
func TestExportImport_OfflineRefusedWhileServing(t *testing.T) {
	dirs := newServerDirs(t)
	startServer(t, dirs)
	file := filepath.Join(dirs.client, "p.jsonl")
	if err := os.WriteFile(file, []byte(`{"v":1,"kind":"pipeline","name":"p","json":{}}`+"\n"+`{"v":1,"kind":"end","count":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := flowg(t, dirs.root, with([]string{"admin", "export", "--only", "config"}, dirArgs(dirs)...)...)
	if r.code != 1 {
		t.Fatalf("export while serving: want exit code 1:\n%s", r)
	}
	requireContains(t, "export while serving", r.stderr, "in use by another process", "GET /api/v1/export/config")
	r = flowg(t, dirs.root, with([]string{"admin", "import", file}, dirArgs(dirs)...)...)
	if r.code != 1 {
		t.Fatalf("import while serving: want exit code 1:\n%s", r)
	}
	requireContains(t, "import while serving", r.stderr, "in use by another process", "POST /api/v1/import/config")
}

// serve --import-max-line-bytes bounds a line of the online import.
func TestImport_OnlineLineBound(t *testing.T) {
	dirs := newServerDirs(t)
	s := startServer(t, dirs, "--import-max-line-bytes", "200")
	root := s.rootJWT(t)
	short := `{"v":1,"kind":"pipeline","name":"p","json":{}}` + "\n"
	long := `{"v":1,"kind":"pipeline","name":"q","text":"` + strings.Repeat("x", 300) + `"}` + "\n"
	end := `{"v":1,"kind":"end","count":1}` + "\n"
	r := s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(short+long), mimeNDJSON)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "line 2") || !strings.Contains(string(r.body), "more than 200 bytes") {
		t.Fatalf("a 300-byte line with --import-max-line-bytes 200:\n%s", r)
	}
	if got := s.send(t, http.MethodGet, "/api/v1/pipelines/p", root, nil, ""); got.status != http.StatusNotFound {
		t.Errorf("the line before the refused one was written:\n%s", got)
	}
	if r := s.send(t, http.MethodPost, "/api/v1/import/config", root, strings.NewReader(short+end), mimeNDJSON); r.status != http.StatusOK {
		t.Fatalf("a short line:\n%s", r)
	}
}
