package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/kv"
)

// mimeNDJSON is the media type of a portable export: one JSON object a line.
const mimeNDJSON = "application/x-ndjson"

// exportDB streams the items of one database as portable JSON lines (GET
// /api/v1/export/:db?stream=GLOB&since=T&until=T), from one read timestamp,
// with the scopes of a backup of that database. Password hashes are never
// part of it: include_secrets is refused, as secrets leave a server only
// through the offline `flowg admin export --include-secrets`. The database is
// held as a backup stream holds it (at most kv.StreamLimits.Max at once,
// cut by a wipe restore after its grace); a failure midway cuts the
// connection, so the client sees an incomplete transfer.
func (s *Server) exportDB(c echo.Context) error {
	name, err := dbParam(c)
	if err != nil {
		return err
	}
	if err := require(c, auth.BackupScopes(string(name))...); err != nil {
		return err
	}
	opts, err := exportOptions(c)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, mimeNDJSON)
		return c.NoContent(http.StatusOK) // the lines are made as they are sent: nothing to say beforehand
	}
	ctx, db, release, err := s.streamOf(c, name)
	if err != nil {
		return err
	}
	defer release()

	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mimeNDJSON)
	res.Header().Set("Cache-Control", "no-store")
	res.Header().Set(echo.HeaderXContentTypeOptions, "nosniff")
	sum, err := export.ExportDB(ctx, name, db, res, opts)
	if err == nil {
		// Only a stream that completed ends with the end line: an import
		// refuses one that was cut.
		err = export.WriteEnd(res, sum.Total())
	}
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); errors.Is(cause, kv.ErrStreamCut) {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	err = fmt.Errorf("export %s: %w", name, err)
	if !res.Committed {
		res.Header().Del(echo.HeaderContentType)
		if errors.Is(err, kv.ErrStreamCut) {
			return unavailable(name, err)
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internal("the export could not be read from the database", "nothing was changed; see the server log for request "+requestID(c), err)
	}
	return &abortError{cause: err}
}

// exportOptions reads the filters of an online export: stream (repeatable
// glob), since and until (RFC 3339).
func exportOptions(c echo.Context) (export.Options, error) {
	q := c.QueryParams()
	if _, asked := q["include_secrets"]; asked {
		return export.Options{}, badRequest("include_secrets: an export over HTTP never carries password hashes",
			"stop the server and run `flowg admin export --include-secrets --output FILE` to move users with their passwords")
	}
	opts := export.Options{Streams: q["stream"]}
	if err := export.CheckStreams(opts.Streams); err != nil {
		return opts, badRequest("stream: "+err.Error(), "give a stream name or a glob such as web-* (path.Match syntax)")
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"since", &opts.Since}, {"until", &opts.Until}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return opts, badRequest(fmt.Sprintf("%s %q is not a time", f.name, v), "give a time in RFC 3339, e.g. 2026-12-01T00:00:00Z")
			}
			*f.to = t
		}
	}
	if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Since.Before(opts.Until) {
		return opts, badRequest("since is not before until", "give since < until, or leave one out")
	}
	return opts, nil
}
