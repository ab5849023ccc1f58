package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Trailers sent after a complete backup stream, for clients that want to
// check what they received without reading the file again.
const (
	trailerKeys   = "X-Flowg-Backup-Keys"
	trailerSHA256 = backup.TrailerSHA256
)

// downloadName is the file name an online backup is offered under:
// auth.db, config.db, logs.db. (The offline CLI writes log.db; restore
// accepts either.)
func downloadName(n kv.Name) string {
	if n == kv.Logs {
		return "logs.db"
	}
	return backup.FileName(string(n))
}

// backup streams a backup file of one database (GET /api/v1/backup/:db).
// The file is produced as it is sent, from one Badger read timestamp taken
// when the request arrives: nothing is staged in memory or on disk, and
// writes go on meanwhile. The database is held shared for the whole stream,
// as one of at most kv.StreamLimits.Max streams of it (more get 429); a wipe
// restore of it waits kv.StreamLimits.WipeGrace for the stream, then cuts
// it. A client that goes away stops the dump; a dump that fails or is cut
// midway cuts the connection, so the client sees an incomplete transfer
// (and flowg refuses the partial file as truncated).
func (s *Server) backup(c echo.Context) error {
	name, err := dbParam(c)
	if err != nil {
		return err
	}
	if err := require(c, auth.BackupScopes(string(name))...); err != nil {
		return err
	}
	ctx, db, release, err := s.streamOf(c, name)
	if err != nil {
		return err
	}
	defer release()

	s.metrics.backupStarted(name)
	start := time.Now()
	res := c.Response()
	h := res.Header()
	setBackupHeaders(h, name)
	h.Set("Trailer", trailerKeys+", "+trailerSHA256)

	out := &countingWriter{w: res}
	_, sum, err := backup.Dump(ctx, db, out, backup.DumpOptions{Database: string(name), ToolVersion: s.opts.Version, Now: s.now,
		FramesUnderWay: backup.StreamFramesUnderWay})
	s.metrics.backupFinished(name, time.Since(start), out.n, err)
	if err == nil {
		h.Set(trailerKeys, strconv.FormatUint(sum.Keys, 10))
		h.Set(trailerSHA256, sum.SHA256)
		return nil
	}
	if cause := context.Cause(ctx); errors.Is(cause, kv.ErrStreamCut) {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	err = fmt.Errorf("back up %s (%d bytes sent): %w", name, out.n, err)
	if !res.Committed {
		if errors.Is(err, kv.ErrStreamCut) {
			return unavailable(name, err)
		}
		for _, k := range []string{echo.HeaderContentType, echo.HeaderContentDisposition, "Trailer"} {
			h.Del(k)
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internal("the backup could not be read from the database", "nothing was changed; see the server log for request "+requestID(c), err)
	}
	return &abortError{cause: err}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}

// streamOf holds database name for a response streamed to c. The context
// ends when the request does, when the server stops, or when a wipe
// restore of name cuts the stream after its grace; a cut also ends a write
// blocked on a client that does not read. release lets it all go.
func (s *Server) streamOf(c echo.Context, name kv.Name) (context.Context, *kv.DB, func(), error) {
	opCtx, cancel := s.opContext(c.Request().Context())
	ctx, cut := context.WithCancelCause(opCtx)
	rc := http.NewResponseController(c.Response())
	db, release, err := s.acquireStream(name, func() {
		cut(kv.ErrStreamCut)
		_ = rc.SetWriteDeadline(time.Now())
	})
	if err != nil {
		cut(nil)
		cancel()
		return nil, nil, nil, err
	}
	return ctx, db, func() {
		release()
		cut(nil)
		cancel()
	}, nil
}
