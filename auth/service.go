package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Options tune a Service. The zero value is ready to use.
type Options struct {
	// Now is the clock used for token expiry and JWT times; time.Now if nil.
	Now func() time.Time
	// JWTTTL is how long a JWT from Login stays valid; 24h if zero.
	JWTTTL time.Duration
	// JWTKey signs and checks the JWTs: JWTKeySize bytes, from
	// LoadOrCreateJWTKey. Without it Login fails with ErrNoJWTKey and every
	// JWT is refused; personal access tokens work either way. The Service
	// keeps it in memory only and never writes it to the database.
	JWTKey []byte
}

// Service manages the users, roles and tokens of one auth database and
// authenticates requests against it. It is safe for concurrent use. It does
// not own db: the caller closes it, after the last call to the Service.
type Service struct {
	db     *badger.DB
	now    func() time.Time
	jwtTTL time.Duration
	jwtKey []byte
}

// NewService returns a Service over db, an open auth database.
func NewService(db *badger.DB, opts Options) *Service {
	s := &Service{db: db, now: opts.Now, jwtTTL: opts.JWTTTL, jwtKey: opts.JWTKey}
	if s.now == nil {
		s.now = time.Now
	}
	if s.jwtTTL <= 0 {
		s.jwtTTL = 24 * time.Hour
	}
	return s
}

// Root user and role created by Bootstrap.
const (
	RootUser  = "root"
	AdminRole = "admin"
)

// bootstrapPasswordLen is the length of the password Bootstrap makes up.
const bootstrapPasswordLen = 20

// Bootstrap prepares an auth database that holds no user: it creates (or
// resets) role "admin" with every scope and user "root" holding it, with
// rootPassword, or with a random 20-character password if rootPassword is
// empty. It returns created true and the password, which the caller should
// show once and never store. If any user exists it changes nothing and
// returns created false and an empty password.
func (s *Service) Bootstrap(rootPassword string) (created bool, password string, err error) {
	var empty bool
	if err := s.db.View(func(txn *badger.Txn) error {
		empty = !anyKey(txn, prefixUser)
		return nil
	}); err != nil || !empty {
		return false, "", err
	}
	password = rootPassword
	if password == "" {
		if password, err = randomPassword(bootstrapPasswordLen); err != nil {
			return false, "", fmt.Errorf("bootstrap: %w", err)
		}
	}
	hash, err := hashPassword(password)
	if err != nil {
		return false, "", fmt.Errorf("bootstrap: %w", err)
	}
	now := s.now().UTC()
	err = s.update(func(txn *badger.Txn) error {
		// Reading user/root makes a concurrent Bootstrap conflict, and retry.
		rootExists, err := exists(txn, prefixUser+RootUser)
		if err != nil {
			return err
		}
		if rootExists || anyKey(txn, prefixUser) {
			created = false // someone else got there first
			return nil
		}
		created = true
		if err := setJSON(txn, prefixRole+AdminRole, Role{Name: AdminRole, Scopes: NewScopeSet(AllScopes...)}); err != nil {
			return err
		}
		return setJSON(txn, prefixUser+RootUser, storedUser{
			Name: RootUser, PasswordHash: hash, Roles: []string{AdminRole}, Created: now, SessionsFrom: now,
		})
	})
	if err != nil || !created {
		return false, "", err
	}
	return true, password, nil
}

// update runs fn in a read-write transaction, retrying a few times when a
// concurrent transaction wrote what fn read.
func (s *Service) update(fn func(txn *badger.Txn) error) error {
	var err error
	for range 5 {
		err = s.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// validName reports whether name is 1–64 characters of [A-Za-z0-9_.-]
// other than "." and "..", which would read as paths in a URL.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// checkName returns an error wrapping ErrInvalidName if name is not valid;
// what says what the name is for ("user", "role").
func checkName(what, name string) error {
	if !validName(name) {
		return fmt.Errorf("%s %q: %w", what, truncate(name, 64), ErrInvalidName)
	}
	return nil
}
