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

// ErrTokenGone is matched (errors.Is) by the errors of Authenticate for a
// token that worked once: expired, revoked, or its user deleted (or its
// password changed, for a JWT). They match ErrUnauthenticated too, and read
// as every other "unauthenticated: reason"; the cure is a new token.
var ErrTokenGone = errors.New("token no longer valid")

// goneError is the error of a token that worked once, for reason.
type goneError struct{ reason string }

func (e goneError) Error() string { return ErrUnauthenticated.Error() + ": " + e.reason }

func (e goneError) Is(target error) bool {
	return target == ErrUnauthenticated || target == ErrTokenGone
}

// tokenGone builds the error Authenticate returns for a token that worked
// once, for reason.
func tokenGone(reason string) error { return goneError{reason} }

// ErrForbidden is wrapped by the *MissingScopeError that Principal.Require
// returns when the caller lacks a scope. The HTTP door answers 403.
var ErrForbidden = errors.New("forbidden")

// ErrBadCredentials is returned by Login for an unknown user or a wrong
// password; the two cases are deliberately indistinguishable.
var ErrBadCredentials = errors.New("invalid username or password")

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
