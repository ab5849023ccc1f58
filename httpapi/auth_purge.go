package httpapi

import (
	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// purgeLegacyJWTKey deletes, unread, the JWT signing key older flowg
// versions kept in the auth database (auth.PurgeLegacySecrets): restoring
// one of their backups writes it back. restoreFromFile calls it after every
// restore of auth, whatever the outcome, since a merge cut short may have
// written it too. The key was never adopted, so it signs nothing here; it
// is deleted so that no later backup carries it. Failures are logged: the
// next start tries again.
func (s *Server) purgeLegacyJWTKey(name kv.Name, requestID string) {
	if name != kv.Auth {
		return
	}
	db, release, err := s.store.Acquire(kv.Auth)
	if err != nil {
		s.log.Warn("the legacy jwt signing key could not be looked for after the restore; the next start deletes it", "request_id", requestID, "error", err)
		return
	}
	defer release()
	deleted, err := auth.PurgeLegacySecrets(db)
	switch {
	case err != nil:
		s.log.Warn("the legacy jwt signing key could not be deleted after the restore; the next start deletes it", "request_id", requestID, "error", err)
	case deleted:
		s.log.Info("deleted the legacy jwt signing key (meta/jwt_secret) the restored backup held; it was never used: JWTs are signed with the key of --jwt-key-file",
			"request_id", requestID, "database", name)
	}
}
