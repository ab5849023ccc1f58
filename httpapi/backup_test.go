package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
)

func TestBackup_StreamsAVerifiedFileNamedForItsDatabase(t *testing.T) {
	e := newEnv(t, nil)
	e.do("PUT", "/api/v1/pipelines/p", e.root, strings.NewReader(`{"v":1}`), "").must(t, 200)
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":1},{"m":2}]}`), "").must(t, 200)
	tests := []struct {
		db, file string
		minKeys  uint64
	}{
		{db: "auth", file: "auth.db", minKeys: 2}, // role, user (the JWT key is in its own file)
		{db: "config", file: "config.db", minKeys: 1},
		{db: "logs", file: "logs.db", minKeys: 2},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/api/v1/backup/"+tt.db, nil)
			req.Header.Set("Authorization", e.root)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			file, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET backup: %d, %v", resp.StatusCode, err)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("Content-Type = %q, want application/octet-stream", got)
			}
			if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="`+tt.file+`"`; got != want {
				t.Errorf("Content-Disposition = %q, want %q", got, want)
			}
			hdr, sum, err := backup.Verify(t.Context(), bytes.NewReader(file),
				backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: tt.db}, Load: true})
			if err != nil {
				t.Fatalf("the downloaded file does not verify: %v", err)
			}
			if hdr.Database != tt.db || sum.Keys < tt.minKeys {
				t.Errorf("file holds %s with %d keys, want %s with at least %d", hdr.Database, sum.Keys, tt.db, tt.minKeys)
			}
			if got := resp.Trailer.Get("X-Flowg-Backup-Sha256"); got != sum.SHA256 {
				t.Errorf("trailer sha256 = %q, want the file's %q", got, sum.SHA256)
			}
		})
	}
	e.do("GET", "/api/v1/backup/nope", e.root, nil, "").wantError(t, http.StatusNotFound, "unknown database", "auth, config and logs")
}
