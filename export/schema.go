package export

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// Version is the schema version every line carries as "v". A reader refuses
// any other version: a line of a later flowg is not guessed at.
const Version = 1

// Kind says what one line holds.
type Kind string

// The kinds of line, in the order an export writes their databases.
const (
	KindRole        Kind = "role"        // auth: a role and its scopes
	KindUser        Kind = "user"        // auth: a user, never its tokens
	KindPipeline    Kind = "pipeline"    // config: a pipeline document
	KindTransformer Kind = "transformer" // config: a transformer document
	KindAlert       Kind = "alert"       // config: an alert document
	KindLog         Kind = "log"         // logs: one log record
	KindStream      Kind = "stream"      // logs: a stream's configuration (TTL)
	// KindEnd is the last line of every export: it is no item, it says
	// the file is whole (see EndLine).
	KindEnd Kind = "end"
)

// Kinds lists every kind.
var Kinds = []Kind{KindRole, KindUser, KindPipeline, KindTransformer, KindAlert, KindLog, KindStream}

// Database returns the database that holds items of kind k ("" if unknown).
func (k Kind) Database() kv.Name {
	switch k {
	case KindRole, KindUser:
		return kv.Auth
	case KindPipeline, KindTransformer, KindAlert:
		return kv.Config
	case KindLog, KindStream:
		return kv.Logs
	}
	return ""
}

// envelope holds the two fields every line has.
type envelope struct {
	V    int  `json:"v"`
	Kind Kind `json:"kind"`
}

// RoleLine: {"v":1,"kind":"role","name":"ops","scopes":["read_logs"]}.
type RoleLine struct {
	envelope
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// UserLine: {"v":1,"kind":"user","name":"ana","roles":["ops"],"created":T}.
// PasswordHash and SessionsFrom are present only in an export made with
// secrets (--include-secrets); imported without them, an existing user keeps
// its password, and a new one cannot log in until one is set.
type UserLine struct {
	envelope
	Name         string     `json:"name"`
	Roles        []string   `json:"roles"`
	Created      time.Time  `json:"created"`
	PasswordHash string     `json:"password_hash,omitempty"`
	SessionsFrom *time.Time `json:"sessions_from,omitempty"`
}

// DocumentLine is a pipeline, transformer or alert. Its body is exactly one
// of: "json", the document itself when it is compact JSON; "text", a UTF-8
// string; "base64", any other bytes. Each gives back the body byte for byte.
type DocumentLine struct {
	envelope
	Name   string          `json:"name"`
	JSON   json.RawMessage `json:"json,omitempty"`
	Text   *string         `json:"text,omitempty"`
	Base64 []byte          `json:"base64,omitempty"`
}

// StreamLine: {"v":1,"kind":"stream","name":"app","ttl":"720h"}; no "ttl"
// means the stream keeps its records forever.
type StreamLine struct {
	envelope
	Name string `json:"name"`
	TTL  string `json:"ttl,omitempty"`
}

// LogLine is one record: {"v":1,"kind":"log","stream":"app",
// "time":"2026-12-06T04:00:00.123456789Z","seq":"1765...","fields":{...},
// "expires_at":"2027-01-05T04:00:00Z"}. Seq is a decimal string (it does not
// fit the 53 bits tools such as jq keep of a number). ExpiresAt is absolute
// and absent for a record that never expires.
type LogLine struct {
	envelope
	Stream    string         `json:"stream"`
	Time      time.Time      `json:"time"`
	Seq       string         `json:"seq"`
	Fields    map[string]any `json:"fields"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
}

// EndLine is the last line of every export: {"v":1,"kind":"end","count":N},
// N the number of item lines before it. An import refuses a file without it
// (ErrIncomplete): a file cut at a line boundary, or an online export whose
// stream was cut, lacks it.
type EndLine struct {
	envelope
	Count uint64 `json:"count"`
}

// WriteEnd writes the end line of an export of count item lines to w.
func WriteEnd(w io.Writer, count uint64) error {
	b, err := json.Marshal(EndLine{envelope{Version, KindEnd}, count})
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write end line: %w", err)
	}
	return nil
}

// Total returns how many item lines the summary counts.
func (s Summary) Total() uint64 {
	var n uint64
	for _, c := range s.Lines {
		n += c
	}
	return n
}
