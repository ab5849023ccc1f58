package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// serveFile sends f as http.ServeContent does (Range, If-Range, HEAD,
// conditional requests), except that the errors ServeContent answers
// itself in plain text (416 for a range outside the file, 412, 500) are
// answered as every other error, with a JSON body.
func serveFile(c echo.Context, name string, modTime time.Time, f io.ReadSeeker) error {
	w := &errorCatcher{ResponseWriter: c.Response()}
	http.ServeContent(w, c.Request(), name, modTime, f)
	if w.status == 0 {
		return nil
	}
	h := c.Response().Header()
	for _, k := range []string{echo.HeaderContentType, echo.HeaderContentDisposition, echo.HeaderContentLength, echo.HeaderContentEncoding} {
		h.Del(k)
	}
	switch w.status {
	case http.StatusRequestedRangeNotSatisfiable:
		size := strings.TrimPrefix(h.Get("Content-Range"), "bytes */")
		return &apiError{status: w.status, msg: fmt.Sprintf("the range asked for (%s) is not within the file, which is %s bytes", c.Request().Header.Get("Range"), size),
			hint: "the file is already complete if you were resuming it; otherwise ask for a range below its size, or download it whole without a Range header"}
	case http.StatusPreconditionFailed:
		return &apiError{status: w.status, msg: "the file does not match the request's If-Match or If-Unmodified-Since",
			hint: "the file changed since you last read it: download it again without those headers"}
	}
	return &apiError{status: w.status, msg: "the file could not be sent", cause: errors.New(strings.TrimSpace(w.body.String())),
		hint: "nothing was changed; retry, and if it persists see the server log for request " + requestID(c)}
}

// errorCatcher passes a response through until an error status is written;
// it then keeps that status and the body that follows instead of sending
// them, for the caller to answer.
type errorCatcher struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (w *errorCatcher) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorCatcher) Write(p []byte) (int, error) {
	if w.status != 0 {
		if w.body.Len() < 1024 {
			w.body.Write(p)
		}
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}
