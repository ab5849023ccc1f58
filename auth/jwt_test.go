package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

func TestLogin(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, user, password string
		ok                   bool
	}{
		{name: "good", user: "alice", password: alicePassword, ok: true},
		{name: "wrong password", user: "alice", password: "nope"},
		{name: "empty password", user: "alice", password: ""},
		{name: "unknown user", user: "mallory", password: alicePassword},
		{name: "invalid user name", user: "../root", password: alicePassword},
		{name: "case matters", user: "Alice", password: alicePassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := f.svc.Login(tt.user, tt.password)
			if !tt.ok {
				if err != auth.ErrBadCredentials {
					t.Fatalf("Login error = %v, want exactly ErrBadCredentials", err)
				}
				return
			}
			must(t, err)
			p, err := f.svc.Authenticate("Bearer jwt:" + tok)
			must(t, err)
			if p.User != "alice" || p.Via != auth.ViaJWT || p.TokenID != "" {
				t.Errorf("principal = %+v, want alice via jwt", p)
			}
			if want := auth.NewScopeSet(auth.ScopeReadACLs, auth.ScopeReadStreams); !slices.Equal(p.Scopes, want) {
				t.Errorf("scopes = %v, want %v", p.Scopes, want)
			}
		})
	}
}

func TestAuthenticate_RejectsBadJWTs(t *testing.T) {
	f := newFixture(t)
	good, err := f.svc.Login("alice", alicePassword)
	must(t, err)
	key := testJWTKey
	now := f.clock.Now()
	// Hand-made tokens carry the session id of a real login, so only the
	// property under test differs.
	var issued jwt.RegisteredClaims
	_, _, err = jwt.NewParser().ParseUnverified(good, &issued)
	must(t, err)
	claims := func(mod func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := jwt.RegisteredClaims{
			Issuer: "flowg", Subject: "alice", ID: issued.ID,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, k any, c jwt.RegisteredClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		must(t, err)
		return s
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	foreign := make([]byte, 32)
	_, _ = rand.Read(foreign)
	// An HMAC signature made with our key but announced as RS256.
	parts := strings.Split(sign(jwt.SigningMethodHS256, key, claims(nil)), ".")
	rsLooking := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]

	if _, err := f.svc.Authenticate("Bearer jwt:" + sign(jwt.SigningMethodHS256, key, claims(nil))); err != nil {
		t.Fatalf("control: a well-formed JWT signed with our key is refused: %v", err)
	}
	tests := []struct {
		name, token, reason string
	}{
		{name: "alg none", token: sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), reason: "bad signature"},
		{name: "RS256 signed by a foreign key", token: sign(jwt.SigningMethodRS256, rsaKey, claims(nil)), reason: "bad signature"},
		{name: "RS256 header on our HMAC", token: rsLooking, reason: "bad signature"},
		{name: "HS512 with our key", token: sign(jwt.SigningMethodHS512, key, claims(nil)), reason: "bad signature"},
		{name: "foreign secret", token: sign(jwt.SigningMethodHS256, foreign, claims(nil)), reason: "bad signature"},
		{name: "tampered payload", token: parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"root","iss":"flowg","exp":9999999999,"iat":1}`)) + "." + parts[2], reason: "bad signature"},
		{name: "no exp", token: sign(jwt.SigningMethodHS256, key, claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })), reason: "invalid token"},
		{name: "no iat", token: sign(jwt.SigningMethodHS256, key, claims(func(c *jwt.RegisteredClaims) { c.IssuedAt = nil })), reason: "malformed"},
		{name: "wrong issuer", token: sign(jwt.SigningMethodHS256, key, claims(func(c *jwt.RegisteredClaims) { c.Issuer = "other" })), reason: "invalid token"},
		{name: "issued in the future", token: sign(jwt.SigningMethodHS256, key, claims(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) })), reason: "not valid yet"},
		{name: "subject not a user name", token: sign(jwt.SigningMethodHS256, key, claims(func(c *jwt.RegisteredClaims) { c.Subject = "../x" })), reason: "malformed"},
		{name: "unknown subject", token: sign(jwt.SigningMethodHS256, key, claims(func(c *jwt.RegisteredClaims) { c.Subject = "ghost" })), reason: "user deleted"},
		{name: "malformed garbage", token: "not-a-jwt", reason: "malformed"},
		{name: "malformed three dots", token: "a.b.c", reason: "malformed"},
		{name: "truncated", token: good[:len(good)-5], reason: "bad signature"},
		{name: "header only", token: parts[0], reason: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Authenticate("Bearer jwt:" + tt.token)
			wantUnauthenticated(t, err, tt.reason, tt.token)
		})
	}
}

func TestAuthenticate_JWTExpires(t *testing.T) {
	f := newFixture(t)
	tok, err := f.svc.Login("alice", alicePassword)
	must(t, err)
	f.clock.Advance(59 * time.Minute)
	if _, err := f.svc.Authenticate("Bearer jwt:" + tok); err != nil {
		t.Fatalf("JWT refused before its TTL: %v", err)
	}
	f.clock.Advance(time.Minute)
	_, err = f.svc.Authenticate("Bearer jwt:" + tok)
	wantUnauthenticated(t, err, "expired", tok)
}

func TestAuthenticate_PasswordChangeEndsJWTSessions(t *testing.T) {
	f := newFixture(t)
	old, err := f.svc.Login("alice", alicePassword)
	must(t, err)
	f.clock.Advance(2 * time.Second)
	must(t, f.svc.SetPassword("alice", "rotated"))
	_, err = f.svc.Authenticate("Bearer jwt:" + old)
	wantUnauthenticated(t, err, "revoked", old)
	fresh, err := f.svc.Login("alice", "rotated")
	must(t, err)
	if _, err := f.svc.Authenticate("Bearer jwt:" + fresh); err != nil {
		t.Fatalf("JWT issued after the change is refused: %v", err)
	}
}

func TestAuthenticate_JWTOfRecreatedUserIsRefused(t *testing.T) {
	f := newFixture(t)
	old, err := f.svc.Login("alice", alicePassword)
	must(t, err)
	must(t, f.svc.DeleteUser("alice"))
	f.clock.Advance(2 * time.Second)
	must(t, f.svc.PutUser("alice", "someone-else", []string{"admin"}))
	_, err = f.svc.Authenticate("Bearer jwt:" + old)
	wantUnauthenticated(t, err, "revoked", old)
}

func TestJWTKey_FromItsFileSurvivesReopeningTheDatabase(t *testing.T) {
	dir := t.TempDir()
	keyFile := auth.DefaultJWTKeyFile(filepath.Join(dir, "auth"))
	key, created, err := auth.LoadOrCreateJWTKey(keyFile)
	must(t, err)
	if !created {
		t.Fatal("first LoadOrCreateJWTKey did not create the key file")
	}
	c := newClock()
	db, err := kv.Open(filepath.Join(dir, "auth"), kv.OpenOptions{})
	must(t, err)
	svc := auth.NewService(db, auth.Options{Now: c.Now, JWTKey: key})
	_, pw, err := svc.Bootstrap("")
	must(t, err)
	tok, err := svc.Login("root", pw)
	must(t, err)
	must(t, db.Close())

	db, err = kv.Open(filepath.Join(dir, "auth"), kv.OpenOptions{})
	must(t, err)
	defer db.Close()
	key, created, err = auth.LoadOrCreateJWTKey(keyFile)
	must(t, err)
	if created {
		t.Fatal("the key file was made again")
	}
	svc = auth.NewService(db, auth.Options{Now: c.Now, JWTKey: key})
	p, err := svc.Authenticate("Bearer jwt:" + tok)
	if err != nil {
		t.Fatalf("JWT from before the restart refused: %v", err)
	}
	if p.User != "root" || !slices.Equal(p.Scopes, auth.NewScopeSet(auth.AllScopes...)) {
		t.Errorf("principal = %+v, want root with all scopes", p)
	}
}

func TestLogin_WithoutAKeyFailsAndWritesNone(t *testing.T) {
	db := openMemDB(t)
	svc := auth.NewService(db, auth.Options{})
	_, _, err := svc.Bootstrap("pw")
	must(t, err)
	_, err = svc.Login("root", "pw")
	wantErr(t, err, auth.ErrNoJWTKey)
	requireNoLegacyKey(t, db)
}

func TestAuthenticate_JWTBeforeAnyLoginIsRefused(t *testing.T) {
	svc := auth.NewService(openMemDB(t), auth.Options{})
	_, _, err := svc.Bootstrap("pw")
	must(t, err)
	c := jwt.RegisteredClaims{Issuer: "flowg", Subject: "root", IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(make([]byte, 32))
	must(t, err)
	_, err = svc.Authenticate("Bearer jwt:" + tok)
	wantUnauthenticated(t, err, "bad signature", tok)
}
