package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServer_RestoreByNameIsOptIn runs the FlowG page's restore call as
// written, curl --form backup=config.db (without @), against a server whose
// working directory holds an older config.db. By default the server never
// reads it: 400, saying to add the @, and nothing changes. Started with
// --restore-dir, it restores that file and its answer says which; a name it
// cannot give is refused with one answer that shows no server path.
func TestServer_RestoreByNameIsOptIn(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":"old"}`)
	// The server's working directory (dirs.root) holds an older backup.
	if err := os.WriteFile(filepath.Join(dirs.root, "config.db"), s.download(t, root, "config"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.putDoc(t, root, "/api/v1/pipelines/p", `{"v":"new"}`)

	body, status := curl(t, dirs.client, root, "-X", "POST", "--form", "backup=config.db", s.url+"/api/v1/restore/config")
	if status != "400" || !strings.Contains(body, "--form backup=@config.db") {
		t.Fatalf("--form backup=config.db on a server without --restore-dir: status %s, want 400 saying to add @:\n%s", status, body)
	}
	requirePipeline(t, s, root, "p", `{"v":"new"}`)
	s.stop(t)

	s = startServer(t, dirs, "--restore-dir", dirs.root)
	root = s.rootJWT(t)
	body, status = curl(t, dirs.client, root, "-X", "POST", "--form", "backup=config.db", s.url+"/api/v1/restore/config")
	if status != "200" {
		t.Fatalf("--form backup=config.db with --restore-dir: status %s, want 200:\n%s", status, body)
	}
	var a struct {
		File struct {
			ServerFile string `json:"server_file"`
		} `json:"file"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if a.File.ServerFile != "config.db" || !strings.Contains(strings.Join(a.Warnings, "\n"), "from the server's restore directory") {
		t.Errorf("answer = %s, want file.server_file config.db and a warning naming the server's file", body)
	}
	requirePipeline(t, s, root, "p", `{"v":"old"}`)

	for _, name := range []string{"missing.db", "uploads"} {
		body, status = curl(t, dirs.client, root, "-X", "POST", "--form", "backup="+name, s.url+"/api/v1/restore/config")
		if status != "400" || !strings.Contains(body, "--form backup=@"+name) || strings.Contains(body, dirs.root) {
			t.Errorf("--form backup=%s: status %s, want 400 saying to add @ and showing no server path:\n%s", name, status, body)
		}
	}
}

// requirePipeline requires the pipeline name to hold want.
func requirePipeline(t testing.TB, s *flowgServer, authz, name, want string) {
	t.Helper()
	r := s.send(t, http.MethodGet, "/api/v1/pipelines/"+name, authz, nil, "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), want) {
		t.Fatalf("pipeline %s = %s, want %s", name, r, want)
	}
}
