package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// HEAD wherever GET answers, JSON for every error (the 416 of a resumed
// download included), and the metric series an alert reads present at 0
// from the start: checked with curl against the real binary.

func TestHTTP_HeadAnswersWhereGetDoes(t *testing.T) {
	requirePrograms(t, "curl")
	s := startServer(t, newServerDirs(t))
	root := s.rootJWT(t)
	for _, tt := range []struct {
		path, authz string
		status      string
		headers     []string
	}{
		{"/healthz", "", "200", []string{"Content-Type: application/json"}},
		{"/metrics", "", "200", []string{"Content-Type: text/plain"}},
		{"/api/v1/backups", root, "200", []string{"Content-Type: application/json"}},
		{"/api/v1/backup/logs", root, "200", []string{"Content-Type: application/octet-stream", `Content-Disposition: attachment; filename="logs.db"`}},
		{"/api/v1/backup/logs", "Bearer pat:nope", "401", nil},
		{"/api/v1/backup/nope", root, "404", nil},
	} {
		head, status := curl(t, s.dirs.client, tt.authz, "--head", s.url+tt.path)
		if status != tt.status {
			t.Errorf("curl --head %s: status %s, want %s:\n%s", tt.path, status, tt.status, head)
		}
		for _, h := range tt.headers {
			if !strings.Contains(strings.ToLower(head), strings.ToLower(h)) {
				t.Errorf("curl --head %s: no %q in\n%s", tt.path, h, head)
			}
		}
	}
	// HEAD of a backup only answers headers: no dump ran.
	if n := metric(t, s, "flowg_backups_total", "logs"); n != 0 {
		t.Errorf("after HEAD /api/v1/backup/logs, flowg_backups_total{database=\"logs\"} = %v, want 0 (HEAD must not dump)", n)
	}
	// GET still streams the file.
	if file := s.download(t, root, "logs"); len(file) == 0 {
		t.Errorf("GET /api/v1/backup/logs after HEAD sent nothing")
	}
}

func TestHTTP_ResumedDownloadPastTheEndAnswersJSON(t *testing.T) {
	requirePrograms(t, "curl")
	s := startServer(t, newServerDirs(t))
	root := s.rootJWT(t)
	var set catSet
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups", root, nil).decode(t, &set)
	size := set.Databases["logs"].Bytes
	url := fmt.Sprintf("%s/api/v1/backups/%s/logs", s.url, set.ID)

	// A resume of the complete file asks for the bytes past its end.
	body, status := curl(t, s.dirs.client, root, "-D", "headers.txt", "-H", fmt.Sprintf("Range: bytes=%d-", size), url)
	headers := runBash(t, s.dirs.client, "cat headers.txt").stdout
	var e struct{ Error, Hint string }
	if err := json.Unmarshal([]byte(body), &e); status != "416" || err != nil || e.Error == "" || e.Hint == "" ||
		!strings.Contains(strings.ToLower(headers), "content-type: application/json") {
		t.Fatalf("curl -H 'Range: bytes=%d-' %s: status %s, want 416 with a JSON {error, hint} (%v):\n%s\n%s", size, url, status, err, headers, body)
	}
	if !strings.Contains(e.Error, fmt.Sprint(size)) || !strings.Contains(strings.ToLower(headers), fmt.Sprintf("content-range: bytes */%d", size)) {
		t.Errorf("the 416 should name the file's size %d in its error and Content-Range:\n%s\n%s", size, headers, body)
	}
	// A range inside the file still works.
	if part, status := curl(t, s.dirs.client, root, "-H", "Range: bytes=0-9", url); status != "206" || len(part) != 10 {
		t.Errorf("curl -H 'Range: bytes=0-9': status %s and %d bytes, want 206 and 10", status, len(part))
	}
}

func TestMetrics_AlertSeriesStartAtZero(t *testing.T) {
	requirePrograms(t, "curl")
	s := startServer(t, newServerDirs(t))
	body, status := curl(t, s.dirs.client, "", s.url+"/metrics")
	if status != "200" {
		t.Fatalf("curl /metrics: status %s\n%s", status, body)
	}
	var want []string
	for _, db := range []string{"auth", "config", "logs"} {
		want = append(want, fmt.Sprintf(`flowg_backup_duration_seconds_count{database=%q} 0`, db))
		for _, mode := range []string{"merge", "wipe"} {
			want = append(want, fmt.Sprintf(`flowg_restore_duration_seconds_count{database=%q,mode=%q} 0`, db, mode))
			for _, reason := range []string{"input", "error"} {
				want = append(want, fmt.Sprintf(`flowg_restore_failures_total{database=%q,mode=%q,reason=%q} 0`, db, mode, reason))
			}
		}
	}
	want = append(want, `flowg_backup_set_verifications_total{result="ok"} 0`, `flowg_backup_set_verifications_total{result="failed"} 0`)
	lines := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("a fresh server's /metrics has no line %q", w)
		}
	}
}
