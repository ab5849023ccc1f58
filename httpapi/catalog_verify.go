package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
)

// DefaultMaxConcurrentVerifies is flowg serve's --max-concurrent-verifies:
// how many verifications asked for over the API (POST
// /api/v1/backups/:id/verify, POST /api/v1/backups?verify=true) run at once
// on the whole server. Each loads the set into a scratch database, which
// takes memory and disk in proportion to the set.
const DefaultMaxConcurrentVerifies = 1

// verifySet verifies a set now (POST /api/v1/backups/:id/verify): every
// checksum and a load of every file into a scratch database. The result is
// recorded in the set's manifest and the set answered with its new label;
// a set that fails is answered 200 with the label "verify failed". It needs
// the backup scopes of every database of every set it verifies: the set,
// and the sets of its chain no one verified yet (verified first). At most
// Options.MaxConcurrentVerifies run at once on the server, and each user
// verifies at most --backup-create-rate sets; beyond either it answers 429
// with Retry-After and verifies nothing.
func (s *Server) verifySet(c echo.Context) error {
	info, err := s.lookupSet(c)
	if err != nil {
		return err
	}
	if err := require(c, backupScopes(setKVNames(info))...); err != nil {
		return err
	}
	if info.Label == backup.LabelRunning || info.Label == backup.LabelFailed || info.Status == "" {
		return setUnusable(info, "verified")
	}
	if err := s.requireChainScopes(c, info); err != nil {
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
	ctx, cancel := s.opContext(c.Request().Context())
	defer cancel()
	verified, err := s.catalog.cat.Verify(ctx, info.ID, time.Now())
	s.refreshCatalogMetrics()
	if err != nil {
		return s.verifyError(c, info, err)
	}
	result := "ok"
	if verified.Label != backup.LabelRestoreVerified {
		result = "failed"
	}
	s.metrics.catalogVerify(result)
	s.log.Info("backup set verified", "request_id", requestID(c), "id", verified.ID, "label", verified.Label,
		"problem", verified.Problem, "user", principalOf(c).User)
	return c.JSON(http.StatusOK, verified)
}

// requireChainScopes refuses, with 403, a verification of info that would
// also verify (and relabel) a set it builds on whose databases the caller
// has no backup scopes for; and with 409 one whose chain cannot be read.
func (s *Server) requireChainScopes(c echo.Context, info backup.SetInfo) error {
	plan, err := s.catalog.cat.VerifyPlan(c.Request().Context(), info.ID)
	if err != nil {
		return &apiError{status: http.StatusConflict, cause: err,
			msg:  fmt.Sprintf("backup set %s cannot be verified: %v", info.ID, err),
			hint: "nothing was verified; its chain is broken: pick another set from GET /api/v1/backups, or take a new full set"}
	}
	for _, link := range plan {
		if link.ID == info.ID {
			continue
		}
		var missing *auth.MissingScopeError
		if err := require(c, backupScopes(setKVNames(link))...); errors.As(err, &missing) {
			return &apiError{status: http.StatusForbidden, code: CodeMissingScope, cause: err,
				msg: fmt.Sprintf("%s: verifying set %s also verifies set %s it builds on (%s), which no one verified yet",
					err, info.ID, link.ID, strings.Join(setNames(link), ", ")),
				hint: fmt.Sprintf("nothing was verified; ask someone holding %s to verify set %s first "+
					"(POST /api/v1/backups/%s/verify), then verify set %s", joinScopes(missing.Missing), link.ID, link.ID, info.ID)}
		}
	}
	return nil
}

// takeVerifySlot takes one of the server's --max-concurrent-verifies slots,
// to be given back with release, or answers 429 (Retry-After) when all are
// taken: a verification loads a whole set into a scratch database.
func (s *Server) takeVerifySlot() (release func(), err error) {
	select {
	case s.catalog.verifySlots <- struct{}{}:
		return func() { <-s.catalog.verifySlots }, nil
	default:
		n := cap(s.catalog.verifySlots)
		return nil, &apiError{status: http.StatusTooManyRequests, code: CodeTooManyVerifies,
			msg:  fmt.Sprintf("verification not started: %d verification(s) already run on this server, the most it allows at once (--max-concurrent-verifies %d)", n, n),
			hint: "nothing was written or verified; retry after Retry-After seconds, when a running verification has finished"}
	}
}

// allowVerify takes one verification of the caller's budget, which has the
// rate of --backup-create-rate but is kept apart from set creation, or
// answers 429 with Retry-After saying when the next is allowed.
func (s *Server) allowVerify(c echo.Context) error {
	return s.takeQuota(c, s.catalog.verifies, func(user string) (string, string) {
		return fmt.Sprintf("verification not started: user %s may verify %d sets per %s (the server's --backup-create-rate, counted apart from set creation)",
				user, s.opts.BackupCreateRate.Count, s.opts.BackupCreateRate.Per),
			"nothing was verified; retry in %d seconds (at %s), or ask an administrator for scheduled verified backups (--backup-verify)"
	})
}

// verifyError explains a verification that recorded nothing: the set is
// gone, the client left, the server's scratch space failed (507 when it is
// full), or the manifest could not be written.
func (s *Server) verifyError(c echo.Context, info backup.SetInfo, err error) error {
	switch {
	case errors.Is(err, backup.ErrSetNotFound):
		return setNotFound(info.ID)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, backup.ErrScratch):
		status := http.StatusInternalServerError
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			status = http.StatusInsufficientStorage
		}
		return &apiError{status: status, cause: err, msg: "the verification could not run: " + err.Error(),
			hint: fmt.Sprintf("the set and the sets it builds on keep their labels; this is the server's scratch space, not the set: "+
				"free space or file descriptors on the server ($TMPDIR), then retry; see the server log for request %s", requestID(c))}
	}
	return internal("the verification could not be recorded", fmt.Sprintf(
		"the set was not changed; check that the backup catalog %s is writable; see the server log for request %s",
		s.catalog.cat.Dir(), requestID(c)), err)
}
