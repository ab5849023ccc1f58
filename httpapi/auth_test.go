package httpapi_test

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowg-backup/flowg/httpapi"
)

// signedJWT returns a JWT for root signed with method and key, with the
// claims flowg expects.
func signedJWT(t *testing.T, method jwt.SigningMethod, key any) string {
	t.Helper()
	now := time.Now()
	claims := jwt.RegisteredClaims{Issuer: "flowg", Subject: "root",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign jwt: %v", err)
	}
	return s
}

func TestAuthentication_RefusesBadCredentialsWith401(t *testing.T) {
	e := newEnv(t, nil)
	foreignKey := make([]byte, 32)
	_, _ = rand.Read(foreignKey)

	e.doJSON("PUT", "/api/v1/roles/reader", e.root, map[string]any{"scopes": []string{"read_streams"}}).must(t, 200)
	e.doJSON("PUT", "/api/v1/users/alice", e.root, map[string]any{"password": "alice-pw", "roles": []string{"reader"}}).must(t, 200)
	alice := "Bearer jwt:" + e.login("alice", "alice-pw")
	deletedUser := e.token(alice)
	e.do("DELETE", "/api/v1/users/alice", e.root, nil, "").must(t, 200)

	revoked := e.doJSON("POST", "/api/v1/tokens", e.root, map[string]any{}).must(t, http.StatusCreated).json(t)
	e.do("DELETE", "/api/v1/tokens/"+revoked["id"].(string), e.root, nil, "").must(t, 200)
	expiring := e.doJSON("POST", "/api/v1/tokens", e.root, map[string]any{"expires_in": "1h"}).must(t, http.StatusCreated).json(t)
	e.clock.Advance(2 * time.Hour)

	tests := []struct {
		name   string
		header string
		reason string
	}{
		{name: "missing", header: "", reason: "missing credentials"},
		{name: "basic scheme", header: "Basic cm9vdDpyb290LXNlY3JldA==", reason: "malformed"},
		{name: "bearer without kind", header: "Bearer abc", reason: "malformed"},
		{name: "unknown kind", header: "Bearer api:abc", reason: "malformed"},
		{name: "malformed pat", header: "Bearer pat:not-a-token", reason: "malformed"},
		{name: "unknown pat", header: "Bearer pat:0123456789abcdef_" + strings.Repeat("ab", 32), reason: "unknown token"},
		{name: "revoked pat", header: "Bearer pat:" + revoked["token"].(string), reason: "revoked"},
		{name: "expired pat", header: "Bearer pat:" + expiring["token"].(string), reason: "expired"},
		{name: "pat of a deleted user", header: deletedUser, reason: "revoked"},
		{name: "jwt of a deleted user", header: alice, reason: "user deleted"},
		{name: "alg none jwt", header: "Bearer jwt:" + signedJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType), reason: "unauthenticated"},
		{name: "foreign-signed jwt", header: "Bearer jwt:" + signedJWT(t, jwt.SigningMethodHS256, foreignKey), reason: "bad signature"},
		{name: "garbage jwt", header: "Bearer jwt:a.b.c", reason: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/v1/backup/logs", tt.header, nil, "")
			r.wantError(t, http.StatusUnauthorized, tt.reason, "Bearer pat:<token>")
			gone := map[string]bool{"revoked pat": true, "expired pat": true, "pat of a deleted user": true, "jwt of a deleted user": true}[tt.name]
			if want := map[bool]httpapi.Code{false: httpapi.CodeUnauthenticated, true: httpapi.CodeTokenGone}[gone]; r.code(t) != want {
				t.Errorf("code = %q, want %q", r.code(t), want)
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
			}
			if tok := strings.TrimPrefix(tt.header, "Bearer "); len(tok) > 20 && strings.Contains(string(r.body), tok) {
				t.Errorf("answer %s echoes the credential", r)
			}
		})
	}
}

func TestLogin_WrongPasswordIs401(t *testing.T) {
	e := newEnv(t, nil)
	e.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": "root", "password": "nope"}).
		wantError(t, http.StatusUnauthorized, "invalid username or password", "check")
	e.do("POST", "/api/v1/auth/login", "", strings.NewReader("{"), "application/json").
		wantError(t, http.StatusBadRequest, "not valid JSON", `"username"`)
}

