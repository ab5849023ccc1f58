package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Key layout of the auth database. Every value is JSON. The JWT signing key
// is not here but in a file of its own (see LoadOrCreateJWTKey); the key
// older versions kept at meta/jwt_secret is deleted (PurgeLegacySecrets).
//
//	role/<name>      Role
//	user/<name>      storedUser (argon2id or bcrypt hash, never a password)
//	token/<id>       storedToken (SHA-256 of the secret, never the secret)
//	revoked/<id>     revocation   (kept after the token is gone; see RevokeToken)
const (
	prefixRole    = "role/"
	prefixUser    = "user/"
	prefixToken   = "token/"
	prefixRevoked = "revoked/"
)

// storedUser is a User as kept in the database, with its password hash.
type storedUser struct {
	Name         string    `json:"name"`
	PasswordHash string    `json:"password_hash"`
	Roles        []string  `json:"roles"`
	Created      time.Time `json:"created"`
	// SessionsFrom is when the password was last set: JWTs issued before it
	// are refused, so a password change or a delete-and-recreate ends them.
	SessionsFrom time.Time `json:"sessions_from"`
}

func (u storedUser) public() User {
	return User{Name: u.Name, PasswordHash: u.PasswordHash, Roles: u.Roles, Created: u.Created}
}

// storedToken is a Token as kept in the database.
type storedToken struct {
	ID         string     `json:"id"`
	Owner      string     `json:"owner"`
	SecretHash string     `json:"secret_hash"`
	Scopes     []Scope    `json:"scopes,omitempty"`
	Created    time.Time  `json:"created"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

func (t storedToken) public() Token {
	return Token(t)
}

// revocation records that a token was revoked, so Authenticate can say so
// and a merge restore of an older backup does not bring the token back.
type revocation struct {
	Owner   string    `json:"owner"`
	Revoked time.Time `json:"revoked"`
}

// DescribeKey says what a raw key of the auth database holds: ("user", name)
// for a user, ("token", id) for a personal access token, ok false for
// anything else (roles, revocations, metadata). Restore uses it to warn that
// it brings back deleted users or revoked tokens.
func DescribeKey(key []byte) (kind, name string, ok bool) {
	k := string(key)
	if name, found := strings.CutPrefix(k, prefixUser); found && name != "" {
		return "user", name, true
	}
	if id, found := strings.CutPrefix(k, prefixToken); found && id != "" {
		return "token", id, true
	}
	return "", "", false
}

// getJSON decodes the value at key into v; a missing key gives ErrNotFound.
func getJSON(txn *badger.Txn, key string, v any) error {
	item, err := txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return item.Value(func(val []byte) error {
		if err := json.Unmarshal(val, v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return nil
	})
}

// setJSON stores v as JSON at key.
func setJSON(txn *badger.Txn, key string, v any) error {
	val, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := txn.Set([]byte(key), val); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// exists reports whether key is present.
func exists(txn *badger.Txn, key string) (bool, error) {
	_, err := txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	return true, nil
}

// scanJSON decodes every value under prefix into a T and calls fn with it,
// in key order, stopping at the first error.
func scanJSON[T any](txn *badger.Txn, prefix string, fn func(T) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: []byte(prefix)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		var v T
		err := item.Value(func(val []byte) error { return json.Unmarshal(val, &v) })
		if err != nil {
			return fmt.Errorf("decode %s: %w", item.Key(), err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// anyKey reports whether some key starts with prefix.
func anyKey(txn *badger.Txn, prefix string) bool {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	it.Rewind()
	return it.Valid()
}
