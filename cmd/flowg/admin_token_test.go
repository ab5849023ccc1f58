package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

func TestAdminTokenCreate_PrintsOnlyATokenThatAuthenticates(t *testing.T) {
	dir := newAuthDir(t)
	tests := []struct {
		name       string
		args       []string
		wantScopes auth.ScopeSet
		wantNote   string
	}{
		{
			name:       "narrowed",
			args:       []string{"--scope", "read_streams", "--scope", "write_streams", "--expires-in", "720h"},
			wantScopes: auth.NewScopeSet(auth.ScopeReadStreams, auth.ScopeWriteStreams),
			wantNote:   "scopes:  read_streams, write_streams",
		},
		{
			name:       "lifetime in days",
			args:       []string{"--scope", "read_streams", "--expires-in", "30d"},
			wantScopes: auth.NewScopeSet(auth.ScopeReadStreams),
			wantNote:   "(in 720h0m0s)",
		},
		{
			name:       "comma separated",
			args:       []string{"--scope", "read_acls,READ_STREAMS"},
			wantScopes: auth.NewScopeSet(auth.ScopeReadACLs, auth.ScopeReadStreams),
			wantNote:   "expires: never",
		},
		{
			name:       "all of the user's scopes",
			wantScopes: auth.NewScopeSet(auth.AllScopes...),
			wantNote:   "all of root's, now and later",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"admin", "token", "create", "--auth-dir", dir, "--user", "root"}, tt.args...)
			r := runFlowg(t, "", args...)
			if r.code != exitOK {
				t.Fatalf("want exit 0, got %s", r)
			}
			if !tokenPattern.MatchString(r.stdout) {
				t.Fatalf("stdout: want just the token and a newline, got %q", r.stdout)
			}
			token := strings.TrimSpace(r.stdout)
			id, _, _ := strings.Cut(token, "_")
			for _, want := range []string{"created token " + id + " for user root", tt.wantNote, "shown once"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, token) {
				t.Errorf("stderr repeats the token:\n%s", r.stderr)
			}
			withAuthService(t, dir, func(svc *auth.Service) {
				p, err := svc.Authenticate("Bearer pat:" + token)
				if err != nil {
					t.Fatalf("authenticate with the printed token: %v", err)
				}
				if p.User != "root" || p.TokenID != id {
					t.Errorf("principal: want root with token %s, got %+v", id, p)
				}
				if !slices.Equal(p.Scopes, tt.wantScopes) {
					t.Errorf("scopes: want %v, got %v", tt.wantScopes, p.Scopes)
				}
			})
		})
	}
}
