package auth

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// How a Principal authenticated.
const (
	ViaPAT = "pat"
	ViaJWT = "jwt"
)

// maxHeaderLen bounds the Authorization header Authenticate will look at.
const maxHeaderLen = 8 << 10

// Principal is who a request acts as, and what it may do.
type Principal struct {
	// User is the name of the authenticated user.
	User string `json:"user"`
	// TokenID is the id of the personal access token used; empty for a JWT.
	TokenID string `json:"token_id,omitempty"`
	// Via is ViaPAT or ViaJWT ("local" for LocalAdmin).
	Via string `json:"via"`
	// Scopes are the effective scopes: the union of the user's roles'
	// scopes, narrowed by the token's own scopes if it has any.
	Scopes ScopeSet `json:"scopes"`
	// ExpiresAt is when the credential used stops working: the JWT's
	// expiry, or the personal access token's (nil: it never expires).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Authenticate checks an Authorization header of the form
// "Bearer pat:<token>" or "Bearer jwt:<token>" (scheme and kind in any
// letter case, surrounding spaces ignored) and returns the principal it
// stands for. Scopes are computed from the roles as they are now. Every
// rejection wraps ErrUnauthenticated and gives a short reason (missing
// credentials, malformed, unknown token, expired, revoked, bad signature,
// user deleted) but never the token. Other errors come from the database.
func (s *Service) Authenticate(authorizationHeader string) (Principal, error) {
	h := strings.TrimSpace(authorizationHeader)
	if h == "" {
		return Principal{}, unauthenticated("missing credentials: send Authorization: Bearer pat:<token> or Bearer jwt:<token>")
	}
	if len(h) > maxHeaderLen {
		return Principal{}, unauthenticated("malformed authorization header: too long")
	}
	i := strings.IndexAny(h, " \t")
	if i < 0 || !strings.EqualFold(h[:i], "bearer") {
		return Principal{}, unauthenticated("malformed authorization header: want Bearer pat:<token> or Bearer jwt:<token>")
	}
	kind, raw, found := strings.Cut(strings.TrimSpace(h[i:]), ":")
	if !found || raw == "" {
		return Principal{}, unauthenticated("malformed token: want pat:<token> or jwt:<token>")
	}
	switch strings.ToLower(kind) {
	case ViaPAT:
		return s.authenticatePAT(raw)
	case ViaJWT:
		return s.authenticateJWT(raw)
	}
	return Principal{}, unauthenticated("malformed token: want pat:<token> or jwt:<token>")
}

// authenticatePAT checks a personal access token "<id>_<secret>".
func (s *Service) authenticatePAT(raw string) (Principal, error) {
	if !looksLikePAT(raw) {
		if looksLikeJWT(raw) {
			return Principal{}, unauthenticated("malformed token: this is a login token (JWT); send it as Bearer jwt:<token>")
		}
		return Principal{}, unauthenticated("malformed token")
	}
	id, secret, _ := strings.Cut(raw, "_")
	now := s.now()
	var p Principal
	err := s.db.View(func(txn *badger.Txn) error {
		if revoked, err := exists(txn, prefixRevoked+id); err != nil {
			return err
		} else if revoked {
			return tokenGone("token revoked")
		}
		var t storedToken
		if err := getJSON(txn, prefixToken+id, &t); errors.Is(err, ErrNotFound) {
			return unauthenticated("unknown token")
		} else if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(t.SecretHash)) != 1 {
			return unauthenticated("unknown token") // same answer as a wrong id
		}
		if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
			return tokenGone("token expired")
		}
		var u storedUser
		if err := getJSON(txn, prefixUser+t.Owner, &u); errors.Is(err, ErrNotFound) {
			return tokenGone("user deleted")
		} else if err != nil {
			return err
		}
		if t.Created.Before(u.Created) {
			return tokenGone("user deleted") // and re-created since
		}
		scopes, err := scopesOf(txn, u.Roles)
		if err != nil {
			return err
		}
		if t.Scopes != nil {
			scopes = scopes.Intersect(NewScopeSet(t.Scopes...))
		}
		p = Principal{User: u.Name, TokenID: t.ID, Via: ViaPAT, Scopes: scopes, ExpiresAt: t.ExpiresAt}
		return nil
	})
	return p, err
}

// Require returns nil if the principal holds every scope given, and
// otherwise a *MissingScopeError, which wraps ErrForbidden and names the
// scopes lacking.
func (p Principal) Require(scopes ...Scope) error {
	if missing := p.Scopes.Missing(scopes...); len(missing) > 0 {
		return &MissingScopeError{Missing: missing}
	}
	return nil
}

// MissingScopeError says which scopes a request lacked. It wraps
// ErrForbidden.
type MissingScopeError struct {
	Missing []Scope
}

// Error reads "missing scope write_streams" or "missing scopes a, b".
func (e *MissingScopeError) Error() string {
	if len(e.Missing) == 1 {
		return "missing scope " + string(e.Missing[0])
	}
	return "missing scopes " + joinScopes(e.Missing)
}

// Unwrap returns ErrForbidden.
func (e *MissingScopeError) Unwrap() error { return ErrForbidden }

// joinScopes lists scopes separated by ", ".
func joinScopes(scopes []Scope) string {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// looksLikePAT reports whether raw has the shape of a personal access
// token, "<id>_<secret>".
func looksLikePAT(raw string) bool {
	id, secret, found := strings.Cut(raw, "_")
	return found && validTokenID(id) && len(secret) == tokenSecretLen && isLowerHex(secret)
}

// looksLikeJWT reports whether raw has the shape of a JSON Web Token: three
// base64url parts, the first a JSON object.
func looksLikeJWT(raw string) bool {
	return strings.Count(raw, ".") == 2 && strings.HasPrefix(raw, "eyJ")
}
