package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PortableUser is a user as a portable export carries it (see package
// export): its name, roles and creation time, and, only when the operator
// asked for secrets, its password hash and the start of its JWT sessions.
// Tokens are never part of it.
type PortableUser struct {
	Name         string
	Roles        []string
	Created      time.Time
	PasswordHash string    // "" when the export carries no secrets
	SessionsFrom time.Time // zero when PasswordHash is ""
}

// DecodeEntry reads a raw key and value of the auth database as a Role or a
// PortableUser (with its hash and sessions start). ok is false for keys that
// are neither (tokens, revocations, anything flowg does not know): an export
// leaves them out.
func DecodeEntry(key, val []byte) (item any, ok bool, err error) {
	k := string(key)
	if name, found := strings.CutPrefix(k, prefixRole); found {
		var r Role
		if err := json.Unmarshal(val, &r); err != nil {
			return nil, false, fmt.Errorf("decode role %s: %w", name, err)
		}
		return r, true, nil
	}
	if name, found := strings.CutPrefix(k, prefixUser); found {
		var u storedUser
		if err := json.Unmarshal(val, &u); err != nil {
			return nil, false, fmt.Errorf("decode user %s: %w", name, err)
		}
		return PortableUser{Name: u.Name, Roles: u.Roles, Created: u.Created, PasswordHash: u.PasswordHash, SessionsFrom: u.SessionsFrom}, true, nil
	}
	return nil, false, nil
}

// CheckRole returns an error unless r may be stored: a valid name and known
// scopes.
func CheckRole(r Role) error {
	if err := checkName("role", r.Name); err != nil {
		return err
	}
	for _, sc := range r.Scopes {
		if !slices.Contains(AllScopes, sc) {
			return fmt.Errorf("role %s: %w %q", r.Name, ErrUnknownScope, truncate(string(sc), 64))
		}
	}
	return nil
}

// CheckPortableUser returns an error unless u may be stored: valid names,
// and a hash flowg can verify (argon2id or bcrypt) when it carries one.
func CheckPortableUser(u PortableUser) error {
	if err := checkName("user", u.Name); err != nil {
		return err
	}
	for _, r := range u.Roles {
		if err := checkName("role", r); err != nil {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
	}
	if u.PasswordHash != "" && !knownHash(u.PasswordHash) {
		return fmt.Errorf("user %s: password hash is neither argon2id ($argon2id$) nor bcrypt ($2a$, $2b$, $2y$)", u.Name)
	}
	if err := checkArgonBounds(u.PasswordHash); err != nil {
		return fmt.Errorf("user %s: %w", u.Name, err)
	}
	return nil
}

// checkArgonBounds refuses an argon2id hash whose parameters a login would
// refuse (more than 256 MiB, 8 passes or 16 lanes): its user could never
// log in, and storing it would only plant a costly hash.
func checkArgonBounds(encoded string) error {
	if !strings.HasPrefix(encoded, "$argon2id$") {
		return nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return errors.New("password hash: an argon2id hash has 6 $-separated fields")
	}
	if _, _, _, ok := parseArgonParams(parts[3]); !ok {
		return fmt.Errorf("password hash: argon2id parameters %q out of bounds (at most m=%d KiB, t=%d, p=%d)", parts[3], maxArgonMemory, maxArgonTime, maxArgonThreads)
	}
	return nil
}

// knownHash reports whether encoded has the form of a hash verifyPassword reads.
func knownHash(encoded string) bool {
	for _, p := range []string{"$argon2id$", "$2a$", "$2b$", "$2y$"} {
		if strings.HasPrefix(encoded, p) {
			return true
		}
	}
	return false
}

// RoleEntry returns the raw key and value of role r after the checks of
// CheckRole, scopes sorted and without duplicates: what PutRole stores.
func RoleEntry(r Role) (key, val []byte, err error) {
	if err := CheckRole(r); err != nil {
		return nil, nil, err
	}
	r.Scopes = NewScopeSet(r.Scopes...)
	if r.Scopes == nil {
		r.Scopes = ScopeSet{}
	}
	val, err = json.Marshal(r)
	return []byte(prefixRole + r.Name), val, err
}

// UserKey returns the raw key of user name.
func UserKey(name string) []byte { return []byte(prefixUser + name) }

// UserEntry returns the raw value of user u. When u carries no password
// hash, the hash and sessions start of existing (the value already stored
// for that user, nil if none) are kept: an export without secrets then
// updates roles without locking the user out. A new user without a hash
// cannot log in until its password is set (flowg admin user passwd).
func UserEntry(u PortableUser, existing []byte) (val []byte, err error) {
	if err := CheckPortableUser(u); err != nil {
		return nil, err
	}
	roles := slices.Compact(slices.Sorted(slices.Values(u.Roles)))
	if roles == nil {
		roles = []string{}
	}
	s := storedUser{Name: u.Name, Roles: roles, Created: u.Created, PasswordHash: u.PasswordHash, SessionsFrom: u.SessionsFrom}
	if s.PasswordHash == "" && existing != nil {
		var old storedUser
		if err := json.Unmarshal(existing, &old); err != nil {
			return nil, fmt.Errorf("decode user %s: %w", u.Name, err)
		}
		s.PasswordHash, s.SessionsFrom = old.PasswordHash, old.SessionsFrom
	}
	return json.Marshal(s)
}
