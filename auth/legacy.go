package auth

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// keyLegacyJWTSecret is where flowg up to 2026-12 kept the JWT signing key,
// inside the auth database and so inside every backup of it. It is only
// ever deleted now: a key found there is a key someone else may hold.
const keyLegacyJWTSecret = "meta/jwt_secret"

// PurgeLegacySecrets deletes from the auth database db every value from
// which a token could be minted (the signing key older versions kept at
// meta/jwt_secret), unread. It reports whether there was one. Call it at
// start and after every restore of the auth database, since merging or
// loading an old backup writes the key back. It is safe to call on an
// empty database and concurrently with a Service.
func PurgeLegacySecrets(db *badger.DB) (deleted bool, err error) {
	for range 5 {
		err = db.Update(func(txn *badger.Txn) error {
			_, err := txn.Get([]byte(keyLegacyJWTSecret))
			if errors.Is(err, badger.ErrKeyNotFound) {
				deleted = false
				return nil
			}
			if err != nil {
				return err
			}
			deleted = true
			return txn.Delete([]byte(keyLegacyJWTSecret))
		})
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("delete the legacy jwt signing key %s: %w", keyLegacyJWTSecret, err)
	}
	return deleted, nil
}
