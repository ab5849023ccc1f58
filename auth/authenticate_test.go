package auth_test

import (
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

func TestAuthenticate_HeaderForms(t *testing.T) {
	f := newFixture(t)
	_, pat, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)
	jwt, err := f.svc.Login("alice", alicePassword)
	must(t, err)
	tests := []struct {
		name   string
		header string
		via    string // empty: must be refused
		reason string
	}{
		{name: "pat", header: "Bearer pat:" + pat, via: auth.ViaPAT},
		{name: "jwt", header: "Bearer jwt:" + jwt, via: auth.ViaJWT},
		{name: "scheme lower case", header: "bearer pat:" + pat, via: auth.ViaPAT},
		{name: "scheme upper case and kind upper case", header: "BEARER PAT:" + pat, via: auth.ViaPAT},
		{name: "surrounding spaces", header: "  Bearer   jwt:" + jwt + "  ", via: auth.ViaJWT},
		{name: "tab after scheme", header: "Bearer\tpat:" + pat, via: auth.ViaPAT},
		{name: "empty", header: "", reason: "missing credentials"},
		{name: "only spaces", header: "   ", reason: "missing credentials"},
		{name: "basic scheme", header: "Basic YWxpY2U6cHc=", reason: "malformed authorization header"},
		{name: "no scheme", header: "pat:" + pat, reason: "malformed authorization header"},
		{name: "bearer alone", header: "Bearer", reason: "malformed authorization header"},
		{name: "no kind", header: "Bearer " + pat, reason: "malformed token"},
		{name: "unknown kind", header: "Bearer api:" + pat, reason: "malformed token"},
		{name: "empty pat", header: "Bearer pat:", reason: "malformed token"},
		{name: "empty jwt", header: "Bearer jwt:", reason: "malformed token"},
		{name: "space inside token", header: "Bearer pat: " + pat, reason: "malformed token"},
		{name: "huge header", header: "Bearer pat:" + strings.Repeat("a", 1<<20), reason: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.svc.Authenticate(tt.header)
			if tt.via == "" {
				wantUnauthenticated(t, err, tt.reason, pat)
				if strings.Contains(err.Error(), jwt) {
					t.Errorf("error %q contains the JWT", err)
				}
				return
			}
			must(t, err)
			if p.User != "alice" || p.Via != tt.via {
				t.Fatalf("principal = %+v, want alice via %s", p, tt.via)
			}
		})
	}
}

// TestAuthenticate_TokenUnderTheWrongPrefixSaysWhichToUse: a personal
// access token sent as jwt:, or a login token sent as pat:, is refused with
// the prefix it needs.
func TestAuthenticate_TokenUnderTheWrongPrefixSaysWhichToUse(t *testing.T) {
	f := newFixture(t)
	_, pat, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := f.svc.Login("alice", alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ header, want string }{
		{"Bearer jwt:" + pat, "send it as Bearer pat:<token>"},
		{"Bearer pat:" + jwt, "send it as Bearer jwt:<token>"},
	} {
		if _, err := f.svc.Authenticate(tt.header); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.20s...: err %v, want it to say %q", tt.header, err, tt.want)
		}
	}
}
