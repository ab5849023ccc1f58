package integration

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServer_NarrowedTokensGetOnlyTheirScopes checks the seed's permission
// table with permission-scoped tokens: a token narrowed to read_streams backs
// up logs (a file that verifies) but gets 403 for the auth backup and for a
// logs restore, naming the scope it lacks; without read_alerts, a config
// backup is refused naming read_alerts, whether the token or the user's role
// lacks it. A refused call changes nothing.
func TestServer_NarrowedTokensGetOnlyTheirScopes(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	before := s.readEverything(t, root)
	logsFile := s.download(t, root, "logs")

	readStreams := s.createToken(t, root, "", "read_streams")
	file := s.download(t, readStreams.authz(), "logs")
	path := filepath.Join(dirs.client, "logs.db")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	mustFlowg(t, dirs.client, "admin", "verify", path)

	requireForbidden(t, s.send(t, http.MethodGet, "/api/v1/backup/auth", readStreams.authz(), nil, ""), "read_acls")
	requireForbidden(t, s.upload(t, readStreams.authz(), "logs", logsFile, false), "write_streams")
	requireForbidden(t, s.upload(t, readStreams.authz(), "logs", logsFile, true), "write_streams")
	// A narrowed token cannot mint a wider one.
	if r := s.sendJSON(t, http.MethodPost, "/api/v1/tokens", readStreams.authz(), map[string]any{"scopes": []string{"read_acls"}}); r.status != http.StatusForbidden {
		t.Fatalf("a token narrowed to read_streams asked for a read_acls token; want 403, got:\n%s", r)
	}

	noAlerts := s.createToken(t, root, "", "read_pipelines", "read_transformers")
	requireForbidden(t, s.send(t, http.MethodGet, "/api/v1/backup/config", noAlerts.authz(), nil, ""), "read_alerts")

	// The same through a role: a user whose role lacks read_alerts.
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/config-reader", root, map[string]any{"scopes": []string{"read_pipelines", "read_transformers"}})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/carol", root, map[string]any{"password": "carol-pw-123", "roles": []string{"config-reader"}})
	requireForbidden(t, s.send(t, http.MethodGet, "/api/v1/backup/config", s.login(t, "carol", "carol-pw-123"), nil, ""), "read_alerts")

	// A token narrowed to write_streams may restore logs (and nothing else).
	writeStreams := s.createToken(t, root, "", "write_streams")
	requireForbidden(t, s.upload(t, writeStreams.authz(), "config", s.download(t, root, "config"), false), "write_pipelines")

	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/carol", root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/roles/config-reader", root, nil)
	for _, tok := range []createdToken{readStreams, noAlerts, writeStreams} {
		s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/tokens/"+tok.ID, root, nil)
	}
	requireSameData(t, "after the refused calls", before, s.readEverything(t, root))

	writeStreams = s.createToken(t, root, "", "write_streams")
	s.mustRestore(t, writeStreams.authz(), "logs", logsFile, false)
}

// requireForbidden fails t unless r is a 403 whose error names scope.
func requireForbidden(t testing.TB, r reply, scope string) {
	t.Helper()
	if r.status != http.StatusForbidden {
		t.Fatalf("want status 403 naming %s, got:\n%s", scope, r)
	}
	msg, hint := r.errorBody(t)
	if !strings.Contains(msg, scope) {
		t.Fatalf("the 403 does not name the missing scope %s: error %q, hint %q", scope, msg, hint)
	}
}

