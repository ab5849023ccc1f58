package auth_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/auth"
)

var tokenShape = regexp.MustCompile(`^[0-9a-f]{16}_[0-9a-f]{64}$`)

func TestCreateToken_ShapeAndListing(t *testing.T) {
	f := newFixture(t)
	id, tok, err := f.svc.CreateToken(auth.LocalAdmin, "alice", []auth.Scope{auth.ScopeReadStreams}, 24*time.Hour)
	must(t, err)
	if !tokenShape.MatchString(tok) || !strings.HasPrefix(tok, id+"_") {
		t.Fatalf("token %q (id %q) does not have the shape <16 hex>_<64 hex>", tok, id)
	}
	f.clock.Advance(time.Second)
	id2, _, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)
	_, _, err = f.svc.CreateToken(auth.LocalAdmin, "root", nil, 0)
	must(t, err)

	toks, err := f.svc.ListTokens("alice")
	must(t, err)
	if len(toks) != 2 || toks[0].ID != id || toks[1].ID != id2 {
		t.Fatalf("ListTokens(alice) = %+v, want %s then %s", toks, id, id2)
	}
	if toks[0].ExpiresAt == nil || !toks[0].ExpiresAt.Equal(toks[0].Created.Add(24*time.Hour)) {
		t.Errorf("ExpiresAt = %v, want created + 24h", toks[0].ExpiresAt)
	}
	if toks[1].ExpiresAt != nil || toks[1].Scopes != nil {
		t.Errorf("unnarrowed, unexpiring token = %+v, want nil scopes and expiry", toks[1])
	}
	out, err := json.Marshal(toks)
	must(t, err)
	if strings.Contains(string(out), toks[0].SecretHash) || strings.Contains(string(out), "hash") {
		t.Errorf("token JSON leaks the secret hash: %s", out)
	}
	all, err := f.svc.ListTokens("")
	must(t, err)
	if len(all) != 3 {
		t.Errorf("ListTokens(\"\") has %d tokens, want 3", len(all))
	}
}

func TestCreateToken_Refusals(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		owner  string
		scopes []auth.Scope
		ttl    time.Duration
		want   error
		names  string
	}{
		{name: "scope not held", owner: "alice", scopes: []auth.Scope{auth.ScopeReadStreams, auth.ScopeWriteStreams}, want: auth.ErrScopeNotHeld, names: "write_streams"},
		{name: "unknown scope", owner: "alice", scopes: []auth.Scope{"root_everything"}, want: auth.ErrUnknownScope},
		{name: "negative ttl", owner: "alice", ttl: -time.Second, want: auth.ErrInvalidTTL},
		{name: "unknown owner", owner: "ghost", want: auth.ErrNotFound},
		{name: "invalid owner", owner: "a/b", want: auth.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, tok, err := f.svc.CreateToken(auth.LocalAdmin, tt.owner, tt.scopes, tt.ttl)
			wantErr(t, err, tt.want)
			if id != "" || tok != "" {
				t.Errorf("refused CreateToken returned id %q token %q", id, tok)
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Errorf("error %q does not name %q", err, tt.names)
			}
		})
	}
}

func TestAuthenticate_PAT(t *testing.T) {
	f := newFixture(t)
	_, good, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)
	_, short, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, time.Hour)
	must(t, err)
	revokedID, revoked, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)
	must(t, f.svc.RevokeToken(f.jwtOf(t, "alice", alicePassword), revokedID))
	_, orphan, err := f.svc.CreateToken(auth.LocalAdmin, "root", nil, 0)
	must(t, err)
	// A token whose owner vanished without DeleteUser, as after a partial
	// restore: only the user key goes.
	must(t, f.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte("user/root")) }))
	f.clock.Advance(time.Hour)

	id, secret, _ := strings.Cut(good, "_")
	wrongSecret := id + "_" + changeFirst(secret)
	unknownID := changeFirst(id) + "_" + secret

	if p, err := f.svc.Authenticate("Bearer pat:" + good); err != nil || p.User != "alice" || p.Via != auth.ViaPAT || p.TokenID != id {
		t.Fatalf("good token: principal %+v, error %v", p, err)
	}
	tests := []struct {
		name, token, reason string
	}{
		{name: "wrong secret", token: wrongSecret, reason: "unknown token"},
		{name: "unknown id", token: unknownID, reason: "unknown token"},
		{name: "expired", token: short, reason: "expired"},
		{name: "revoked", token: revoked, reason: "revoked"},
		{name: "owner deleted", token: orphan, reason: "user deleted"},
		{name: "no separator", token: id + secret, reason: "malformed"},
		{name: "short secret", token: good[:len(good)-1], reason: "malformed"},
		{name: "upper-case hex", token: strings.ToUpper(good), reason: "malformed"},
		{name: "jwt given as pat", token: "eyJhbGciOiJIUzI1NiJ9.e30.sig", reason: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.svc.Authenticate("Bearer pat:" + tt.token)
			wantUnauthenticated(t, err, tt.reason, tt.token)
			if p.User != "" || p.Scopes != nil {
				t.Errorf("rejected token still gave principal %+v", p)
			}
		})
	}
}

