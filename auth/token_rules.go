package auth

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// LocalAdmin is the principal of the offline admin commands (flowg admin
// token ...): whoever can open the auth database can already change every
// record in it, so it holds every scope and acts on anyone's tokens.
var LocalAdmin = Principal{User: "", Via: "local", Scopes: NewScopeSet(AllScopes...)}

// WiderTokenError is returned by CreateToken and RevokeToken when the token
// acted on would hold scopes the acting principal lacks: a token narrowed to
// send_logs can neither mint nor revoke a token that can do more. It wraps
// ErrWiderToken.
type WiderTokenError struct {
	// Action is "create" or "revoke".
	Action string
	// Missing are the scopes of the token acted on that the caller lacks;
	// empty when a narrowed caller holding no scope asked for a token.
	Missing []Scope
}

// Error names the action and the scopes lacking.
func (e *WiderTokenError) Error() string {
	if len(e.Missing) == 0 {
		return fmt.Sprintf("cannot %s a token: the token used holds no scope to pass on", e.Action)
	}
	return fmt.Sprintf("cannot %s a token holding scopes the caller lacks: %s", e.Action, joinScopes(e.Missing))
}

// Unwrap returns ErrWiderToken.
func (e *WiderTokenError) Unwrap() error { return ErrWiderToken }

// scopesGranted returns the scopes a token created by by for an owner
// holding held is narrowed to: asked if given, which must be within by's
// scopes; otherwise nil (all of the owner's, now and later) when by is not
// itself a narrowed token and holds every scope of the owner, or by's own
// scopes when it is narrowed.
func scopesGranted(txn *badger.Txn, by Principal, held ScopeSet, asked []Scope) ([]Scope, error) {
	if asked != nil {
		if missing := by.Scopes.Missing(asked...); len(missing) > 0 {
			return nil, &WiderTokenError{Action: "create", Missing: missing}
		}
		return asked, nil
	}
	narrowed, err := actsNarrowed(txn, by)
	if err != nil {
		return nil, err
	}
	if !narrowed {
		if missing := by.Scopes.Missing(held...); len(missing) > 0 {
			return nil, &WiderTokenError{Action: "create", Missing: missing}
		}
		return nil, nil
	}
	if len(by.Scopes) == 0 {
		return nil, &WiderTokenError{Action: "create"}
	}
	return slices.Clone(by.Scopes), nil
}

// actsNarrowed reports whether by authenticated with a personal access token
// narrowed to some scopes (or one that has gone since, counted as narrowed).
func actsNarrowed(txn *badger.Txn, by Principal) (bool, error) {
	if by.Via != ViaPAT {
		return false, nil
	}
	var t storedToken
	err := getJSON(txn, prefixToken+by.TokenID, &t)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return t.Scopes != nil, nil
}

// tokenScopes returns the effective scopes of t as they are now: its
// owner's, narrowed to its own if it has any; none if the owner is gone.
func tokenScopes(txn *badger.Txn, t storedToken) (ScopeSet, error) {
	var u storedUser
	err := getJSON(txn, prefixUser+t.Owner, &u)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	held, err := scopesOf(txn, u.Roles)
	if err != nil {
		return nil, err
	}
	if t.Scopes != nil {
		held = held.Intersect(NewScopeSet(t.Scopes...))
	}
	return held, nil
}