// TestServer_BadCredentialsGet401 sends every kind of bad credential to an
// authenticated route; each gets 401 with WWW-Authenticate and a JSON error
// that does not echo the secret.
func TestServer_BadCredentialsGet401(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	const route = "/api/v1/backup/auth"
	ok := func(what, authz string) {
		t.Helper()
		if r := s.send(t, http.MethodGet, route, authz, nil, ""); r.status != http.StatusOK {
			t.Fatalf("%s should work before it is spoiled; want 200, got:\n%s", what, r)
		}
	}

	// An expiring token, checked first so the wait overlaps the rest.
	expiring := s.createToken(t, root, "3s")
	created := time.Now()
	ok("a token expiring in 3s", expiring.authz())

	// A token of a user who is then deleted, and a JWT of that user.
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/bob", root, map[string]any{"password": "bob-pw-1234", "roles": []string{"admin"}})
	bobJWT := s.login(t, "bob", "bob-pw-1234")
	bobPAT := s.createToken(t, bobJWT, "")
	ok("bob's token", bobPAT.authz())
	ok("bob's JWT", bobJWT)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/bob", root, nil)

	// A revoked token.
	revoked := s.createToken(t, root, "")
	ok("a token to revoke", revoked.authz())
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/tokens/"+revoked.ID, root, nil)

	now := time.Now().Unix()
	claims := map[string]any{"iss": "flowg", "sub": "root", "iat": now, "exp": now + 3600}
	unknownPAT := randomHex(t, 8) + "_" + randomHex(t, 32)
	cases := []struct {
		name   string
		authz  string
		secret string // must not appear in the answer
	}{
		{name: "no header"},
		{name: "Bearer alone", authz: "Bearer"},
		{name: "Bearer pat: without a token", authz: "Bearer pat:"},
		{name: "Bearer jwt: without a token", authz: "Bearer jwt:"},
		{name: "unknown PAT", authz: "Bearer pat:" + unknownPAT, secret: unknownPAT},
		{name: "malformed PAT", authz: "Bearer pat:not-a-token"},
		{name: "PAT with a wrong secret", authz: "Bearer pat:" + expiring.ID + "_" + strings.Repeat("0", 64)},
		{name: "unknown kind", authz: "Bearer xyz:" + revoked.Token},
		{name: "Basic scheme", authz: "Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+serverRootPassword))},
		{name: "token without scheme", authz: "pat:" + expiring.Token},
		{name: "JWT garbage", authz: "Bearer jwt:garbage"},
		{name: "JWT alg none", authz: "Bearer jwt:" + unsignedJWT(claims)},
		{name: "JWT signed with another secret", authz: "Bearer jwt:" + signHS256(claims, []byte("not the server's secret, 32 bytes"))},
		{name: "JWT with its signature cut", authz: root[:strings.LastIndexByte(root, '.')+1]},
		{name: "revoked PAT", authz: revoked.authz(), secret: revoked.Token},
		{name: "PAT of a deleted user", authz: bobPAT.authz(), secret: bobPAT.Token},
		{name: "JWT of a deleted user", authz: bobJWT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireUnauthorized(t, s, route, c.name, c.authz, c.secret)
		})
	}

	// A user re-created under the same name does not revive the old token
	// (the JWT case is TestServer_JWTEndsWhenItsUserIsRecreatedOrChangesPassword).
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/bob", root, map[string]any{"password": "bob-pw-5678", "roles": []string{"admin"}})
	requireUnauthorized(t, s, route, "PAT of a deleted and re-created user", bobPAT.authz(), bobPAT.Token)

	time.Sleep(time.Until(created.Add(3*time.Second + 500*time.Millisecond)))
	requireUnauthorized(t, s, route, "expired PAT", expiring.authz(), expiring.Token)
	requireUnauthorized(t, s, "/api/v1/streams", "expired PAT on another route", expiring.authz(), expiring.Token)
	ok("root's JWT", root)
}