// changeFirst returns hex string s with its first digit replaced by
// another.
func changeFirst(s string) string {
	if s[0] == '0' {
		return "1" + s[1:]
	}
	return "0" + s[1:]
}

func TestRevokeToken(t *testing.T) {
	f := newFixture(t)
	id, tok, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)
	alice := f.jwtOf(t, "alice", alicePassword)
	t.Run("someone else's token is not found", func(t *testing.T) {
		must(t, f.svc.PutUser("bob", "bob-pass", []string{"reader"}))
		wantErr(t, f.svc.RevokeToken(f.jwtOf(t, "bob", "bob-pass"), id), auth.ErrNotFound)
		if _, err := f.svc.Authenticate("Bearer pat:" + tok); err != nil {
			t.Fatalf("token stopped working after a refused revoke: %v", err)
		}
	})
	t.Run("malformed id is not found", func(t *testing.T) {
		wantErr(t, f.svc.RevokeToken(alice, "../../etc"), auth.ErrNotFound)
	})
	t.Run("owner revokes", func(t *testing.T) {
		must(t, f.svc.RevokeToken(alice, id))
		wantErr(t, f.svc.RevokeToken(alice, id), auth.ErrNotFound)
		toks, err := f.svc.ListTokens("alice")
		must(t, err)
		if len(toks) != 0 {
			t.Errorf("revoked token still listed: %+v", toks)
		}
	})
	t.Run("merge restore of the token keeps it revoked", func(t *testing.T) {
		// What a merge restore of an older backup does: the token key returns.
		must(t, f.db.Update(func(txn *badger.Txn) error {
			val, _ := json.Marshal(map[string]any{"id": id, "owner": "alice", "secret_hash": "x", "created": f.clock.Now()})
			return txn.Set([]byte("token/"+id), val)
		}))
		_, err := f.svc.Authenticate("Bearer pat:" + tok)
		wantUnauthenticated(t, err, "revoked", tok)
	})
}

func TestNarrowedToken_EffectiveScopesAreTheIntersection(t *testing.T) {
	f := newFixture(t)
	must(t, f.svc.PutRole(auth.Role{Name: "shipper", Scopes: []auth.Scope{auth.ScopeSendLogs, auth.ScopeWriteStreams}}))
	must(t, f.svc.PutUser("alice", "", []string{"reader", "shipper"}))
	_, tok, err := f.svc.CreateToken(auth.LocalAdmin, "alice", []auth.Scope{auth.ScopeReadStreams, auth.ScopeSendLogs}, 0)
	must(t, err)
	_, full, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)

	tests := []struct {
		name  string
		setup func(t *testing.T)
		token string
		want  auth.ScopeSet
	}{
		{name: "narrowed", token: tok, want: auth.NewScopeSet(auth.ScopeReadStreams, auth.ScopeSendLogs)},
		{name: "unnarrowed has all of the user's", token: full,
			want: auth.NewScopeSet(auth.ScopeReadACLs, auth.ScopeReadStreams, auth.ScopeSendLogs, auth.ScopeWriteStreams)},
		{name: "role loses a scope the token names", token: tok,
			setup: func(t *testing.T) {
				must(t, f.svc.PutRole(auth.Role{Name: "shipper", Scopes: []auth.Scope{auth.ScopeWriteStreams}}))
			},
			want: auth.NewScopeSet(auth.ScopeReadStreams)},
		{name: "user loses a role", token: tok,
			setup: func(t *testing.T) { must(t, f.svc.PutUser("alice", "", []string{"shipper"})) },
			want:  nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			p, err := f.svc.Authenticate("Bearer pat:" + tt.token)
			must(t, err)
			if !slices.Equal(p.Scopes, tt.want) {
				t.Fatalf("scopes = %v, want %v", p.Scopes, tt.want)
			}
		})
	}
}

func TestRequire_NamesTheMissingScope(t *testing.T) {
	p := auth.Principal{User: "alice", Via: auth.ViaPAT, Scopes: auth.NewScopeSet(auth.ScopeReadStreams)}
	tests := []struct {
		name    string
		require []auth.Scope
		want    string
	}{
		{name: "held", require: []auth.Scope{auth.ScopeReadStreams}},
		{name: "nothing required", require: nil},
		{name: "one missing", require: auth.RestoreScopes("logs"), want: "missing scope write_streams"},
		{name: "several missing", require: auth.BackupScopes("config"),
			want: "missing scopes read_pipelines, read_transformers, read_alerts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Require(tt.require...)
			if tt.want == "" {
				must(t, err)
				return
			}
			wantErr(t, err, auth.ErrForbidden)
			var mse *auth.MissingScopeError
			if !errors.As(err, &mse) || err.Error() != tt.want {
				t.Fatalf("Require error = %v, want *MissingScopeError %q", err, tt.want)
			}
		})
	}
}
