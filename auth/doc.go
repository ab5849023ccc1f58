// Package auth owns who may do what in flowg: the roles, users and personal
// access tokens kept in the auth Badger database, argon2id (and legacy bcrypt)
// password hashes, the HS256 JWTs handed out by Login (signed with a key kept
// in a file of its own, never in the database), and the scope checks
// that guard every online operation. A Service wraps one open auth database
// and is safe for concurrent use; it never prints, logs or returns a secret
// other than the one it has just created for its caller (a fresh token, a JWT,
// a bootstrap password). Authenticate turns an Authorization header into a
// Principal whose effective scopes are its user's role scopes narrowed by the
// token's own scopes, and Principal.Require names whatever scope is missing.
package auth
