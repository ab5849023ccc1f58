package auth_test

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

func TestBootstrap_CreatesRootOnceOnly(t *testing.T) {
	tests := []struct {
		name     string
		password string
	}{
		{name: "given password", password: "from-the-flag"},
		{name: "random password", password: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := auth.NewService(openMemDB(t), auth.Options{JWTKey: testJWTKey})
			created, pw, err := svc.Bootstrap(tt.password)
			must(t, err)
			if !created {
				t.Fatal("first Bootstrap: created = false, want true")
			}
			if tt.password != "" && pw != tt.password {
				t.Errorf("password = %q, want %q", pw, tt.password)
			}
			if tt.password == "" && len(pw) != 20 {
				t.Errorf("random password %q has %d characters, want 20", pw, len(pw))
			}
			if _, err := svc.Login("root", pw); err != nil {
				t.Fatalf("login as root with the bootstrap password: %v", err)
			}
			admin, err := svc.GetRole("admin")
			must(t, err)
			if !slices.Equal(admin.Scopes, auth.NewScopeSet(auth.AllScopes...)) {
				t.Errorf("admin scopes = %v, want all", admin.Scopes)
			}
			root, err := svc.GetUser("root")
			must(t, err)
			if !slices.Equal(root.Roles, []string{"admin"}) {
				t.Errorf("root roles = %v, want [admin]", root.Roles)
			}

			created, pw2, err := svc.Bootstrap("another")
			must(t, err)
			if created || pw2 != "" {
				t.Fatalf("second Bootstrap = %v, %q; want false, \"\"", created, pw2)
			}
			if _, err := svc.Login("root", pw); err != nil {
				t.Fatalf("second Bootstrap changed root's password: %v", err)
			}
		})
	}
}

func TestBootstrap_DoesNothingWhenAUserExists(t *testing.T) {
	svc := auth.NewService(openMemDB(t), auth.Options{JWTKey: testJWTKey})
	must(t, svc.PutRole(auth.Role{Name: "ops"}))
	must(t, svc.PutUser("ops", "pw", []string{"ops"}))
	created, _, err := svc.Bootstrap("")
	must(t, err)
	if created {
		t.Fatal("Bootstrap created root although user ops exists")
	}
	_, err = svc.GetUser("root")
	wantErr(t, err, auth.ErrNotFound)
}

func TestNames_AreValidated(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{name: "plain", in: "bob", valid: true},
		{name: "all classes", in: "Bob_1.ops-x", valid: true},
		{name: "64 chars", in: strings.Repeat("a", 64), valid: true},
		{name: "empty", in: ""},
		{name: "65 chars", in: strings.Repeat("a", 65)},
		{name: "slash", in: "a/b"},
		{name: "dot dot", in: ".."},
		{name: "space", in: "a b"},
		{name: "unicode", in: "zoë"},
		{name: "nul", in: "a\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := map[string]error{
				"PutRole": f.svc.PutRole(auth.Role{Name: tt.in}),
				"PutUser": f.svc.PutUser(tt.in, "pw", nil),
			}
			for op, err := range errs {
				if tt.valid && err != nil {
					t.Errorf("%s(%q) = %v, want nil", op, tt.in, err)
				}
				if !tt.valid {
					wantErr(t, err, auth.ErrInvalidName)
				}
			}
		})
	}
}

func TestPutUser(t *testing.T) {
	f := newFixture(t)
	t.Run("new user needs a password", func(t *testing.T) {
		wantErr(t, f.svc.PutUser("bob", "", nil), auth.ErrInvalidPassword)
	})
	t.Run("unknown role", func(t *testing.T) {
		wantErr(t, f.svc.PutUser("bob", "pw", []string{"ghost"}), auth.ErrNotFound)
	})
	t.Run("replace without password keeps the hash", func(t *testing.T) {
		must(t, f.svc.PutUser("alice", "", []string{"admin", "reader", "admin"}))
		if _, err := f.svc.Login("alice", alicePassword); err != nil {
			t.Fatalf("login after role change: %v", err)
		}
		u, err := f.svc.GetUser("alice")
		must(t, err)
		if !slices.Equal(u.Roles, []string{"admin", "reader"}) {
			t.Errorf("roles = %v, want [admin reader]", u.Roles)
		}
	})
	t.Run("replace with password changes it", func(t *testing.T) {
		must(t, f.svc.PutUser("alice", "new-pass", []string{"reader"}))
		_, err := f.svc.Login("alice", alicePassword)
		wantErr(t, err, auth.ErrBadCredentials)
		if _, err := f.svc.Login("alice", "new-pass"); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}
	})
	t.Run("SetPassword", func(t *testing.T) {
		must(t, f.svc.SetPassword("alice", "third"))
		if _, err := f.svc.Login("alice", "third"); err != nil {
			t.Fatalf("login after SetPassword: %v", err)
		}
		wantErr(t, f.svc.SetPassword("ghost", "x"), auth.ErrNotFound)
		wantErr(t, f.svc.SetPassword("alice", ""), auth.ErrInvalidPassword)
	})
}

