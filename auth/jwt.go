package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/golang-jwt/jwt/v5"
)

// jwtIssuer is the "iss" of every JWT flowg signs, and required on parse.
const jwtIssuer = "flowg"

// Login checks username and password and returns a signed HS256 JWT for the
// user, valid for Options.JWTTTL. An unknown user and a wrong password both
// give ErrBadCredentials and take about as long, since a password hash is
// computed in either case. The JWT is signed with Options.JWTKey, which
// lives outside the database, so a backup of it cannot mint tokens.
func (s *Service) Login(username, password string) (string, error) {
	var u storedUser
	err := ErrNotFound
	if validName(username) {
		err = s.db.View(func(txn *badger.Txn) error {
			return getJSON(txn, prefixUser+username, &u)
		})
	}
	switch {
	case errors.Is(err, ErrNotFound):
		verifyPassword(dummyHash(), password)
		return "", ErrBadCredentials
	case err != nil:
		return "", fmt.Errorf("login: %w", err)
	case !verifyPassword(u.PasswordHash, password):
		return "", ErrBadCredentials
	}
	key, err := s.key()
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	now := s.now()
	claims := jwt.RegisteredClaims{
		Issuer:    jwtIssuer,
		Subject:   username,
		ID:        sessionID(u),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.jwtTTL)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("login: sign jwt: %w", err)
	}
	return signed, nil
}

// key returns the signing key, ErrNoJWTKey if the Service has none.
func (s *Service) key() ([]byte, error) {
	if len(s.jwtKey) != JWTKeySize || allZero(s.jwtKey) {
		return nil, ErrNoJWTKey
	}
	return s.jwtKey, nil
}

// authenticateJWT checks a JWT from Login and returns its principal.
func (s *Service) authenticateJWT(raw string) (Principal, error) {
	key, err := s.key()
	if err != nil {
		return Principal{}, unauthenticated("bad signature") // we cannot have signed it
	}
	var p Principal
	err = s.db.View(func(txn *badger.Txn) error {
		parser := jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(jwtIssuer),
			jwt.WithTimeFunc(s.now),
		)
		var claims jwt.RegisteredClaims
		_, err := parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return key, nil })
		if err != nil {
			if errors.Is(err, jwt.ErrTokenMalformed) && looksLikePAT(raw) {
				return unauthenticated("malformed token: this is a personal access token; send it as Bearer pat:<token>")
			}
			if errors.Is(err, jwt.ErrTokenExpired) {
				return tokenGone(jwtFailure(err))
			}
			return unauthenticated(jwtFailure(err))
		}
		if claims.IssuedAt == nil || !validName(claims.Subject) {
			return unauthenticated("malformed token")
		}
		var u storedUser
		if err := getJSON(txn, prefixUser+claims.Subject, &u); errors.Is(err, ErrNotFound) {
			return tokenGone("user deleted")
		} else if err != nil {
			return err
		}
		// A password change or a re-created user ends older sessions: the
		// token names the password hash it was issued under.
		if subtle.ConstantTimeCompare([]byte(claims.ID), []byte(sessionID(u))) != 1 {
			return tokenGone("session revoked")
		}
		scopes, err := scopesOf(txn, u.Roles)
		if err != nil {
			return err
		}
		p = Principal{User: u.Name, Via: ViaJWT, Scopes: scopes}
		if claims.ExpiresAt != nil {
			exp := claims.ExpiresAt.Time
			p.ExpiresAt = &exp
		}
		return nil
	})
	return p, err
}

// sessionID identifies the password a JWT was issued under (a digest of its
// salted hash, which changes with every password set), so changing the
// password, or deleting and re-creating the user, ends earlier sessions.
func sessionID(u storedUser) string {
	sum := sha256.Sum256([]byte(u.PasswordHash + "\x00" + u.Created.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:12])
}

// jwtFailure turns a jwt parse error into a short reason.
func jwtFailure(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	}
	return "invalid token claims"
}
