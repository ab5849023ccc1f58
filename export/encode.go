package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// Options choose what an export writes.
type Options struct {
	// Streams, when set, keeps only the log records and stream
	// configurations of streams matching one of these path.Match patterns.
	Streams []string
	// Since and Until, when set, keep only log records with Since <= time <
	// Until. Stream configurations and the other databases are unaffected.
	Since, Until time.Time
	// IncludeSecrets writes users' password hashes (and the start of their
	// sessions). Never set over HTTP.
	IncludeSecrets bool
	// Now decides which records of a backup file already expired (left
	// out, as Badger no longer shows them in a live database); zero means
	// time.Now.
	Now time.Time
}

// CheckStreams returns an error naming the first malformed pattern.
func CheckStreams(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("stream pattern %q: %w", p, err)
		}
	}
	return nil
}

// keepStream reports whether stream passes the Streams filter.
func (o Options) keepStream(stream string) bool {
	if len(o.Streams) == 0 {
		return true
	}
	for _, p := range o.Streams {
		if ok, _ := path.Match(p, stream); ok {
			return true
		}
	}
	return false
}

// keepTime reports whether a record at t passes Since and Until.
func (o Options) keepTime(t time.Time) bool {
	return (o.Since.IsZero() || !t.Before(o.Since)) && (o.Until.IsZero() || t.Before(o.Until))
}

// Summary counts what an export wrote.
type Summary struct {
	// Lines counts the lines written per kind.
	Lines map[Kind]uint64 `json:"lines"`
	// Skipped counts keys that are no item of the schema (tokens,
	// revocations, keys of unknown form); they are never exported.
	Skipped uint64 `json:"skipped_keys"`
	// Bytes is the size of what was written.
	Bytes int64 `json:"bytes"`
}

// lineWriter encodes lines, one JSON object each, without HTML escaping so
// that documents and fields read as they were written.
type lineWriter struct {
	out  *bufio.Writer
	cw   *countWriter
	enc  *json.Encoder
	opts Options
	sum  Summary
}

func newLineWriter(w io.Writer, opts Options) *lineWriter {
	cw := &countWriter{w: w}
	out := bufio.NewWriterSize(cw, 64<<10)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	return &lineWriter{out: out, cw: cw, enc: enc, opts: opts, sum: Summary{Lines: map[Kind]uint64{}}}
}

func (w *lineWriter) write(kind Kind, line any) error {
	if err := w.enc.Encode(line); err != nil {
		return fmt.Errorf("write %s line: %w", kind, err)
	}
	w.sum.Lines[kind]++
	return nil
}

// finish flushes what is buffered and returns the summary.
func (w *lineWriter) finish() (Summary, error) {
	err := w.out.Flush()
	w.sum.Bytes = w.cw.n
	return w.sum, err
}

// entry writes the line of one raw entry of database db, if it is an item
// the options keep.
func (w *lineWriter) entry(db kv.Name, key, val []byte, expires uint64) error {
	var err error
	var ok bool
	switch db {
	case kv.Auth:
		ok, err = w.authEntry(key, val)
	case kv.Config:
		ok, err = w.configEntry(key, val)
	case kv.Logs:
		ok, err = w.logsEntry(key, val, expires)
	}
	if err == nil && !ok {
		w.sum.Skipped++
	}
	return err
}

func (w *lineWriter) authEntry(key, val []byte) (bool, error) {
	item, ok, err := auth.DecodeEntry(key, val)
	if err != nil || !ok {
		return ok, err
	}
	switch v := item.(type) {
	case auth.Role:
		scopes := make([]string, 0, len(v.Scopes))
		for _, s := range v.Scopes {
			scopes = append(scopes, string(s))
		}
		return true, w.write(KindRole, RoleLine{envelope{Version, KindRole}, v.Name, scopes})
	case auth.PortableUser:
		line := UserLine{envelope: envelope{Version, KindUser}, Name: v.Name, Roles: v.Roles, Created: v.Created}
		if line.Roles == nil {
			line.Roles = []string{}
		}
		if w.opts.IncludeSecrets && v.PasswordHash != "" {
			from := v.SessionsFrom
			line.PasswordHash, line.SessionsFrom = v.PasswordHash, &from
		}
		return true, w.write(KindUser, line)
	}
	return false, nil
}

func (w *lineWriter) configEntry(key, val []byte) (bool, error) {
	kind, name, ok := docs.ParseKey(key)
	if !ok {
		return false, nil
	}
	k := docKinds[kind]
	line := DocumentLine{envelope: envelope{Version, k}, Name: name}
	switch {
	case len(val) > 0 && json.Valid(val) && isCompact(val):
		line.JSON = json.RawMessage(val)
	case utf8.Valid(val):
		text := string(val)
		line.Text = &text
	default:
		line.Base64 = val
	}
	return true, w.write(k, line)
}

// docKinds maps the config database's kinds to line kinds.
var docKinds = map[docs.Kind]Kind{docs.KindPipeline: KindPipeline, docs.KindTransformer: KindTransformer, docs.KindAlert: KindAlert}

// isCompact reports whether valid JSON b is already compact (and so comes
// back byte for byte from a line, which holds it compact).
func isCompact(b []byte) bool {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return false
	}
	return bytes.Equal(buf.Bytes(), b)
}

func (w *lineWriter) logsEntry(key, val []byte, expires uint64) (bool, error) {
	if stream, cfg, ok, err := logstore.ParseStreamConfig(key, val); err != nil || ok {
		if err != nil || !w.opts.keepStream(stream) {
			return true, err
		}
		line := StreamLine{envelope: envelope{Version, KindStream}, Name: stream}
		line.TTL = logstore.FormatTTL(cfg.TTL)
		return true, w.write(KindStream, line)
	}
	rec, ok, err := logstore.ParseRecord(key, val, expires)
	if err != nil || !ok {
		return ok, err
	}
	if !w.opts.keepStream(rec.Stream) || !w.opts.keepTime(rec.Time) {
		return true, nil
	}
	if !rec.ExpiresAt.IsZero() && !rec.ExpiresAt.After(w.opts.Now) {
		return true, nil // expired: Badger no longer shows it either
	}
	line := LogLine{envelope: envelope{Version, KindLog}, Stream: rec.Stream, Time: rec.Time,
		Seq: strconv.FormatUint(rec.Seq, 10), Fields: rec.Fields}
	if !rec.ExpiresAt.IsZero() {
		line.ExpiresAt = &rec.ExpiresAt
	}
	return true, w.write(KindLog, line)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
