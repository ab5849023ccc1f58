package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/httpapi"
)

// link asks for a download link with authz and returns its URL.
func (e *env) link(set, db, authz string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/backups/"+set+"/"+db+"/link", authz, nil, "").must(e.t, http.StatusCreated).json(e.t)
	url, _ := r["url"].(string)
	exp, err := time.Parse(time.RFC3339, r["expires_at"].(string))
	if !strings.HasPrefix(url, "/api/v1/downloads/") || len(url) < len("/api/v1/downloads/")+43 || err != nil {
		e.t.Fatalf("link answer %v (%v)", r, err)
	}
	if d := exp.Sub(e.clock.Now()); d < 55*time.Second || d > 61*time.Second {
		e.t.Fatalf("link expires in %s, want the default 60s", d)
	}
	return url
}

func TestDownloadLinks_WorkOnceWithoutAuthorizationThenExpire(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, func(o *httpapi.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":"one"}]}`), "").must(t, 200)
	set := e.createSet("")
	want := e.do("GET", "/api/v1/backups/"+set.ID+"/logs", e.root, nil, "").must(t, http.StatusOK).body

	url := e.link(set.ID, "logs", e.root)
	e.do("HEAD", url, "", nil, "").must(t, http.StatusOK) // HEAD does not use it
	got := e.do("GET", url, "", nil, "").must(t, http.StatusOK)
	if !bytes.Equal(got.body, want) || got.header.Get("Content-Disposition") == "" || got.header.Get("X-Flowg-Set-Label") == "" {
		t.Fatalf("download by link = %d bytes (headers %v), want the %d bytes of the file", len(got.body), got.header, len(want))
	}
	e.do("GET", url, "", nil, "").wantError(t, http.StatusNotFound, "used already", "POST /api/v1/backups/ID/DB/link")
	e.do("HEAD", url, "", nil, "").must(t, http.StatusNotFound)

	late := e.link(set.ID, "config", e.root)
	e.clock.Advance(61 * time.Second)
	e.do("HEAD", late, "", nil, "").must(t, http.StatusGone)
	e.do("GET", late, "", nil, "").wantError(t, http.StatusGone, "expired", "new one")
	e.do("GET", late, "", nil, "").wantError(t, http.StatusNotFound, "", "")
	e.do("GET", "/api/v1/downloads/"+strings.Repeat("A", 43), "", nil, "").wantError(t, http.StatusNotFound, "", "")

	// The link is only as good as the caller's scopes, checked when it is made.
	reader := e.token(e.root, "read_streams")
	e.do("POST", "/api/v1/backups/"+set.ID+"/config/link", reader, nil, "").wantError(t, http.StatusForbidden, "missing scope", "")
	e.do("POST", "/api/v1/backups/"+set.ID+"/logs/link", e.token(e.root, "send_logs"), nil, "").wantError(t, http.StatusForbidden, "missing scope", "")
	e.do("POST", "/api/v1/backups/"+set.ID+"/logs/link", "", nil, "").wantError(t, http.StatusUnauthorized, "", "")
	e.do("GET", e.link(set.ID, "logs", reader), "", nil, "").must(t, http.StatusOK)
	alias := e.do("POST", "/api/v1/backups/"+set.ID+"/files/logs/link", reader, nil, "").must(t, http.StatusCreated).json(t)
	e.do("GET", alias["url"].(string), "", nil, "").must(t, http.StatusOK)
	e.do("POST", "/api/v1/backups/"+set.ID+"/files/config/link", reader, nil, "").wantError(t, http.StatusForbidden, "missing scope", "")
	e.do("POST", "/api/v1/backups/20200101T000000Z-abcdef/logs/link", e.root, nil, "").wantError(t, http.StatusNotFound, "not found", "")
	e.do("POST", "/api/v1/backups/"+set.ID+"/nope/link", e.root, nil, "").wantError(t, http.StatusNotFound, "", "/link")
	token := strings.TrimPrefix(url, "/api/v1/downloads/")
	if strings.Contains(logs.String(), token) || !strings.Contains(logs.String(), "route=/api/v1/downloads/:token") {
		t.Fatalf("the server log holds a link's token, or no download:\n%s", logs.String())
	}
}

func TestDownloadLinks_BoundedInNumberAndTTLFromOptions(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.MaxDownloadLinks = 2; o.DownloadLinkTTL = 5 * time.Second })
	set := e.createSet("")
	r := e.do("POST", "/api/v1/backups/"+set.ID+"/auth/link", e.root, nil, "").must(t, http.StatusCreated).json(t)
	if exp, _ := time.Parse(time.RFC3339, r["expires_at"].(string)); exp.Sub(e.clock.Now()) > 6*time.Second {
		t.Fatalf("expires_at %v, want 5s from now", r["expires_at"])
	}
	e.do("POST", "/api/v1/backups/"+set.ID+"/auth/link", e.root, nil, "").must(t, http.StatusCreated)
	full := e.do("POST", "/api/v1/backups/"+set.ID+"/auth/link", e.root, nil, "")
	full.wantError(t, http.StatusTooManyRequests, "--max-download-links", "Retry-After")
	if full.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	e.clock.Advance(6 * time.Second) // the two expire: room again
	e.do("POST", "/api/v1/backups/"+set.ID+"/auth/link", e.root, nil, "").must(t, http.StatusCreated)
}
