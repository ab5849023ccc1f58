package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/backup"
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
// for the list of sets). It reads the names only; `flowg admin backups
// journal --verify` reads every segment.
func (s *Server) listJournal(c echo.Context) error {
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	windows, err := s.catalog.cat.JournalWindows(c.Request().Context(), false)
	if errors.Is(err, backup.ErrContinuousTarget) {
		windows, err = nil, nil // an s3:// catalog holds no journal yet
	}
	if err != nil {
		return s.catalogUnreadable(c, err)
	}
	if windows == nil {
		windows = []backup.JournalWindow{}
	}
	return c.JSON(http.StatusOK, journalReply{Catalog: s.catalog.cat.Dir(), Windows: windows})
}
