package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// generatorVersion changes whenever the generated data changes, so a dataset
// made by an older harness is rebuilt instead of reused.
const generatorVersion = 1

// markerName is the file that describes a finished dataset; it is written
// last, so an interrupted generation is never reused.
const markerName = "dataset.json"

// minTTLLeft is how long the TTL'd records must still live for a dataset to
// be reused: they expire a day after generation, and a backup leaves expired
// records out.
const minTTLLeft = 12 * time.Hour

// datasetBase is the time of the first record, and its nanoseconds the first
// sequence number (the log store starts its sequence at the wall clock).
var datasetBase = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// dataset describes a generated logs database.
type dataset struct {
	Generator    int       `json:"generator"`
	Records      int       `json:"records"`
	Seed         uint64    `json:"seed"`
	Streams      int       `json:"streams"`
	Keys         uint64    `json:"keys"` // records plus one config key per stream
	TTLRecords   uint64    `json:"ttl_records"`
	LogicalBytes uint64    `json:"logical_bytes"` // keys plus values
	DiskBytes    int64     `json:"disk_bytes"`
	GeneratedAt  time.Time `json:"generated_at"`
	ExpiresAt    time.Time `json:"expires_at"` // of the TTL'd records
	BuildSeconds float64   `json:"build_seconds"`
	Dir          string    `json:"dir"`
}

// ensureDataset returns the dataset of records and seed under work, building
// it unless a finished one with the same parameters is there.
func ensureDataset(work string, records int, seed uint64, progress io.Writer) (dataset, error) {
	root := filepath.Join(work, fmt.Sprintf("dataset-%d-seed%d", records, seed))
	dir := filepath.Join(root, "logs")
	if ds, ok, why := reusable(root, dir, records, seed); ok {
		fmt.Fprintf(progress, "dataset: reusing %s (%d records, %s of keys and values, %s on disk)\n",
			dir, ds.Records, mib(int64(ds.LogicalBytes)), mib(ds.DiskBytes))
		return ds, nil
	} else if why != "" {
		fmt.Fprintf(progress, "dataset: rebuilding %s: %s\n", dir, why)
	}
	if err := os.RemoveAll(root); err != nil {
		return dataset{}, fmt.Errorf("remove old dataset: %w", err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return dataset{}, fmt.Errorf("create dataset directory: %w", err)
	}
	fmt.Fprintf(progress, "dataset: generating %d records into %s ...\n", records, dir)
	ds, err := generate(dir, records, seed)
	if err != nil {
		return dataset{}, err
	}
	body, err := json.MarshalIndent(ds, "", "  ")
	if err != nil {
		return dataset{}, err
	}
	if err := os.WriteFile(filepath.Join(root, markerName), append(body, '\n'), 0o600); err != nil {
		return dataset{}, fmt.Errorf("write dataset marker: %w", err)
	}
	fmt.Fprintf(progress, "dataset: %d keys, %s of keys and values, %s on disk, built in %.1f s\n",
		ds.Keys, mib(int64(ds.LogicalBytes)), mib(ds.DiskBytes), ds.BuildSeconds)
	return ds, nil
}

// reusable reports whether root holds a finished dataset of records and seed
// whose TTL'd records still live long enough; why says what is wrong with one
// that is there but cannot be reused.
func reusable(root, dir string, records int, seed uint64) (dataset, bool, string) {
	body, err := os.ReadFile(filepath.Join(root, markerName))
	if errors.Is(err, os.ErrNotExist) {
		return dataset{}, false, ""
	}
	if err != nil {
		return dataset{}, false, err.Error()
	}
	var ds dataset
	if err := json.Unmarshal(body, &ds); err != nil {
		return dataset{}, false, "unreadable marker: " + err.Error()
	}
	switch {
	case ds.Generator != generatorVersion:
		return ds, false, fmt.Sprintf("made by generator %d, this is %d", ds.Generator, generatorVersion)
	case ds.Records != records || ds.Seed != seed:
		return ds, false, "parameters differ"
	case time.Until(ds.ExpiresAt) < minTTLLeft:
		return ds, false, fmt.Sprintf("its TTL'd records expire at %s", ds.ExpiresAt.Format(time.RFC3339))
	case !kv.Exists(dir):
		return ds, false, "the database is missing"
	}
	ds.Dir = dir
	return ds, true, ""
}

// generate writes records log records into a new logs database in dir, the
// way the log store writes them, and closes it.
func generate(dir string, records int, seed uint64) (dataset, error) {
	start := time.Now()
	ds := dataset{Generator: generatorVersion, Records: records, Seed: seed, GeneratedAt: start.UTC(), Dir: dir}
	ds.ExpiresAt = start.Add(24 * time.Hour).Truncate(time.Second).UTC()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		return ds, err
	}
	g := newGenerator(seed, records)
	ds.Streams = len(g.streams)
	wb := db.NewWriteBatch()
	put := func(key, value []byte, expiresAt uint64) error {
		e := badger.NewEntry(key, value)
		e.ExpiresAt = expiresAt
		ds.Keys++
		ds.LogicalBytes += uint64(len(key) + len(value))
		return wb.SetEntry(e)
	}
	err = func() error {
		for _, s := range g.streams {
			if err := put([]byte("stream/"+s.name), s.config, 0); err != nil {
				return err
			}
		}
		for range records {
			key, value, ttl := g.next()
			var exp uint64
			if ttl {
				exp = uint64(ds.ExpiresAt.Unix())
				ds.TTLRecords++
			}
			if err := put(key, value, exp); err != nil {
				return err
			}
		}
		return wb.Flush()
	}()
	wb.Cancel()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ds, fmt.Errorf("generate dataset: %w", err)
	}
	ds.DiskBytes = dirSize(dir)
	ds.BuildSeconds = time.Since(start).Seconds()
	return ds, nil
}

