package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// maxJSONBody bounds the JSON body of every request but log ingestion.
const maxJSONBody = 1 << 20

// decodeJSON decodes the request body, at most limit bytes of one JSON
// value with no unknown field, into v. example is a valid body, shown in the
// hint when the body is refused.
func decodeJSON(c echo.Context, v any, limit int64, example string) error {
	body := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	hint := "send Content-Type: application/json and a body like " + example
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return &apiError{status: http.StatusRequestEntityTooLarge,
				msg:  fmt.Sprintf("the request body is over the %d-byte limit", limit),
				hint: "send less at once; nothing was written"}
		case errors.Is(err, io.EOF):
			return badRequest("the request body is empty", hint)
		}
		return badRequest("the request body is not valid JSON for this route: "+err.Error(), hint)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the request body holds more than one JSON value", hint)
	}
	return nil
}

// jsonSerializer is echo's JSON serializer without HTML escaping, so hints
// such as "Bearer pat:<token>" read as written.
type jsonSerializer struct{}

func (jsonSerializer) Serialize(c echo.Context, v any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(v)
}

func (jsonSerializer) Deserialize(c echo.Context, v any) error {
	return json.NewDecoder(c.Request().Body).Decode(v)
}
