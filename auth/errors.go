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
// returns when the caller lacks a scope, and by ErrWiderToken. The HTTP door
// answers 403.
var ErrForbidden = errors.New("forbidden")

// ErrBadCredentials is returned by Login for an unknown user or a wrong
// password; the two cases are deliberately indistinguishable.
var ErrBadCredentials = errors.New("invalid username or password")

// ErrNoJWTKey is returned by Login when the Service was made without a
// signing key (Options.JWTKey), or with one that is not JWTKeySize bytes.
var ErrNoJWTKey = errors.New("no jwt signing key was given to the auth service")

// ErrNotFound is returned when a named role, user or token does not exist
// (or, for RevokeToken, is someone else's and the caller lacks write_acls).
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

// ErrWiderToken is wrapped by the *WiderTokenError of CreateToken and
// RevokeToken when the token acted on holds scopes the caller lacks. It
// wraps ErrForbidden; the HTTP door answers 403.
var ErrWiderToken = fmt.Errorf("%w: token wider than the caller", ErrForbidden)

// ErrInvalidRate is returned by ParseRate for anything but N/DURATION with
// N at least 1 and a positive duration. It wraps ErrInvalid.
var ErrInvalidRate = fmt.Errorf("%w: rate must be N/DURATION, e.g. 5/1m", ErrInvalid)

// ErrTooManyLogins is wrapped by the *LoginLimitError of LoginGuard.Attempt
// when the failed-login budget of a user from an address, or of an address,
// is spent. The HTTP door answers 429 with Retry-After.
var ErrTooManyLogins = errors.New("too many failed logins")

// ErrLoginsBusy is wrapped by the *LoginLimitError of LoginGuard.Attempt
// when every password check slot stayed taken for the whole wait. The HTTP
// door answers 503 with Retry-After.
var ErrLoginsBusy = errors.New("too many logins at once")

// unauthenticated builds the error Authenticate returns for reason.
func unauthenticated(reason string) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
}
