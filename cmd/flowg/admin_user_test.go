package main

import (
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

const rootPassword = "correct horse battery staple"

// withAuthService opens the auth database in dir (the command must have
// closed it), checks that the command left no JWT signing key in it, and
// calls fn with a service over it, signing JWTs with a test key.
func withAuthService(t *testing.T, dir string, fn func(*auth.Service)) {
	t.Helper()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open auth database %s: %v", dir, err)
	}
	defer db.Close()
	if err := db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte("meta/jwt_secret"))
		return err
	}); !errors.Is(err, badger.ErrKeyNotFound) {
		t.Fatalf("the auth database holds meta/jwt_secret, a JWT signing key (lookup: %v)", err)
	}
	fn(auth.NewService(db, auth.Options{JWTKey: []byte("cmd-flowg-test-jwt-key-32-bytes!")}))
}

// newAuthDir returns an auth database holding user root (role admin) with
// rootPassword, made with the command itself.
func newAuthDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "auth")
	r := runFlowg(t, rootPassword+"\n", "admin", "user", "create", "--auth-dir", dir, "--name", "root", "--role", "admin", "--password-stdin")
	if r.code != exitOK {
		t.Fatalf("user create: want exit 0, got %s", r)
	}
	return dir
}

var tokenPattern = regexp.MustCompile(`^[0-9a-f]{16}_[0-9a-f]{64}\n$`)

func TestAdminUserCreate_UserLogsInWithThePassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "auth")
	r := runFlowg(t, rootPassword+"\n", "admin", "user", "create", "--auth-dir", dir, "--name", "root", "--role", "admin", "--password-stdin")
	if r.code != exitOK {
		t.Fatalf("want exit 0, got %s", r)
	}
	if want := "created user root (roles: admin)\n"; r.stdout != want {
		t.Errorf("stdout: want %q, got %q", want, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, rootPassword) {
		t.Errorf("the password was printed:\n%s", r)
	}
	withAuthService(t, dir, func(svc *auth.Service) {
		u, err := svc.GetUser("root")
		if err != nil {
			t.Fatalf("get user: %v", err)
		}
		if !slices.Equal(u.Roles, []string{"admin"}) {
			t.Errorf("roles: want [admin], got %v", u.Roles)
		}
		if _, err := svc.Login("root", rootPassword); err != nil {
			t.Errorf("login with the password given on stdin: %v", err)
		}
		role, err := svc.GetRole("admin")
		if err != nil {
			t.Fatalf("role admin was not created: %v", err)
		}
		if !slices.Equal(role.Scopes, auth.NewScopeSet(auth.AllScopes...)) {
			t.Errorf("role admin: want every scope, got %v", role.Scopes)
		}
	})
}

func TestAdminUserPasswd_ReplacesThePassword(t *testing.T) {
	dir := newAuthDir(t)
	const newPassword = "a brand new password"
	r := runFlowg(t, newPassword+"\r\n", "admin", "user", "passwd", "--auth-dir", dir, "--name", "root", "--password-stdin")
	if r.code != exitOK {
		t.Fatalf("want exit 0, got %s", r)
	}
	if strings.Contains(r.stdout+r.stderr, newPassword) {
		t.Errorf("the password was printed:\n%s", r)
	}
	withAuthService(t, dir, func(svc *auth.Service) {
		if _, err := svc.Login("root", newPassword); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
		if _, err := svc.Login("root", rootPassword); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("login with the old password: want ErrBadCredentials, got %v", err)
		}
	})
}

