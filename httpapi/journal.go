package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// journalReply is the answer of GET /api/v1/backups/journal. Its shape only
// ever gains fields.
type journalReply struct {
	Catalog string                 `json:"catalog"`
	Windows []backup.JournalWindow `json:"windows"`
}

// listJournal answers what the catalog's journal (continuous backup) can
// restore: per database and chain, the window from–to, its segments, why
// the chain started and any problem (GET /api/v1/backups/journal; scopes as
// for the list of sets). It reads the names only. With ?verify=true it
// reads every segment whole and checks every checksum, as `flowg admin
// backups journal --verify` does: that needs the backup scopes of every
// database, and takes a verification slot and one of the caller's
// verifications, as verifying a set does (429 beyond either).
func (s *Server) listJournal(c echo.Context) error {
	verify, err := boolParam(c, "verify", "?verify=true reads every segment of the journal and checks every checksum")
	if err != nil {
		return err
	}
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	if verify {
		if err := require(c, backupScopes(kv.Names)...); err != nil {
			return err
		}
		release, err := s.takeVerifySlot()
		if err != nil {
			return err
		}
		defer release()
		if err := s.allowVerify(c); err != nil {
			return err
		}
	}
	ctx, cancel := s.opContext(c.Request().Context())
	defer cancel()
	windows, err := s.catalog.cat.JournalWindows(ctx, verify)
	if errors.Is(err, backup.ErrContinuousTarget) {
		windows, err = nil, nil // a store that cannot hold a journal has none
	}
	if err != nil {
		return s.catalogUnreadable(c, err)
	}
	if windows == nil {
		windows = []backup.JournalWindow{}
	}
	return c.JSON(http.StatusOK, journalReply{Catalog: s.catalog.cat.Dir(), Windows: windows})
}
