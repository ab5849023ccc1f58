package httpapi

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"
)

// teeWriter passes an answer through and keeps its first answerKept bytes,
// for the operation record of a tracked request.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if room := answerKept - w.body.Len(); room > 0 {
		w.body.Write(p[:min(room, len(p))])
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush through.
func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// answerRecorder is the http.ResponseWriter of a detached handler: it keeps
// the status, headers and the first answerKept bytes of the answer.
type answerRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *answerRecorder) Header() http.Header { return r.header }

func (r *answerRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *answerRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if room := answerKept - r.body.Len(); room > 0 {
		r.body.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Flush does nothing: no one reads the answer as it comes.
func (r *answerRecorder) Flush() {}

// status is the answer's status (200 if the handler wrote nothing).
func (r *answerRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// replay sends the recorded answer to c: the answer of a detached handler
// that ended before starting work. An error not rendered yet is returned
// for echo to render.
func (r *answerRecorder) replay(c echo.Context, err error) error {
	if r.code == 0 && err != nil {
		return err
	}
	h := c.Response().Header()
	for k, v := range r.header {
		if k == echo.HeaderXRequestID {
			continue
		}
		h[k] = v
	}
	c.Response().WriteHeader(r.status())
	_, werr := c.Response().Write(r.body.Bytes())
	return werr
}