func TestAdminUser_Misuse(t *testing.T) {
	dir := newAuthDir(t)
	// A role that lacks write_acls, and a user holding it.
	withAuthService(t, dir, func(svc *auth.Service) {
		if err := svc.PutRole(auth.Role{Name: "reader", Scopes: auth.ScopeSet{auth.ScopeReadStreams}}); err != nil {
			t.Fatal(err)
		}
		if err := svc.PutUser("alice", "alice-pass", []string{"reader"}); err != nil {
			t.Fatal(err)
		}
	})
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"create without name", "pw\n", []string{"admin", "user", "create", "--password-stdin"}, exitUsage,
			[]string{"flowg: name the user with --name\n"}},
		{"create with empty password", "\n", []string{"admin", "user", "create", "--name", "bob", "--password-stdin"}, exitUsage,
			[]string{"flowg: empty password refused"}},
		{"create without a terminal or --password-stdin", "", []string{"admin", "user", "create", "--name", "bob"}, exitUsage,
			[]string{"flowg: stdin is not a terminal", "--password-stdin"}},
		{"create with a bad name", "pw\n", []string{"admin", "user", "create", "--name", "../etc", "--password-stdin"}, exitUsage,
			[]string{"name must be 1-64 characters"}},
		{"create an existing user", "pw\n", []string{"admin", "user", "create", "--name", "root", "--password-stdin"}, exitFailed,
			[]string{"flowg: create user failed: user root already exists\n", "safe:  nothing was written", "next:  set a new password with `flowg admin user passwd --name root`"}},
		{"create with an unknown role", "pw\n", []string{"admin", "user", "create", "--name", "bob", "--role", "nope", "--password-stdin"}, exitFailed,
			[]string{"role nope does not exist", "PUT /api/v1/roles/nope"}},
		{"passwd of a missing user", "pw\n", []string{"admin", "user", "passwd", "--name", "bob", "--password-stdin"}, exitFailed,
			[]string{"flowg: change password failed: there is no user bob\n", "flowg admin user list"}},
		{"password of two lines", "pw\nmore\n", []string{"admin", "user", "passwd", "--name", "root", "--password-stdin"}, exitUsage,
			[]string{"the password must be a single line"}},
		{"token without user", "", []string{"admin", "token", "create"}, exitUsage,
			[]string{"flowg: name the token's user with --user\n"}},
		{"token with an unknown scope", "", []string{"admin", "token", "create", "--user", "root", "--scope", "read_everything"}, exitUsage,
			[]string{`unknown scope "read_everything"`, "the scopes are: read_acls write_acls"}},
		{"token with a negative lifetime", "", []string{"admin", "token", "create", "--user", "root", "--expires-in", "-1h"}, exitUsage,
			[]string{`--expires-in: "-1h" is negative: use e.g. 720h, 90m or 30d`}},
		{"token for a missing user", "", []string{"admin", "token", "create", "--user", "bob"}, exitFailed,
			[]string{"flowg: create token failed: there is no user bob\n"}},
		{"token with a scope the user lacks", "", []string{"admin", "token", "create", "--user", "alice", "--scope", "write_acls"}, exitFailed,
			[]string{"write_acls", "safe:  nothing was written; no token was created", "ask only for scopes alice holds (read_streams)"}},
		{"stray argument", "", []string{"admin", "token", "create", "--user", "root", "read_acls"}, exitUsage,
			[]string{`unexpected argument "read_acls"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// "admin user create" --auth-dir DIR, then the row's flags.
			args := append(append(slices.Clone(tt.args[:3]), "--auth-dir", dir), tt.args[3:]...)
			r := runFlowg(t, tt.stdin, args...)
			if r.code != tt.wantCode {
				t.Errorf("exit: want %d, got %s", tt.wantCode, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: want empty, got %q", r.stdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in\n%s", want, r.stderr)
				}
			}
		})
	}
	// None of the misuses changed the database.
	withAuthService(t, dir, func(svc *auth.Service) {
		users, err := svc.ListUsers()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
		}
		if !slices.Equal(names, []string{"alice", "root"}) {
			t.Errorf("users: want [alice root], got %v", names)
		}
		if tokens, _ := svc.ListTokens(""); len(tokens) != 0 {
			t.Errorf("tokens: want none, got %v", tokens)
		}
		if _, err := svc.Login("root", rootPassword); err != nil {
			t.Errorf("root's password changed: %v", err)
		}
	})
}

func TestAdminUser_RefusesADatabaseInUse(t *testing.T) {
	dir := newAuthDir(t)
	db, err := kv.Open(dir, kv.OpenOptions{}) // as the running server holds it
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, args := range [][]string{
		{"admin", "user", "create", "--auth-dir", dir, "--name", "bob", "--password-stdin"},
		{"admin", "user", "passwd", "--auth-dir", dir, "--name", "root", "--password-stdin"},
		{"admin", "user", "list", "--auth-dir", dir},
		{"admin", "token", "create", "--auth-dir", dir, "--user", "root"},
	} {
		t.Run(strings.Join(args[:3], " "), func(t *testing.T) {
			r := runFlowg(t, "pw\n", args...)
			if r.code != exitFailed {
				t.Errorf("exit: want %d, got %s", exitFailed, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: want empty, got %q", r.stdout)
			}
			for _, want := range []string{"the auth database at " + dir + " is in use by another process (is the flowg server running?)", "safe:  nothing was written", "next:  stop the server first"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr: want %q in\n%s", want, r.stderr)
				}
			}
		})
	}
}

func TestAdminUserList_ShowsUsersAndTokens(t *testing.T) {
	dir := newAuthDir(t)
	r := runFlowg(t, "", "admin", "token", "create", "--auth-dir", dir, "--user", "root", "--scope", "read_acls")
	if r.code != exitOK {
		t.Fatalf("token create: %s", r)
	}
	id, _, _ := strings.Cut(r.stdout, "_")

	r = runFlowg(t, "", "admin", "user", "list", "--auth-dir", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, "root  admin") {
		t.Errorf("user list: want root with role admin, got %s", r)
	}
	r = runFlowg(t, "", "admin", "token", "list", "--auth-dir", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "read_acls") {
		t.Errorf("token list: want token %s with read_acls, got %s", id, r)
	}
	r = runFlowg(t, "", "admin", "token", "revoke", "--auth-dir", dir, "--id", id)
	if r.code != exitOK {
		t.Fatalf("token revoke: %s", r)
	}
	r = runFlowg(t, "", "admin", "token", "list", "--auth-dir", dir, "--json")
	if r.code != exitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("token list after revoke: want [], got %s", r)
	}
}
