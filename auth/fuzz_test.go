package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

// FuzzAuthenticate feeds arbitrary Authorization headers to Authenticate. It
// must never panic, and whatever it refuses must be refused with
// ErrUnauthenticated and without echoing the header.
func FuzzAuthenticate(f *testing.F) {
	fx := newFixture(f)
	_, pat, err := fx.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(f, err)
	jwt, err := fx.svc.Login("alice", alicePassword)
	must(f, err)
	for _, seed := range []string{
		"",
		"Bearer pat:" + pat,
		"Bearer jwt:" + jwt,
		"bearer PAT:" + pat[:20],
		"Bearer jwt:eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
		"Bearer jwt:a.b.c",
		"Bearer pat:_",
		"Bearer pat:0123456789abcdef_",
		"Bearer :",
		"Basic Zm9vOmJhcg==",
		"Bearer \x00pat:\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		p, err := fx.svc.Authenticate(header)
		if err == nil {
			if p.User != "alice" {
				t.Fatalf("header %q authenticated as %+v", header, p)
			}
			return
		}
		if !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("header %q: error %v does not wrap ErrUnauthenticated", header, err)
		}
		if tok := strings.TrimSpace(header); len(tok) > 40 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error %q echoes the header", err)
		}
	})
}
