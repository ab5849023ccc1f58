package httpapi_test

import (
	"net/http"
	"testing"
	"time"
)

func TestAuthMe_JWTAndTokens(t *testing.T) {
	e := newEnv(t, nil)
	me := e.do("GET", "/api/v1/auth/me", e.root, nil, "").must(t, http.StatusOK).json(t)
	if me["user"] != "root" || me["kind"] != "jwt" {
		t.Fatalf("me with root's JWT = %v", me)
	}
	exp, _ := me["token_expires_at"].(string)
	at, err := time.Parse(time.RFC3339, exp)
	if err != nil || !at.After(e.clock.Now()) {
		t.Fatalf("token_expires_at of a JWT = %v (%v), want an RFC 3339 time in the future", me["token_expires_at"], err)
	}
	if scopes, _ := me["scopes"].([]any); len(scopes) < 10 {
		t.Fatalf("root's scopes = %v, want every scope", me["scopes"])
	}

	narrow := e.token(e.root, "read_streams")
	me = e.do("GET", "/api/v1/auth/me", narrow, nil, "").must(t, http.StatusOK).json(t)
	scopes, _ := me["scopes"].([]any)
	if me["kind"] != "token" || me["user"] != "root" || len(scopes) != 1 || scopes[0] != "read_streams" {
		t.Fatalf("me with a read_streams token = %v, want kind token and only read_streams", me)
	}
	if v, ok := me["token_expires_at"]; !ok || v != nil {
		t.Fatalf("token_expires_at of a token without expiry = %v (present %v), want null", v, ok)
	}

	r := e.doJSON("POST", "/api/v1/tokens", e.root, map[string]any{"scopes": []string{"read_acls"}, "expires_in": "2h"}).must(t, http.StatusCreated)
	expiring := "Bearer pat:" + r.json(t)["token"].(string)
	me = e.do("GET", "/api/v1/auth/me", expiring, nil, "").must(t, http.StatusOK).json(t)
	exp, _ = me["token_expires_at"].(string)
	if at, err := time.Parse(time.RFC3339, exp); err != nil || at.Sub(e.clock.Now()) < 119*time.Minute || at.Sub(e.clock.Now()) > 121*time.Minute {
		t.Fatalf("token_expires_at of a 2h token = %v, want about 2h from now", me["token_expires_at"])
	}

	e.do("GET", "/api/v1/auth/me", "", nil, "").wantError(t, http.StatusUnauthorized, "missing credentials", "")
}
