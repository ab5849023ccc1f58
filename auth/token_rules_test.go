package auth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

// TestTokens_NarrowedTokenCannotActOnWiderOnes: a token may create or revoke
// only tokens whose scopes are within its own; a JWT carries all of its
// user's scopes.
func TestTokens_NarrowedTokenCannotActOnWiderOnes(t *testing.T) {
	f := newFixture(t)
	root := f.jwtOf(t, "root", "root-pass")
	fullID, full, err := f.svc.CreateToken(root, "root", nil, 0)
	must(t, err)
	_, logs, err := f.svc.CreateToken(root, "root", []auth.Scope{auth.ScopeSendLogs}, 0)
	must(t, err)
	siblingID, _, err := f.svc.CreateToken(root, "root", []auth.Scope{auth.ScopeSendLogs}, 0)
	must(t, err)
	sender := f.principal(t, "Bearer pat:"+logs)

	wantWider := func(t *testing.T, err error, action string, missing ...auth.Scope) {
		t.Helper()
		wantErr(t, err, auth.ErrWiderToken)
		wantErr(t, err, auth.ErrForbidden)
		var we *auth.WiderTokenError
		if !errors.As(err, &we) || we.Action != action || !slices.Equal(we.Missing, missing) {
			t.Fatalf("error = %#v, want a *WiderTokenError to %s missing %v", err, action, missing)
		}
	}

	t.Run("send_logs token cannot revoke root's full token", func(t *testing.T) {
		err := f.svc.RevokeToken(sender, fullID)
		allButSendLogs := slices.DeleteFunc(auth.NewScopeSet(auth.AllScopes...), func(s auth.Scope) bool { return s == auth.ScopeSendLogs })
		wantWider(t, err, "revoke", allButSendLogs...)
		if !strings.Contains(err.Error(), "read_acls") {
			t.Errorf("error %q does not name the scopes the caller lacks", err)
		}
		f.principal(t, "Bearer pat:"+full) // still works
	})
	t.Run("send_logs token cannot create a wider token", func(t *testing.T) {
		_, _, err := f.svc.CreateToken(sender, "root", []auth.Scope{auth.ScopeSendLogs, auth.ScopeReadACLs}, 0)
		wantWider(t, err, "create", auth.ScopeReadACLs)
	})
	t.Run("send_logs token creates within its scopes", func(t *testing.T) {
		_, tok, err := f.svc.CreateToken(sender, "root", []auth.Scope{auth.ScopeSendLogs}, 0)
		must(t, err)
		if p := f.principal(t, "Bearer pat:"+tok); !slices.Equal(p.Scopes, auth.ScopeSet{auth.ScopeSendLogs}) {
			t.Fatalf("new token scopes = %v, want [send_logs]", p.Scopes)
		}
	})
	t.Run("send_logs token asking for all scopes gets its own", func(t *testing.T) {
		_, tok, err := f.svc.CreateToken(sender, "root", nil, 0)
		must(t, err)
		if p := f.principal(t, "Bearer pat:"+tok); !slices.Equal(p.Scopes, auth.ScopeSet{auth.ScopeSendLogs}) {
			t.Fatalf("new token scopes = %v, want [send_logs]", p.Scopes)
		}
	})
	t.Run("send_logs token revokes a token within its scopes", func(t *testing.T) {
		must(t, f.svc.RevokeToken(sender, siblingID))
	})
	t.Run("a user with write_acls alone cannot revoke a token reading streams", func(t *testing.T) {
		must(t, f.svc.PutRole(auth.Role{Name: "acl-writer", Scopes: []auth.Scope{auth.ScopeWriteACLs}}))
		must(t, f.svc.PutUser("carol", "carol-pass", []string{"acl-writer"}))
		aliceID, _, err := f.svc.CreateToken(auth.LocalAdmin, "alice", []auth.Scope{auth.ScopeReadStreams}, 0)
		must(t, err)
		wantWider(t, f.svc.RevokeToken(f.jwtOf(t, "carol", "carol-pass"), aliceID), "revoke", auth.ScopeReadStreams)
	})
	t.Run("root's JWT revokes root's full token", func(t *testing.T) {
		must(t, f.svc.RevokeToken(root, fullID))
		_, err := f.svc.Authenticate("Bearer pat:" + full)
		wantUnauthenticated(t, err, "revoked", full)
	})
}
