package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestConfigDocuments_PutGetListDelete(t *testing.T) {
	e := newEnv(t, nil)
	for _, kind := range []string{"pipelines", "transformers", "alerts"} {
		t.Run(kind, func(t *testing.T) {
			base := "/api/v1/" + kind
			e.do("PUT", base+"/first", e.root, strings.NewReader(`{"v":1}`), "application/json").must(t, 200)
			e.do("PUT", base+"/second", e.root, strings.NewReader("plain text"), "text/plain").must(t, 200)
			got := e.do("GET", base+"/first", e.root, nil, "").must(t, 200)
			if string(got.body) != `{"v":1}` || !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
				t.Fatalf("GET first = %s (%s), want the JSON body as stored", got, got.header.Get("Content-Type"))
			}
			if got := e.do("GET", base+"/second", e.root, nil, "").must(t, 200); string(got.body) != "plain text" {
				t.Fatalf("GET second = %s, want the text as stored", got)
			}
			list := e.do("GET", base, e.root, nil, "").must(t, 200).json(t)
			if names := list["names"].([]any); len(names) != 2 || names[0] != "first" || names[1] != "second" {
				t.Fatalf("list = %v, want [first second]", list)
			}
			e.do("DELETE", base+"/first", e.root, nil, "").must(t, 200)
			e.do("GET", base+"/first", e.root, nil, "").wantError(t, http.StatusNotFound, "not found", "")
			e.do("PUT", base+"/bad%20name", e.root, strings.NewReader("x"), "").wantError(t, http.StatusBadRequest, "invalid document name", "")
		})
	}
	readOnly := e.token(e.root, "read_pipelines")
	e.do("PUT", "/api/v1/pipelines/x", readOnly, strings.NewReader("{}"), "").wantError(t, http.StatusForbidden, "write_pipelines", "write_pipelines")
	e.do("GET", "/api/v1/alerts", readOnly, nil, "").wantError(t, http.StatusForbidden, "read_alerts", "read_alerts")
}

// TestStreams_TTLTakesDaysAndRefusesBadDurations: a stream TTL of "30d" is
// 720 hours; a bad one is a 400 saying which forms work, and the TTL set
// before is kept.
func TestStreams_TTLTakesDaysAndRefusesBadDurations(t *testing.T) {
	e := newEnv(t, nil)
	e.doJSON("PUT", "/api/v1/streams/app", e.root, map[string]string{"ttl": "30d"}).must(t, 200)
	if got := e.do("GET", "/api/v1/streams/app", e.root, nil, "").must(t, 200).json(t); got["ttl"] != "720h" {
		t.Fatalf("stream config after ttl 30d = %v, want ttl 720h", got)
	}
	for _, bad := range []string{"1.5d", "-3d", "month"} {
		e.doJSON("PUT", "/api/v1/streams/app", e.root, map[string]string{"ttl": bad}).
			wantError(t, http.StatusBadRequest, "use e.g. 720h, 90m or 30d", "30d")
	}
	if got := e.do("GET", "/api/v1/streams/app", e.root, nil, "").must(t, 200).json(t); got["ttl"] != "720h" {
		t.Errorf("stream config after refused TTLs = %v, want ttl 720h still", got)
	}
}

func TestLogs_IngestQueryAndTTL(t *testing.T) {
	e := newEnv(t, nil)
	e.doJSON("PUT", "/api/v1/streams/app", e.root, map[string]string{"ttl": "720h"}).must(t, 200)
	if got := e.do("GET", "/api/v1/streams/app", e.root, nil, "").must(t, 200).json(t); got["ttl"] != "720h" {
		t.Fatalf("stream config = %v, want ttl 720h", got)
	}
	r := e.do("POST", "/api/v1/streams/app/logs", e.root,
		strings.NewReader(`{"records":[{"level":"info","id":9007199254740993},{"level":"error"}]}`), "application/json").must(t, 200)
	if got := r.json(t)["written"]; got != float64(2) {
		t.Fatalf("ingest = %s, want written 2", r)
	}
	q := e.do("GET", "/api/v1/streams/app/logs?limit=10", e.root, nil, "").must(t, 200)
	if !strings.Contains(string(q.body), "9007199254740993") || strings.Count(string(q.body), `"timestamp"`) != 2 ||
		!strings.Contains(string(q.body), `"expires_at"`) {
		t.Fatalf("query = %s, want 2 records with every digit and an expiry", q)
	}
	streams := e.do("GET", "/api/v1/streams", e.root, nil, "").must(t, 200)
	if !strings.Contains(string(streams.body), `"app"`) {
		t.Fatalf("streams = %s, want app", streams)
	}
	e.do("GET", "/api/v1/streams/app/logs?from=yesterday", e.root, nil, "").wantError(t, http.StatusBadRequest, "RFC 3339", "from=")
	e.do("GET", "/api/v1/streams/app/logs?limit=-1", e.root, nil, "").wantError(t, http.StatusBadRequest, "limit", "")
	e.do("POST", "/api/v1/streams/a%2Fb/logs", e.root, strings.NewReader(`{"records":[{}]}`), "").wantError(t, http.StatusBadRequest, "invalid stream name", "")
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"record":[{}]}`), "").wantError(t, http.StatusBadRequest, "unknown field", `"records"`)
}

func TestHealthzAndMetrics(t *testing.T) {
	e := newEnv(t, nil)
	h := e.do("GET", "/healthz", "", nil, "").must(t, 200).json(t)
	if h["status"] != "ok" {
		t.Fatalf("healthz = %v, want status ok", h)
	}
	e.backupOf("logs")
	m := e.do("GET", "/metrics", "", nil, "").must(t, 200)
	for _, want := range []string{
		`flowg_backups_total{database="logs"} 1`,
		`flowg_backup_failures_total{database="logs"} 0`,
		`flowg_backup_duration_seconds_count{database="logs"} 1`,
		`flowg_backup_last_success_timestamp_seconds{database="logs"}`,
		`flowg_restores_total{database="auth",mode="wipe"} 0`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	e.do("GET", "/no/such/route", "", nil, "").wantError(t, http.StatusNotFound, "no such route", "README")
}
