package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// curlAnswer is one answer curl got: status, headers and body.
type curlAnswer struct {
	cmd    string
	status int
	header http.Header
	body   string
}

func (a curlAnswer) String() string {
	return a.cmd + "\n-> " + http.StatusText(a.status) + "\n" + a.body
}

// errorText returns the "error" of a JSON error body, failing t if there is
// none.
func (a curlAnswer) errorText(t testing.TB) string {
	t.Helper()
	var e struct{ Error, Hint string }
	if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error == "" || e.Hint == "" {
		t.Fatalf("want a JSON error body {\"error\",\"hint\"}:\n%s", a)
	}
	return e.Error
}

// curlTo runs curl -sS -i against s with the method, path, Authorization
// header authz (none when ""), JSON body (none when "") and extra headers,
// and parses what came back. curl must exit 0.
func curlTo(t testing.TB, s *flowgServer, method, path, authz, body string, headers ...string) curlAnswer {
	t.Helper()
	args := []string{"-sS", "-i", "-X", method}
	if authz != "" {
		args = append(args, "-H", "Authorization: "+authz)
	}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "--data-binary", body)
	}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, s.url+path)
	r := command(t, s.dirs.client, time.Minute, "curl", args...)
	if r.code != 0 {
		t.Fatalf("curl failed:\n%s", r)
	}
	return parseCurlAnswer(t, shellQuote("curl", args), r.stdout)
}

// parseCurlAnswer splits what curl -i printed into status, headers and body.
func parseCurlAnswer(t testing.TB, cmd, out string) curlAnswer {
	t.Helper()
	head, body, found := strings.Cut(out, "\r\n\r\n")
	if !found {
		t.Fatalf("%s: no header block in curl's output:\n%s", cmd, out)
	}
	lines := strings.Split(head, "\r\n")
	a := curlAnswer{cmd: cmd, header: http.Header{}, body: body}
	fields := strings.Fields(lines[0])
	if len(fields) < 2 {
		t.Fatalf("%s: status line %q", cmd, lines[0])
	}
	if _, err := fmt.Sscan(fields[1], &a.status); err != nil {
		t.Fatalf("%s: status line %q: %v", cmd, lines[0], err)
	}
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			a.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return a
}

// TestServer_NarrowedTokenCannotActOnWiderTokens: with curl, a token narrowed
// to send_logs can neither revoke root's full-scope token nor create a wider
// token (403 with a JSON error naming what it lacks), while it can create and
// revoke tokens within send_logs; root's JWT revokes any of root's tokens.
func TestServer_NarrowedTokenCannotActOnWiderTokens(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	s := startServer(t, newServerDirs(t))
	root := s.rootJWT(t)
	full := s.createToken(t, root, "")
	sendLogs := s.createToken(t, root, "", "send_logs")
	sibling := s.createToken(t, root, "", "send_logs")

	a := curlTo(t, s, http.MethodDelete, "/api/v1/tokens/"+full.ID, sendLogs.authz(), "")
	if a.status != http.StatusForbidden {
		t.Fatalf("a send_logs token revoking root's full token: want 403, got:\n%s", a)
	}
	if msg := a.errorText(t); !strings.Contains(msg, "revoke") || !strings.Contains(msg, "write_acls") {
		t.Fatalf("the 403 should say the revoke was refused and name the scopes lacking, got %q", msg)
	}
	if a := curlTo(t, s, http.MethodGet, "/api/v1/tokens", full.authz(), ""); a.status != http.StatusOK {
		t.Fatalf("root's full token should still work after the refused revoke:\n%s", a)
	}

	a = curlTo(t, s, http.MethodPost, "/api/v1/tokens", sendLogs.authz(), `{"scopes": ["send_logs", "read_acls"]}`)
	if a.status != http.StatusForbidden {
		t.Fatalf("a send_logs token creating a send_logs+read_acls token: want 403, got:\n%s", a)
	}
	if msg := a.errorText(t); !strings.Contains(msg, "read_acls") {
		t.Fatalf("the 403 should name read_acls, got %q", msg)
	}

	var made createdToken
	a = curlTo(t, s, http.MethodPost, "/api/v1/tokens", sendLogs.authz(), `{"scopes": ["send_logs"]}`)
	if a.status != http.StatusCreated {
		t.Fatalf("a send_logs token creating a send_logs token: want 201, got:\n%s", a)
	}
	if err := json.Unmarshal([]byte(a.body), &made); err != nil || made.ID == "" {
		t.Fatalf("decode the new token: %v\n%s", err, a)
	}
	a = curlTo(t, s, http.MethodPost, "/api/v1/tokens", sendLogs.authz(), `{}`)
	if a.status != http.StatusCreated {
		t.Fatalf("a send_logs token creating a token with no scopes named: want 201, got:\n%s", a)
	}
	var unnamed createdToken
	if err := json.Unmarshal([]byte(a.body), &unnamed); err != nil || unnamed.ID == "" {
		t.Fatalf("decode the new token: %v\n%s", err, a)
	}
	var list struct {
		Tokens []struct {
			ID     string   `json:"id"`
			Scopes []string `json:"scopes"`
		} `json:"tokens"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/tokens", root, nil).decode(t, &list)
	for _, tok := range list.Tokens {
		if (tok.ID == made.ID || tok.ID == unnamed.ID) && !slices.Equal(tok.Scopes, []string{"send_logs"}) {
			t.Fatalf("token %s made by the send_logs token has scopes %v, want [send_logs]", tok.ID, tok.Scopes)
		}
	}

	if a := curlTo(t, s, http.MethodDelete, "/api/v1/tokens/"+sibling.ID, sendLogs.authz(), ""); a.status != http.StatusOK {
		t.Fatalf("a send_logs token revoking another send_logs token: want 200, got:\n%s", a)
	}
	for _, tok := range []createdToken{sendLogs, full} {
		if a := curlTo(t, s, http.MethodDelete, "/api/v1/tokens/"+tok.ID, root, ""); a.status != http.StatusOK {
			t.Fatalf("root's JWT revoking root's token %s: want 200, got:\n%s", tok.ID, a)
		}
	}
	if a := curlTo(t, s, http.MethodGet, "/api/v1/tokens", full.authz(), ""); a.status != http.StatusUnauthorized {
		t.Fatalf("root's full token after root revoked it: want 401, got:\n%s", a)
	}
}
