package httpapi

import (
	"errors"

	"github.com/flowg-backup/flowg/kv"
)

// What an import (import.go) shares with the restores: it runs as one of
// its database's restores, so the two never run at once.

// beginRestore marks a restore of n as running: a 409 if one already is.
func (s *Server) beginRestore(n kv.Name) (func(), error) {
	end, err := s.store.BeginRestore(n)
	if err != nil {
		if errors.Is(err, kv.ErrBusy) {
			return nil, busy(n, err)
		}
		return nil, err
	}
	return end, nil
}
