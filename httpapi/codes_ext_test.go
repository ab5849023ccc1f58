package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/flowg-backup/flowg/httpapi"
)

// code returns the "code" of an error answer.
func (r reply) code(t testing.TB) httpapi.Code {
	t.Helper()
	var body struct {
		Code httpapi.Code `json:"code"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("answer %s is not JSON: %v", r, err)
	}
	return body.Code
}