func TestUser_JSONNeverHoldsTheHash(t *testing.T) {
	f := newFixture(t)
	u, err := f.svc.GetUser("alice")
	must(t, err)
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("PasswordHash = %q, want an argon2id hash", u.PasswordHash)
	}
	users, err := f.svc.ListUsers()
	must(t, err)
	out, err := json.Marshal(users)
	must(t, err)
	if strings.Contains(string(out), "argon2") || strings.Contains(strings.ToLower(string(out)), "hash") {
		t.Fatalf("users JSON leaks the hash: %s", out)
	}
	if len(users) != 2 || users[0].Name != "alice" || users[1].Name != "root" {
		t.Errorf("ListUsers = %+v, want alice and root", users)
	}
}

func TestRoles(t *testing.T) {
	f := newFixture(t)
	t.Run("unknown scope refused", func(t *testing.T) {
		err := f.svc.PutRole(auth.Role{Name: "bad", Scopes: []auth.Scope{"read_everything"}})
		wantErr(t, err, auth.ErrUnknownScope)
	})
	t.Run("scopes stored sorted and unique", func(t *testing.T) {
		must(t, f.svc.PutRole(auth.Role{Name: "w", Scopes: []auth.Scope{"write_streams", "send_logs", "send_logs"}}))
		r, err := f.svc.GetRole("w")
		must(t, err)
		if want := []auth.Scope{"send_logs", "write_streams"}; !slices.Equal(r.Scopes, want) {
			t.Errorf("scopes = %v, want %v", r.Scopes, want)
		}
	})
	t.Run("list", func(t *testing.T) {
		roles, err := f.svc.ListRoles()
		must(t, err)
		var names []string
		for _, r := range roles {
			names = append(names, r.Name)
		}
		if want := []string{"admin", "reader", "w"}; !slices.Equal(names, want) {
			t.Errorf("roles = %v, want %v", names, want)
		}
	})
	t.Run("role in use cannot be deleted", func(t *testing.T) {
		err := f.svc.DeleteRole("reader")
		wantErr(t, err, auth.ErrInUse)
		if !strings.Contains(err.Error(), "alice") {
			t.Errorf("error %q does not name the holder alice", err)
		}
	})
	t.Run("delete unused role", func(t *testing.T) {
		must(t, f.svc.DeleteRole("w"))
		_, err := f.svc.GetRole("w")
		wantErr(t, err, auth.ErrNotFound)
		wantErr(t, f.svc.DeleteRole("w"), auth.ErrNotFound)
	})
}

func TestDeleteUser_RevokesItsTokensOnly(t *testing.T) {
	f := newFixture(t)
	_, aliceTok, err := f.svc.CreateToken(auth.LocalAdmin, "alice", nil, 0)
	must(t, err)
	_, rootTok, err := f.svc.CreateToken(auth.LocalAdmin, "root", nil, 0)
	must(t, err)
	jwt, err := f.svc.Login("alice", alicePassword)
	must(t, err)

	must(t, f.svc.DeleteUser("alice"))
	wantErr(t, f.svc.DeleteUser("alice"), auth.ErrNotFound)
	if toks, err := f.svc.ListTokens("alice"); err != nil || len(toks) != 0 {
		t.Errorf("alice's tokens after delete = %v, %v; want none", toks, err)
	}
	_, err = f.svc.Authenticate("Bearer pat:" + aliceTok)
	wantUnauthenticated(t, err, "revoked", aliceTok)
	_, err = f.svc.Authenticate("Bearer jwt:" + jwt)
	wantUnauthenticated(t, err, "user deleted", jwt)
	if _, err := f.svc.Authenticate("Bearer pat:" + rootTok); err != nil {
		t.Errorf("root's token stopped working: %v", err)
	}
}

func TestBootstrap_ConcurrentCallsCreateRootOnce(t *testing.T) {
	svc := auth.NewService(openMemDB(t), auth.Options{JWTKey: testJWTKey})
	const n = 4
	var wg sync.WaitGroup
	results := make([]bool, n)
	passwords := make([]string, n)
	for i := range n {
		wg.Go(func() {
			created, pw, err := svc.Bootstrap("")
			if err != nil {
				t.Errorf("Bootstrap: %v", err)
			}
			results[i], passwords[i] = created, pw
		})
	}
	wg.Wait()
	winners := 0
	for i, created := range results {
		if created {
			winners++
			if _, err := svc.Login("root", passwords[i]); err != nil {
				t.Errorf("the password Bootstrap returned does not log in: %v", err)
			}
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent Bootstraps created root, want 1", winners, n)
	}
}