// TestServer_JWTEndsWhenItsUserIsRecreatedOrChangesPassword checks that a
// JWT stops working when its user's password is changed, or the user is
// deleted and created again under the same name, even when that happens
// within the second the JWT was issued in (JWT times have one-second
// precision). Each case starts just after a second boundary, so login and
// change share one second.
func TestServer_JWTEndsWhenItsUserIsRecreatedOrChangesPassword(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	const route = "/api/v1/backup/auth"
	cases := []struct {
		name  string
		spoil func(t *testing.T, user string)
	}{
		{"password changed", func(t *testing.T, user string) {
			s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/"+user, root, map[string]any{"password": "changed-pw-123", "roles": []string{"admin"}})
		}},
		{"user deleted and re-created", func(t *testing.T, user string) {
			s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/"+user, root, nil)
			s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/"+user, root, map[string]any{"password": "other-pw-1234", "roles": []string{"admin"}})
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			user := fmt.Sprintf("dave%d", i)
			s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/"+user, root, map[string]any{"password": "dave-pw-1234", "roles": []string{"admin"}})
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
			jwt := s.login(t, user, "dave-pw-1234")
			if r := s.send(t, http.MethodGet, route, jwt, nil, ""); r.status != http.StatusOK {
				t.Fatalf("the fresh JWT: want 200, got:\n%s", r)
			}
			c.spoil(t, user)
			requireUnauthorized(t, s, route, "JWT issued before: "+c.name, jwt, "")
		})
	}
}

// requireUnauthorized fails t unless authz gets a 401 on route.
func requireUnauthorized(t testing.TB, s *flowgServer, route, name, authz, secret string) {
	t.Helper()
	r := s.send(t, http.MethodGet, route, authz, nil, "")
	if r.status != http.StatusUnauthorized {
		t.Fatalf("%s (Authorization: %q): want 401, got:\n%s", name, authz, r)
	}
	if r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("%s: the 401 has no WWW-Authenticate header", name)
	}
	r.errorBody(t)
	if secret != "" && strings.Contains(string(r.body), secret) {
		t.Fatalf("%s: the 401 answer echoes the token:\n%s", name, r)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jsonPart(v any) string {
	b, _ := json.Marshal(v)
	return b64url(b)
}

// unsignedJWT is a JWT with "alg": "none" and an empty signature.
func unsignedJWT(claims map[string]any) string {
	return jsonPart(map[string]string{"alg": "none", "typ": "JWT"}) + "." + jsonPart(claims) + "."
}

// signHS256 is a JWT signed with HS256 and key.
func signHS256(claims map[string]any, key []byte) string {
	signing := jsonPart(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + jsonPart(claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + b64url(mac.Sum(nil))
}

// TestServer_MergeRestoreOfAuthKeepsRevokedTokensRevoked backs up auth,
// revokes a token and deletes a user (which revokes the user's token), then
// merges the backup back: the user returns (with a warning), but both tokens
// stay revoked — they get 401 and are not listed as live tokens.
func TestServer_MergeRestoreOfAuthKeepsRevokedTokensRevoked(t *testing.T) {
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/erin", root, map[string]any{"password": "erin-pw-1234", "roles": []string{"admin"}})
	revoked := s.createToken(t, root, "")
	erins := s.createToken(t, s.login(t, "erin", "erin-pw-1234"), "")
	file := s.download(t, root, "auth")

	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/tokens/"+revoked.ID, root, nil)
	s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/erin", root, nil)
	a := s.mustRestore(t, root, "auth", file, false)
	if !strings.Contains(strings.Join(a.Warnings, "\n"), "erin") {
		t.Fatalf("the merge brought user erin back without a warning naming erin: %+v", a)
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/users/erin", root, nil)
	requireUnauthorized(t, s, "/api/v1/streams", "a token revoked after the backup", revoked.authz(), revoked.Token)
	requireUnauthorized(t, s, "/api/v1/streams", "a token of a user deleted after the backup", erins.authz(), erins.Token)

	var list struct {
		Tokens []struct{ ID string }
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/tokens?all=true", root, nil).decode(t, &list)
	for _, tok := range list.Tokens {
		if tok.ID == revoked.ID || tok.ID == erins.ID {
			t.Fatalf("GET /api/v1/tokens?all=true lists token %s, which is revoked (it gets 401), as a live token: %+v", tok.ID, list.Tokens)
		}
	}
}
