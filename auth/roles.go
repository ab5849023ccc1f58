package auth

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// Role is a named set of scopes; a user holds the union of its roles' scopes.
type Role struct {
	Name   string   `json:"name"`
	Scopes ScopeSet `json:"scopes"`
}

// PutRole creates role r or replaces the role of that name. Its scopes are
// checked against AllScopes and stored sorted and without duplicates. Users
// holding the role gain or lose scopes at once, tokens included.
func (s *Service) PutRole(r Role) error {
	key, val, err := RoleEntry(r)
	if err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error {
		return txn.Set(key, val)
	})
}

// GetRole returns the role called name, or an error wrapping ErrNotFound.
func (s *Service) GetRole(name string) (Role, error) {
	if err := checkName("role", name); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.db.View(func(txn *badger.Txn) error {
		return getJSON(txn, prefixRole+name, &r)
	})
	if err != nil {
		return Role{}, fmt.Errorf("role %s: %w", name, err)
	}
	return r, nil
}

// ListRoles returns every role, sorted by name.
func (s *Service) ListRoles() ([]Role, error) {
	roles := []Role{}
	err := s.db.View(func(txn *badger.Txn) error {
		return scanJSON(txn, prefixRole, func(r Role) error {
			roles = append(roles, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

// DeleteRole deletes the role called name. It refuses, with an error
// wrapping ErrInUse that names a holder, while any user holds the role, so
// that deleting "admin" cannot lock everyone out by accident.
func (s *Service) DeleteRole(name string) error {
	if err := checkName("role", name); err != nil {
		return err
	}
	err := s.update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, prefixRole+name); err != nil {
			return err
		} else if !ok {
			return ErrNotFound
		}
		err := scanJSON(txn, prefixUser, func(u storedUser) error {
			if slices.Contains(u.Roles, name) {
				return fmt.Errorf("%w: held by user %s", ErrInUse, u.Name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return txn.Delete([]byte(prefixRole + name))
	})
	if err != nil {
		return fmt.Errorf("delete role %s: %w", name, err)
	}
	return nil
}

// scopesOf returns the union of the scopes of roles; roles that no longer
// exist add nothing.
func scopesOf(txn *badger.Txn, roles []string) (ScopeSet, error) {
	var set ScopeSet
	for _, name := range roles {
		var r Role
		err := getJSON(txn, prefixRole+name, &r)
		switch {
		case err == nil:
			set = set.Union(r.Scopes)
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	return set, nil
}
