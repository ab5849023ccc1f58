package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Attacks on the console's API with the real binary and curl, by a user
// holding one low scope.

// lowUser makes user name, whose one role grants scope, and returns the
// Authorization header of its JWT.
func lowUser(t testing.TB, s *flowgServer, root, name, scope string) string {
	t.Helper()
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/only_"+scope, root, map[string]any{"scopes": []string{scope}})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/"+name, root,
		map[string]any{"password": name + "-password-12345", "roles": []string{"only_" + scope}})
	return s.login(t, name, name+"-password-12345")
}

// One read_streams user asking for links in a loop takes at most
// --max-download-links-per-user (default 20) of the server's
// --max-download-links: root still gets links.
func TestAttack_DownloadLinksOneUserCannotTakeThemAll(t *testing.T) {
	s := startServer(t, newServerDirs(t), "--max-download-links", "25")
	root := s.rootJWT(t)
	alice := lowUser(t, s, root, "alice", "read_streams")
	var set struct {
		ID string `json:"id"`
	}
	curlAPI(t, s, http.StatusCreated, &set, "-X", "POST", "-H", "Authorization: "+root, s.url+"/api/v1/backups?only=logs")

	made := 0
	for range 25 {
		r := command(t, s.dirs.client, time.Minute, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
			"-H", "Authorization: "+alice, s.url+"/api/v1/backups/"+set.ID+"/logs/link")
		if r.stdout == "201" {
			made++
		}
	}
	if made != 20 {
		t.Fatalf("alice made %d links in a row, want the 20 of --max-download-links-per-user's default", made)
	}
	body := curlAPI(t, s, http.StatusTooManyRequests, nil, "-X", "POST", "-H", "Authorization: "+alice,
		s.url+"/api/v1/backups/"+set.ID+"/logs/link")
	requireContains(t, "alice's 21st link", body, "--max-download-links-per-user", "alice", "Retry-After")
	var link struct {
		URL string `json:"url"`
	}
	curlAPI(t, s, http.StatusCreated, &link, "-X", "POST", "-H", "Authorization: "+root, s.url+"/api/v1/backups/"+set.ID+"/logs/link")
	if !strings.HasPrefix(link.URL, "/api/v1/downloads/") {
		t.Fatalf("root's link %q", link.URL)
	}
	curlAPI(t, s, http.StatusOK, nil, "-o", "/dev/null", s.url+link.URL)
}
