package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// item is one checked line, ready to be written.
type item struct {
	kind    Kind
	db      kv.Name
	key     []byte
	val     []byte // nil for a user: see value
	expires uint64
	user    *auth.PortableUser
	name    string // what a person calls it; "" for a log record
	count   uint64 // of the end line: the item lines before it
}

// value returns what the item stores, given what is stored at its key
// (nil if nothing): a user without a hash keeps the stored one.
func (it item) value(existing []byte) ([]byte, error) {
	if it.user != nil {
		return auth.UserEntry(*it.user, existing)
	}
	return it.val, nil
}

// parseLine checks one line and returns the item it holds; d.ignored
// names the unknown fields a lenient decoder skipped in it.
func parseLine(d *lineDecoder, line []byte) (item, error) {
	d.ignored = d.ignored[:0]
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		return item{}, fmt.Errorf("%w: not a JSON object of the export schema: %w", ErrBadLine, err)
	}
	if env.V != Version {
		return item{}, fmt.Errorf("%w: \"v\" is %d, this flowg reads version %d: export the data again with a matching flowg", ErrVersion, env.V, Version)
	}
	var it item
	var err error
	switch env.Kind {
	case KindRole:
		it, err = parseRole(d, line)
	case KindUser:
		it, err = parseUser(d, line)
	case KindPipeline, KindTransformer, KindAlert:
		it, err = parseDocument(d, line, env.Kind)
	case KindStream:
		it, err = parseStream(d, line)
	case KindLog:
		it, err = parseLog(d, line)
	case KindEnd:
		var l EndLine
		err = d.decode(line, &l)
		it.count = l.Count
	default:
		return item{}, fmt.Errorf("%w: unknown kind %q: use role, user, pipeline, transformer, alert, log, stream or end", ErrBadLine, env.Kind)
	}
	if err != nil {
		if errors.Is(err, ErrBadLine) {
			return item{}, err
		}
		return item{}, fmt.Errorf("%w: %s: %w", ErrBadLine, env.Kind, err)
	}
	it.kind, it.db = env.Kind, env.Kind.Database()
	return it, nil
}

func parseRole(d *lineDecoder, line []byte) (item, error) {
	var l RoleLine
	if err := d.decode(line, &l); err != nil {
		return item{}, err
	}
	if l.Scopes == nil {
		return item{}, errors.New(`"scopes" is missing: give a list, [] for none`)
	}
	r := auth.Role{Name: l.Name}
	for _, s := range l.Scopes {
		r.Scopes = append(r.Scopes, auth.Scope(s))
	}
	key, val, err := auth.RoleEntry(r)
	return item{key: key, val: val, name: r.Name}, err
}

func parseUser(d *lineDecoder, line []byte) (item, error) {
	var l UserLine
	if err := d.decode(line, &l); err != nil {
		return item{}, err
	}
	if l.Created.IsZero() {
		return item{}, errors.New(`"created" is missing`)
	}
	if (l.PasswordHash == "") != (l.SessionsFrom == nil) {
		return item{}, errors.New(`"password_hash" and "sessions_from" go together: give both or neither`)
	}
	u := auth.PortableUser{Name: l.Name, Roles: l.Roles, Created: l.Created, PasswordHash: l.PasswordHash}
	if l.SessionsFrom != nil {
		u.SessionsFrom = *l.SessionsFrom
	}
	if err := auth.CheckPortableUser(u); err != nil {
		return item{}, err
	}
	return item{key: auth.UserKey(u.Name), user: &u, name: u.Name}, nil
}

func parseDocument(d *lineDecoder, line []byte, kind Kind) (item, error) {
	var l DocumentLine
	if err := d.decode(line, &l); err != nil {
		return item{}, err
	}
	var body []byte
	given := 0
	if l.JSON != nil {
		body, given = l.JSON, given+1
	}
	if l.Text != nil {
		body, given = []byte(*l.Text), given+1
	}
	if l.Base64 != nil {
		body, given = l.Base64, given+1
	}
	if given != 1 {
		return item{}, errors.New(`give the body in exactly one of "json", "text" or "base64"`)
	}
	if body == nil {
		body = []byte{}
	}
	dk := map[Kind]docs.Kind{KindPipeline: docs.KindPipeline, KindTransformer: docs.KindTransformer, KindAlert: docs.KindAlert}[kind]
	key, err := docs.Entry(dk, l.Name, body)
	return item{key: key, val: body, name: l.Name}, err
}

func parseStream(d *lineDecoder, line []byte) (item, error) {
	var l StreamLine
	if err := d.decode(line, &l); err != nil {
		return item{}, err
	}
	var cfg logstore.Config
	if l.TTL != "" {
		d, err := time.ParseDuration(l.TTL)
		if err != nil {
			return item{}, fmt.Errorf(`"ttl": %w`, err)
		}
		cfg.TTL = d
	}
	key, val, err := logstore.StreamConfigEntry(l.Name, cfg)
	return item{key: key, val: val, name: l.Name}, err
}

func parseLog(d *lineDecoder, line []byte) (item, error) {
	var l LogLine
	if err := d.decode(line, &l); err != nil {
		return item{}, err
	}
	if l.Time.IsZero() {
		return item{}, errors.New(`"time" is missing`)
	}
	if l.Fields == nil {
		return item{}, errors.New(`"fields" is missing: give an object, {} for none`)
	}
	seq, err := strconv.ParseUint(l.Seq, 10, 64)
	if err != nil {
		return item{}, fmt.Errorf(`"seq" %q: give the sequence number as a decimal string`, l.Seq)
	}
	rec := logstore.StoredRecord{Stream: l.Stream, Time: l.Time, Seq: seq, Fields: l.Fields}
	if l.ExpiresAt != nil {
		rec.ExpiresAt = *l.ExpiresAt
	}
	key, val, exp, err := rec.Entry()
	return item{key: key, val: val, expires: exp}, err
}
