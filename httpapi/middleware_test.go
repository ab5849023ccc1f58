package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/kv"
)

func TestMiddleware_PanicIs500JSONAndLogged(t *testing.T) {
	dir := t.TempDir()
	store, err := kv.OpenStore(kv.Dirs{Auth: filepath.Join(dir, "a"), Config: filepath.Join(dir, "c"), Logs: filepath.Join(dir, "l")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs bytes.Buffer
	s := New(store, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), UploadDir: dir})
	s.echo.GET("/boom", func(echo.Context) error { panic("boom") })

	req := httptest.NewRequest("GET", "/boom", nil)
	req.Header.Set("Authorization", "Bearer pat:do-not-log-me")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)

	var body errorBody
	if rec.Code != http.StatusInternalServerError || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("answer = %d %s, want 500 JSON", rec.Code, rec.Body)
	}
	id := rec.Header().Get(echo.HeaderXRequestID)
	if body.Error != "internal server error" || !strings.Contains(body.Hint, id) || id == "" {
		t.Errorf("answer %+v, want an internal error pointing at request %q in the log", body, id)
	}
	for _, want := range []string{"panic=boom", "request_id=" + id, "status=500"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "do-not-log-me") {
		t.Errorf("log holds the Authorization header:\n%s", logs.String())
	}
}