// stream is one generated log stream.
type stream struct {
	name    string
	ttl     bool
	config  []byte   // the stored stream configuration
	hosts   []string // pods emitting the stream
	service string
}

// generator makes the records of a dataset; the same seed and size always
// give the same keys and values.
type generator struct {
	r       *rand.Rand
	streams []stream
	ts      int64   // unix nanoseconds of the last record
	gap     float64 // mean nanoseconds between records
	seq     uint64
}

func newGenerator(seed uint64, records int) *generator {
	g := &generator{
		r:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		ts:  datasetBase.UnixNano(),
		seq: uint64(datasetBase.UnixNano()),
		gap: float64(24*time.Hour) / float64(records), // a day of logs, whatever the size
	}
	for i, name := range streamNames {
		s := stream{name: name, service: name, ttl: i%2 == 0, config: []byte("{}")}
		if s.ttl {
			s.config = []byte(`{"ttl":"24h"}`)
		}
		for range 6 {
			s.hosts = append(s.hosts, fmt.Sprintf("%s-%s-%s", name, g.token(hexDigits, 10), g.token(alnum, 5)))
		}
		g.streams = append(g.streams, s)
	}
	return g
}

// next returns the key and value of the next record and whether its stream
// has a TTL. Records are in time order across streams, as ingest writes them.
func (g *generator) next() (key, value []byte, ttl bool) {
	g.ts += int64(g.r.ExpFloat64()*g.gap) + 1
	g.seq++
	s := &g.streams[g.r.IntN(len(g.streams))]
	key = make([]byte, 0, len("log/")+len(s.name)+1+16)
	key = append(key, "log/"...)
	key = append(key, s.name...)
	key = append(key, '/')
	key = binary.BigEndian.AppendUint64(key, uint64(g.ts))
	key = binary.BigEndian.AppendUint64(key, g.seq)
	return key, g.value(s), s.ttl
}

// value returns a record as the log store stores it: one JSON object with
// the client's fields and "timestamp", keys in sorted order.
func (g *generator) value(s *stream) []byte {
	v := make([]byte, 0, 320)
	v = append(v, `{"host":"`...)
	v = append(v, s.hosts[g.r.IntN(len(s.hosts))]...)
	v = append(v, `","latency_ms":`...)
	latency := math.Exp(g.r.NormFloat64()*1.1 + 3)
	v = strconv.AppendFloat(v, math.Round(latency*1000)/1000, 'f', -1, 64)
	v = append(v, `,"level":"`...)
	v = append(v, g.level()...)
	v = append(v, `","message":"`...)
	v = g.message(v)
	v = append(v, `","request_id":"`...)
	v = g.uuid(v)
	v = append(v, `","service":"`...)
	v = append(v, s.service...)
	v = append(v, `","timestamp":"`...)
	v = time.Unix(0, g.ts).UTC().AppendFormat(v, time.RFC3339Nano)
	return append(v, `"}`...)
}