func TestScopes_NarrowedTokenGets403NamingTheScope(t *testing.T) {
	e := newEnv(t, nil)
	streams := e.token(e.root, "read_streams")
	noAlerts := e.token(e.root, "read_pipelines", "read_transformers")

	e.do("GET", "/api/v1/backup/logs", streams, nil, "").must(t, 200)
	tests := []struct {
		name, authz, method, path, scope string
	}{
		{name: "auth backup needs read_acls", authz: streams, method: "GET", path: "/api/v1/backup/auth", scope: "read_acls"},
		{name: "logs restore needs write_streams", authz: streams, method: "POST", path: "/api/v1/restore/logs", scope: "write_streams"},
		{name: "config backup needs read_alerts", authz: noAlerts, method: "GET", path: "/api/v1/backup/config", scope: "read_alerts"},
		{name: "ingest needs send_logs", authz: streams, method: "POST", path: "/api/v1/streams/app/logs", scope: "send_logs"},
		{name: "users need read_acls", authz: streams, method: "GET", path: "/api/v1/users", scope: "read_acls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := form("backup", "logs.db", []byte("x"))
			r := e.do(tt.method, tt.path, tt.authz, body, ct)
			r.wantError(t, http.StatusForbidden, "missing scope "+tt.scope, tt.scope)
		})
	}
}

func TestTokens_CannotWidenTheCallersScopes(t *testing.T) {
	e := newEnv(t, nil)
	streams := e.token(e.root, "read_streams")

	e.doJSON("POST", "/api/v1/tokens", streams, map[string]any{"scopes": []string{"write_acls"}}).
		wantError(t, http.StatusForbidden, "write_acls", "subset")
	e.doJSON("POST", "/api/v1/tokens", e.root, map[string]any{"scopes": []string{"root_everything"}}).
		wantError(t, http.StatusBadRequest, "unknown scope", "fix")
	e.doJSON("POST", "/api/v1/tokens", e.root, map[string]any{"expires_in": "soon"}).
		wantError(t, http.StatusBadRequest, "expires_in", "720h")

	// A token made with a narrowed token, without scopes, is narrowed alike.
	child := e.token(streams)
	e.do("GET", "/api/v1/backup/logs", child, nil, "").must(t, 200)
	e.do("GET", "/api/v1/backup/auth", child, nil, "").wantError(t, http.StatusForbidden, "read_acls", "read_acls")

	list := e.do("GET", "/api/v1/tokens", e.root, nil, "").must(t, 200)
	if strings.Contains(string(list.body), "secret") || strings.Count(string(list.body), `"id"`) != 2 {
		t.Errorf("token list = %s, want root's 2 tokens without secrets", list)
	}
}

func TestUsersAndRoles_CRUD(t *testing.T) {
	e := newEnv(t, nil)
	e.doJSON("PUT", "/api/v1/roles/shipper", e.root, map[string]any{"scopes": []string{"send_logs", "read_streams"}}).must(t, 200)
	role := e.do("GET", "/api/v1/roles/shipper", e.root, nil, "").must(t, 200).json(t)
	if got := role["scopes"].([]any); len(got) != 2 {
		t.Fatalf("role = %v, want 2 scopes", role)
	}
	e.doJSON("PUT", "/api/v1/users/bob", e.root, map[string]any{"password": "pw", "roles": []string{"shipper"}}).must(t, 200)
	user := e.do("GET", "/api/v1/users/bob", e.root, nil, "").must(t, 200)
	if strings.Contains(string(user.body), "argon2") || strings.Contains(string(user.body), "hash") {
		t.Fatalf("user answer %s shows the password hash", user)
	}
	e.do("DELETE", "/api/v1/roles/shipper", e.root, nil, "").wantError(t, http.StatusConflict, "in use", "")
	e.do("DELETE", "/api/v1/users/bob", e.root, nil, "").must(t, 200)
	e.do("DELETE", "/api/v1/roles/shipper", e.root, nil, "").must(t, 200)
	e.do("GET", "/api/v1/users/bob", e.root, nil, "").wantError(t, http.StatusNotFound, "not found", "")
	e.do("GET", "/api/v1/users/..%2F..%2Fetc", e.root, nil, "").wantError(t, http.StatusBadRequest, "name", "")
}
