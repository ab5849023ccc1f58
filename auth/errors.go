package auth

import (
	"errors"
	"fmt"
)

// ErrUnauthenticated is wrapped by every error of Authenticate: the header is
// missing or malformed, or the token is unknown, expired, revoked, badly
// signed or belongs to a user who no longer exists. The message carries a
// short reason and never the token. The HTTP door answers 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrForbidden is wrapped by the *MissingScopeError that Principal.Require
// returns when the caller lacks a scope. The HTTP door answers 403.
var ErrForbidden = errors.New("forbidden")

// ErrBadCredentials is returned by Login for an unknown user or a wrong
// password; the two cases are deliberately indistinguishable.
var ErrBadCredentials = errors.New("invalid username or password")

// ErrNoJWTKey is returned by Login when the Service was made without a
// signing key (Options.JWTKey), or with one that is not JWTKeySize bytes.
var ErrNoJWTKey = errors.New("no jwt signing key was given to the auth service")

// ErrNotFound is returned when a named role, user or token does not exist
// (or, for RevokeToken, does not belong to the given owner).
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating something whose name or id is taken.
var ErrExists = errors.New("already exists")

// ErrInUse is returned by DeleteRole while a user still holds the role.
var ErrInUse = errors.New("in use")

// ErrInvalid is wrapped by every error about a malformed argument
// (ErrInvalidName, ErrUnknownScope, ErrInvalidPassword, ErrInvalidTTL), so a
// door can map all of them to one "bad request" answer.
var ErrInvalid = errors.New("invalid argument")

// ErrInvalidName is returned for a user or role name that is not 1–64
// characters of [A-Za-z0-9_.-]. It wraps ErrInvalid.
var ErrInvalidName = fmt.Errorf("%w: name must be 1-64 characters of A-Z a-z 0-9 _ . -", ErrInvalid)

// ErrUnknownScope is returned by ParseScope, PutRole and CreateToken for a
// scope flowg does not define. It wraps ErrInvalid.
var ErrUnknownScope = fmt.Errorf("%w: unknown scope", ErrInvalid)

// ErrInvalidPassword is returned when a new password is empty or longer
// than MaxPasswordLen bytes. It wraps ErrInvalid.
var ErrInvalidPassword = fmt.Errorf("%w: password must be 1-%d bytes", ErrInvalid, MaxPasswordLen)

// ErrInvalidTTL is returned by CreateToken for a negative lifetime. It wraps
// ErrInvalid.
var ErrInvalidTTL = fmt.Errorf("%w: token lifetime must not be negative", ErrInvalid)

// ErrScopeNotHeld is returned by CreateToken when a requested scope is not
// among the owner's effective scopes; the message names the scope.
var ErrScopeNotHeld = errors.New("scope not held by token owner")

// unauthenticated builds the error Authenticate returns for reason.
func unauthenticated(reason string) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
}
