package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/internal/duration"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// maxIngestBody bounds the body of one log ingestion request.
const maxIngestBody = 64 << 20

// withLogs checks that the caller holds scope, then calls fn with the log
// store, the logs database held for the duration of the call.
func (s *Server) withLogs(c echo.Context, scope auth.Scope, fn func(*logstore.Store) error) error {
	if err := require(c, scope); err != nil {
		return err
	}
	db, release, err := s.acquire(kv.Logs)
	if err != nil {
		return err
	}
	defer release()
	return fn(logstore.New(db, s.now))
}

// ingestLogs appends records to a stream (POST /api/v1/streams/:stream/logs,
// send_logs) from {"records": [{...}, ...]} and answers {"written", "timestamp"}
// once they are committed. Numbers keep every digit.
func (s *Server) ingestLogs(c echo.Context) error {
	if err := require(c, auth.ScopeSendLogs); err != nil {
		return err
	}
	var req struct {
		Records []map[string]any `json:"records"`
	}
	if err := decodeJSON(c, &req, maxIngestBody, `{"records": [{"level": "info", "message": "hello"}]}`); err != nil {
		return err
	}
	stream := c.Param("stream")
	var written []logstore.Record
	err := s.withLogs(c, auth.ScopeSendLogs, func(st *logstore.Store) error {
		var err error
		written, err = st.Append(stream, req.Records)
		return err
	})
	if err != nil {
		if len(written) > 0 {
			return internal(fmt.Sprintf("only %d of %d records were written", len(written), len(req.Records)),
				"the first records were written; see the server log for request "+requestID(c), err)
		}
		return err
	}
	reply := map[string]any{"stream": stream, "written": len(written)}
	if len(written) > 0 {
		reply["timestamp"] = written[0].Timestamp
	}
	return c.JSON(http.StatusOK, reply)
}

// queryLogs answers the records of a stream in a time range, oldest first
// (GET /api/v1/streams/:stream/logs?from=&to=&limit=, read_streams). from and
// to are RFC 3339 times; from is included, to is not.
func (s *Server) queryLogs(c echo.Context) error {
	if err := require(c, auth.ScopeReadStreams); err != nil {
		return err
	}
	from, err := timeParam(c, "from")
	if err != nil {
		return err
	}
	to, err := timeParam(c, "to")
	if err != nil {
		return err
	}
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 {
			return badRequest(fmt.Sprintf("limit=%q is not a positive number", v),
				fmt.Sprintf("use limit=1..%d, or leave it out for %d", logstore.MaxLimit, logstore.DefaultLimit))
		}
	}
	stream := c.Param("stream")
	var records []logstore.Record
	err = s.withLogs(c, auth.ScopeReadStreams, func(st *logstore.Store) error {
		records, err = st.Query(stream, from, to, limit)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"stream": stream, "records": records})
}

// timeParam parses an optional RFC 3339 query parameter.
func timeParam(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest(fmt.Sprintf("%s=%q is not an RFC 3339 time", name, v),
			fmt.Sprintf("use e.g. %s=2025-01-02T15:04:05Z", name))
	}
	return t, nil
}

// streamReply is a stream's configuration as the API shows it.
type streamReply struct {
	Stream string `json:"stream"`
	TTL    string `json:"ttl"` // "" when records are kept forever
}

func newStreamReply(name string, ttl time.Duration) streamReply {
	r := streamReply{Stream: name}
	if ttl > 0 {
		// "720h", not "720h0m0s"
		r.TTL = ttl.String()
		if strings.HasSuffix(r.TTL, "m0s") {
			r.TTL = strings.TrimSuffix(r.TTL, "0s")
		}
		if strings.HasSuffix(r.TTL, "h0m") {
			r.TTL = strings.TrimSuffix(r.TTL, "0m")
		}
	}
	return r
}

// putStream sets a stream's retention (PUT /api/v1/streams/:stream,
// write_streams) from {"ttl": "720h"}; "" or "0" keeps records forever. The
// TTL applies to records appended from then on.
func (s *Server) putStream(c echo.Context) error {
	if err := require(c, auth.ScopeWriteStreams); err != nil {
		return err
	}
	var req struct {
		TTL string `json:"ttl"`
	}
	if err := decodeJSON(c, &req, maxJSONBody, `{"ttl": "720h"}`); err != nil {
		return err
	}
	ttl, err := duration.Parse(req.TTL)
	if err != nil {
		return badRequest("ttl: "+err.Error(), `use e.g. {"ttl": "720h"} or {"ttl": "30d"}; {"ttl": ""} keeps records forever`)
	}
	stream := c.Param("stream")
	if err := s.withLogs(c, auth.ScopeWriteStreams, func(st *logstore.Store) error { return st.SetTTL(stream, ttl) }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newStreamReply(stream, ttl))
}

// getStream answers a stream's configuration (GET /api/v1/streams/:stream,
// read_streams); a stream never configured has no TTL.
func (s *Server) getStream(c echo.Context) error {
	stream := c.Param("stream")
	var cfg logstore.Config
	err := s.withLogs(c, auth.ScopeReadStreams, func(st *logstore.Store) error {
		var err error
		cfg, err = st.StreamConfig(stream)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newStreamReply(stream, cfg.TTL))
}

// listStreams answers {"streams": [...]}, the streams holding records or a
// configuration (GET /api/v1/streams, read_streams).
func (s *Server) listStreams(c echo.Context) error {
	var names []string
	err := s.withLogs(c, auth.ScopeReadStreams, func(st *logstore.Store) error {
		var err error
		names, err = st.ListStreams()
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"streams": names})
}
