package auth

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Token is a personal access token as stored, without its secret. Scopes nil
// means every scope its owner holds, now or later; otherwise the token is
// narrowed to Scopes ∩ the owner's scopes. SecretHash is the hex SHA-256 of
// the secret; it is never marshalled to JSON.
type Token struct {
	ID         string     `json:"id"`
	Owner      string     `json:"owner"`
	SecretHash string     `json:"-"`
	Scopes     []Scope    `json:"scopes,omitempty"`
	Created    time.Time  `json:"created"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// Sizes of a token "<id>_<secret>": 8 random bytes of id and 32 of secret,
// both hex-encoded.
const (
	tokenIDLen     = 16
	tokenSecretLen = 64
)

// CreateToken creates, on behalf of by, a personal access token for owner
// and returns its id and the token string "<id>_<secret>", which is shown to
// the caller once and never stored. An empty scopes list means all of the
// owner's scopes, now and later, unless by acts through a narrowed token:
// then the new token is narrowed to by's scopes. Otherwise each scope must
// be among the owner's current scopes (or the error wraps ErrScopeNotHeld)
// and among by's (or it wraps ErrWiderToken): a token never begets a wider
// one. ttl 0 means the token never expires. The HTTP door passes the
// request's principal and its user as owner; the offline commands pass
// LocalAdmin.
func (s *Service) CreateToken(by Principal, owner string, scopes []Scope, ttl time.Duration) (id, token string, err error) {
	if err := checkName("user", owner); err != nil {
		return "", "", err
	}
	if ttl < 0 {
		return "", "", ErrInvalidTTL
	}
	for _, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			return "", "", fmt.Errorf("create token: %w %q", ErrUnknownScope, truncate(string(sc), 64))
		}
	}
	var narrowed []Scope
	if len(scopes) > 0 {
		narrowed = NewScopeSet(scopes...)
	}
	id, secret, err := newTokenParts()
	if err != nil {
		return "", "", fmt.Errorf("create token: %w", err)
	}
	now := s.now().UTC()
	t := storedToken{ID: id, Owner: owner, SecretHash: hashSecret(secret), Created: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err = s.update(func(txn *badger.Txn) error {
		var u storedUser
		if err := getJSON(txn, prefixUser+owner, &u); err != nil {
			return fmt.Errorf("user %s: %w", owner, err)
		}
		held, err := scopesOf(txn, u.Roles)
		if err != nil {
			return err
		}
		if missing := held.Missing(narrowed...); len(missing) > 0 {
			return fmt.Errorf("%w: %s", ErrScopeNotHeld, joinScopes(missing))
		}
		if t.Scopes, err = scopesGranted(txn, by, held, narrowed); err != nil {
			return err
		}
		for _, key := range []string{prefixToken + id, prefixRevoked + id} {
			taken, err := exists(txn, key)
			if err != nil {
				return err
			}
			if taken {
				return fmt.Errorf("token id %s: %w", id, ErrExists)
			}
		}
		return setJSON(txn, prefixToken+id, t)
	})
	if err != nil {
		return "", "", fmt.Errorf("create token for %s: %w", owner, err)
	}
	return id, id + "_" + secret, nil
}

// ListTokens returns the tokens of owner, or of every user if owner is "",
// oldest first. Revoked tokens are not listed; expired ones are.
func (s *Service) ListTokens(owner string) ([]Token, error) {
	if owner != "" {
		if err := checkName("user", owner); err != nil {
			return nil, err
		}
	}
	tokens := []Token{}
	err := s.db.View(func(txn *badger.Txn) error {
		return scanJSON(txn, prefixToken, func(t storedToken) error {
			if owner != "" && t.Owner != owner {
				return nil
			}
			// A merge restore can bring back the token of a revocation it
			// keeps: it stays refused, so it is not listed as live.
			revoked, err := exists(txn, prefixRevoked+t.ID)
			if err != nil || revoked {
				return err
			}
			tokens = append(tokens, t.public())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	slices.SortFunc(tokens, func(a, b Token) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return tokens, nil
}

// RevokeToken revokes token id on behalf of by: one of by's own tokens, or
// anyone's if by holds write_acls. A token that does not exist, or that by
// may not see, gives an error wrapping ErrNotFound. A token whose scopes are
// not all within by's gives ErrWiderToken: a narrowed token cannot revoke
// its owner's wider ones. The revocation is recorded under its own key, so
// a merge restore of a backup taken before it does not make the token work
// again; a wipe restore does.
func (s *Service) RevokeToken(by Principal, id string) error {
	if !validTokenID(id) {
		return fmt.Errorf("token %q: %w", truncate(id, tokenIDLen), ErrNotFound)
	}
	now := s.now().UTC()
	err := s.update(func(txn *badger.Txn) error {
		var t storedToken
		if err := getJSON(txn, prefixToken+id, &t); err != nil {
			return err
		}
		if t.Owner != by.User && !by.Scopes.Has(ScopeWriteACLs) {
			return ErrNotFound
		}
		scopes, err := tokenScopes(txn, t)
		if err != nil {
			return err
		}
		if missing := by.Scopes.Missing(scopes...); len(missing) > 0 {
			return &WiderTokenError{Action: "revoke", Missing: missing}
		}
		return revokeInTxn(txn, id, t.Owner, now)
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// revokeInTxn records the revocation of token id and deletes the token.
func revokeInTxn(txn *badger.Txn, id, owner string, now time.Time) error {
	if err := setJSON(txn, prefixRevoked+id, revocation{Owner: owner, Revoked: now}); err != nil {
		return err
	}
	if err := txn.Delete([]byte(prefixToken + id)); err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	return nil
}

// newTokenParts returns a fresh random id and secret, hex-encoded.
func newTokenParts() (id, secret string, err error) {
	buf := make([]byte, tokenIDLen/2+tokenSecretLen/2)
	if _, err := rand.Read(buf); err != nil {
		return "", "", fmt.Errorf("read random token: %w", err)
	}
	return hex.EncodeToString(buf[:tokenIDLen/2]), hex.EncodeToString(buf[tokenIDLen/2:]), nil
}

// hashSecret returns the hex SHA-256 of a token secret, the form stored.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// validTokenID reports whether id has the shape of a token id: 16 lowercase
// hex digits.
func validTokenID(id string) bool {
	return len(id) == tokenIDLen && isLowerHex(id)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