func (g *generator) level() string {
	switch n := g.r.IntN(100); {
	case n < 70:
		return "info"
	case n < 85:
		return "debug"
	case n < 95:
		return "warn"
	}
	return "error"
}

// message appends a log message: half access lines, half sentences of
// varied words with an id or a count here and there.
func (g *generator) message(v []byte) []byte {
	if g.r.IntN(2) == 0 {
		v = append(v, httpMethods[g.r.IntN(len(httpMethods))]...)
		v = append(v, " /api/v1/"...)
		v = append(v, resources[g.r.IntN(len(resources))]...)
		v = append(v, '/')
		v = strconv.AppendInt(v, int64(g.r.IntN(1_000_000)), 10)
		if g.r.IntN(3) == 0 {
			v = append(v, '/')
			v = append(v, resources[g.r.IntN(len(resources))]...)
		}
		v = append(v, " status "...)
		v = strconv.AppendInt(v, int64(statuses[g.r.IntN(len(statuses))]), 10)
		v = append(v, " in "...)
		v = strconv.AppendInt(v, int64(g.r.IntN(900)+1), 10)
		v = append(v, "ms from "...)
		v = append(v, clients[g.r.IntN(len(clients))]...)
		return v
	}
	n := 5 + g.r.IntN(4)
	for i := range n {
		if i > 0 {
			v = append(v, ' ')
		}
		switch g.r.IntN(12) {
		case 0:
			v = append(v, "user="...)
			v = strconv.AppendInt(v, int64(g.r.IntN(100_000)), 10)
		case 1:
			v = strconv.AppendInt(v, int64(g.r.IntN(10_000)), 10)
		default:
			v = append(v, words[g.r.IntN(len(words))]...)
		}
	}
	return v
}

// uuid appends a random version-4 UUID.
func (g *generator) uuid(v []byte) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.r.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			v = append(v, '-')
		}
		v = append(v, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return v
}

func (g *generator) token(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	hexDigits = "0123456789abcdef"
	alnum     = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// streamNames are the generated streams; every other one has a 24h TTL.
var streamNames = []string{"api-gateway", "auth", "billing", "checkout", "inventory", "notifications", "search", "web"}

var (
	httpMethods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH"}
	resources   = []string{"orders", "users", "carts", "products", "invoices", "sessions", "payments", "shipments", "reviews", "coupons", "accounts", "items"}
	statuses    = []int{200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 429, 500, 502, 503}
	clients     = []string{"10.0.3.17", "10.0.4.201", "10.0.7.9", "10.0.12.88", "172.16.2.41", "172.16.9.130", "192.168.1.23"}
	words       = []string{
		"request", "response", "handler", "started", "finished", "failed", "retrying", "connection", "timeout", "cache",
		"miss", "hit", "database", "query", "slow", "transaction", "committed", "rolled", "back", "worker",
		"queue", "job", "scheduled", "dequeued", "processed", "payload", "invalid", "validated", "token", "expired",
		"refreshed", "session", "created", "deleted", "updated", "user", "account", "order", "payment", "declined",
		"authorized", "captured", "refund", "issued", "shipment", "dispatched", "delivered", "inventory", "reserved", "released",
		"stock", "low", "threshold", "exceeded", "rate", "limit", "applied", "client", "upstream", "downstream",
		"service", "unavailable", "circuit", "breaker", "opened", "closed", "half-open", "health", "check", "passed",
		"latency", "p99", "spike", "detected", "memory", "pressure", "garbage", "collection", "pause", "goroutine",
		"leak", "suspected", "config", "reloaded", "feature", "flag", "enabled", "disabled", "tenant", "region",
		"eu-west-1", "us-east-2", "replica", "lag", "leader", "elected", "follower", "snapshot", "compaction", "flushed",
		"batch", "of", "records", "written", "to", "from", "the", "for", "with", "after",
		"while", "during", "because", "on", "in", "at", "by", "new", "old", "unexpected",
		"error", "warning", "notice", "retry", "attempt", "giving", "up", "skipping", "duplicate", "event",
		"webhook", "delivered", "signature", "mismatch", "email", "sent", "sms", "push", "notification", "template",
		"rendered", "search", "index", "rebuilt", "shard", "merged", "document", "not", "found", "permission",
		"denied", "role", "granted", "password", "reset", "login", "logout", "mfa", "challenge", "succeeded",
	}
)

// dirSize is the total size of the regular files in dir.
func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
