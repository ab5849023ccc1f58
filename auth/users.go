package auth

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// User is an account as callers see it. PasswordHash is filled by GetUser
// and ListUsers for callers that need it but never marshalled to JSON.
type User struct {
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Roles        []string  `json:"roles"`
	Created      time.Time `json:"created"`
}

// PutUser creates user name with password and roles, or replaces the roles
// (and, unless password is empty, the password) of an existing one. Every
// role must exist. Setting a password ends the user's JWT sessions.
func (s *Service) PutUser(name, password string, roles []string) error {
	if err := checkName("user", name); err != nil {
		return err
	}
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	for _, r := range roles {
		if err := checkName("role", r); err != nil {
			return fmt.Errorf("put user %s: %w", name, err)
		}
	}
	if roles == nil {
		roles = []string{}
	}
	var hash string
	if password != "" {
		var err error
		if hash, err = hashPassword(password); err != nil {
			return fmt.Errorf("put user %s: %w", name, err)
		}
	}
	now := s.now().UTC()
	err := s.update(func(txn *badger.Txn) error {
		for _, r := range roles {
			if ok, err := exists(txn, prefixRole+r); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("role %s: %w", r, ErrNotFound)
			}
		}
		var u storedUser
		err := getJSON(txn, prefixUser+name, &u)
		switch {
		case errors.Is(err, ErrNotFound):
			if hash == "" {
				return fmt.Errorf("new user needs a password: %w", ErrInvalidPassword)
			}
			u = storedUser{Name: name, Created: now}
		case err != nil:
			return err
		}
		u.Roles = roles
		if hash != "" {
			u.PasswordHash, u.SessionsFrom = hash, now
		}
		return setJSON(txn, prefixUser+name, u)
	})
	if err != nil {
		return fmt.Errorf("put user %s: %w", name, err)
	}
	return nil
}

// SetPassword replaces the password of user name and ends its JWT sessions;
// its tokens stay valid.
func (s *Service) SetPassword(name, password string) error {
	if err := checkName("user", name); err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	now := s.now().UTC()
	err = s.update(func(txn *badger.Txn) error {
		var u storedUser
		if err := getJSON(txn, prefixUser+name, &u); err != nil {
			return err
		}
		u.PasswordHash, u.SessionsFrom = hash, now
		return setJSON(txn, prefixUser+name, u)
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// GetUser returns user name, or an error wrapping ErrNotFound.
func (s *Service) GetUser(name string) (User, error) {
	if err := checkName("user", name); err != nil {
		return User{}, err
	}
	var u storedUser
	err := s.db.View(func(txn *badger.Txn) error {
		return getJSON(txn, prefixUser+name, &u)
	})
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", name, err)
	}
	return u.public(), nil
}

// ListUsers returns every user, sorted by name.
func (s *Service) ListUsers() ([]User, error) {
	users := []User{}
	err := s.db.View(func(txn *badger.Txn) error {
		return scanJSON(txn, prefixUser, func(u storedUser) error {
			users = append(users, u.public())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// DeleteUser deletes user name and revokes all of its tokens, in one
// transaction. Its JWTs stop working at once, since Authenticate checks that
// the user exists.
func (s *Service) DeleteUser(name string) error {
	if err := checkName("user", name); err != nil {
		return err
	}
	now := s.now().UTC()
	err := s.update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, prefixUser+name); err != nil {
			return err
		} else if !ok {
			return ErrNotFound
		}
		var ids []string
		err := scanJSON(txn, prefixToken, func(t storedToken) error {
			if t.Owner == name {
				ids = append(ids, t.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := revokeInTxn(txn, id, name, now); err != nil {
				return err
			}
		}
		return txn.Delete([]byte(prefixUser + name))
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	return nil
}
