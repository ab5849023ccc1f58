package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword_IsSaltedArgon2idInPHCForm(t *testing.T) {
	h1, err := hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want the $argon2id$v=19$m=19456,t=2,p=1$ prefix", h1)
	}
	if h1 == h2 {
		t.Errorf("two hashes of one password are equal (%q): salt is not random", h1)
	}
	if strings.Contains(h1, "correct horse") {
		t.Errorf("hash %q contains the password", h1)
	}
}

func TestHashPassword_RejectsEmptyAndOversized(t *testing.T) {
	for name, pw := range map[string]string{"empty": "", "oversized": strings.Repeat("x", MaxPasswordLen+1)} {
		t.Run(name, func(t *testing.T) {
			if _, err := hashPassword(pw); !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("error = %v, want ErrInvalidPassword", err)
			}
		})
	}
}

func TestVerifyPassword(t *testing.T) {
	argon, err := hashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Go writes $2a$; $2b$ differs only in the prefix for passwords this short.
	bcryptB := "$2b$" + strings.TrimPrefix(string(bc), "$2a$")
	parts := strings.Split(argon, "$") // "", argon2id, v, params, salt, hash
	withParams := func(p string) string {
		return strings.Join([]string{"", parts[1], parts[2], p, parts[4], parts[5]}, "$")
	}
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{name: "argon2id right", hash: argon, password: "s3cret", want: true},
		{name: "argon2id wrong", hash: argon, password: "s3cret!"},
		{name: "argon2id empty password", hash: argon, password: ""},
		{name: "bcrypt 2a right", hash: string(bc), password: "s3cret", want: true},
		{name: "bcrypt 2b right", hash: bcryptB, password: "s3cret", want: true},
		{name: "bcrypt wrong", hash: string(bc), password: "secret"},
		{name: "empty hash", hash: "", password: ""},
		{name: "plain text is not a hash", hash: "s3cret", password: "s3cret"},
		{name: "argon2i", hash: strings.Replace(argon, "argon2id", "argon2i", 1), password: "s3cret"},
		{name: "wrong version", hash: strings.Replace(argon, "v=19", "v=16", 1), password: "s3cret"},
		{name: "changed params", hash: withParams("m=19456,t=3,p=1"), password: "s3cret"},
		{name: "huge memory refused", hash: withParams("m=4294967295,t=2,p=1"), password: "s3cret"},
		{name: "huge time refused", hash: withParams("m=19456,t=100000,p=1"), password: "s3cret"},
		{name: "zero lanes refused", hash: withParams("m=19456,t=2,p=0"), password: "s3cret"},
		{name: "trailing junk in params", hash: withParams("m=19456,t=2,p=1x"), password: "s3cret"},
		{name: "truncated", hash: argon[:len(argon)-10], password: "s3cret"},
		{name: "missing field", hash: strings.Join(parts[:5], "$"), password: "s3cret"},
		{name: "bad base64 salt", hash: strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"), password: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verifyPassword(tt.hash, tt.password); got != tt.want {
				t.Fatalf("verifyPassword(%q, %q) = %v, want %v", tt.hash, tt.password, got, tt.want)
			}
		})
	}
}

func TestRandomPassword_UsesAlphabetAndLength(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		pw, err := randomPassword(20)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 {
			t.Fatalf("len(%q) = %d, want 20", pw, len(pw))
		}
		if strings.Trim(pw, passwordAlphabet) != "" {
			t.Fatalf("%q has characters outside the alphabet", pw)
		}
		if seen[pw] {
			t.Fatalf("%q drawn twice", pw)
		}
		seen[pw] = true
	}
}

func TestDescribeKey(t *testing.T) {
	tests := []struct {
		key        string
		kind, name string
		ok         bool
	}{
		{key: "user/root", kind: "user", name: "root", ok: true},
		{key: "token/0123456789abcdef", kind: "token", name: "0123456789abcdef", ok: true},
		{key: "role/admin"},
		{key: "revoked/0123456789abcdef"},
		{key: "meta/jwt_secret"},
		{key: "user/"},
		{key: ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			kind, name, ok := DescribeKey([]byte(tt.key))
			if kind != tt.kind || name != tt.name || ok != tt.ok {
				t.Fatalf("DescribeKey(%q) = %q, %q, %v; want %q, %q, %v", tt.key, kind, name, ok, tt.kind, tt.name, tt.ok)
			}
		})
	}
}

// A planted hash may not ask a login for more than 256 MiB or 8 passes.
func TestParseArgonParams_Bounds(t *testing.T) {
	for _, tt := range []struct {
		params string
		ok     bool
	}{
		{"m=19456,t=2,p=1", true},
		{"m=262144,t=8,p=16", true},
		{"m=262145,t=2,p=1", false},
		{"m=1048576,t=1,p=1", false},
		{"m=19456,t=9,p=1", false},
		{"m=19456,t=2,p=17", false},
	} {
		if _, _, _, ok := parseArgonParams(tt.params); ok != tt.ok {
			t.Errorf("parseArgonParams(%q) ok = %v, want %v", tt.params, ok, tt.ok)
		}
	}
}

// An import may not store an argon2id hash a login would refuse.
func TestCheckPortableUser_ArgonBounds(t *testing.T) {
	h, err := hashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPortableUser(PortableUser{Name: "alice", PasswordHash: h}); err != nil {
		t.Fatalf("flowg's own hash refused: %v", err)
	}
	planted := strings.Replace(h, "m=19456", "m=1048576", 1)
	err = CheckPortableUser(PortableUser{Name: "alice", PasswordHash: planted})
	if err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Fatalf("a 1 GiB hash: %v, want it refused as out of bounds", err)
	}
}
