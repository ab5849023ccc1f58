package auth_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testJWTKey is the signing key of the test services, as flowg serve reads
// it from --jwt-key-file.
var testJWTKey = []byte("flowg-test-jwt-key-32-bytes-long")

// openMemDB opens a scratch in-memory auth database closed with the test.
func openMemDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := kv.Open("", kv.OpenOptions{InMemory: true})
	if err != nil {
		t.Fatalf("open in-memory db: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// fixture is a service with root (admin), a "reader" role holding
// read_streams and read_acls, and user "alice" holding it, password
// "alice-pass".
type fixture struct {
	db    *badger.DB
	svc   *auth.Service
	clock *clock
}

const alicePassword = "alice-pass"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{db: openMemDB(t), clock: newClock()}
	f.svc = auth.NewService(f.db, auth.Options{Now: f.clock.Now, JWTTTL: time.Hour, JWTKey: testJWTKey})
	if _, _, err := f.svc.Bootstrap("root-pass"); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	must(t, f.svc.PutRole(auth.Role{Name: "reader", Scopes: []auth.Scope{auth.ScopeReadStreams, auth.ScopeReadACLs}}))
	must(t, f.svc.PutUser("alice", alicePassword, []string{"reader"}))
	return f
}

// jwtOf logs user in and returns the principal of its JWT.
func (f *fixture) jwtOf(t testing.TB, user, password string) auth.Principal {
	t.Helper()
	jwt, err := f.svc.Login(user, password)
	must(t, err)
	return f.principal(t, "Bearer jwt:"+jwt)
}

// principal authenticates an Authorization header.
func (f *fixture) principal(t testing.TB, header string) auth.Principal {
	t.Helper()
	p, err := f.svc.Authenticate(header)
	must(t, err)
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr fails the test unless err wraps want.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want one wrapping %v", err, want)
	}
}

// wantUnauthenticated fails unless err wraps ErrUnauthenticated, mentions
// reason and does not contain secret.
func wantUnauthenticated(t testing.TB, err error, reason, secret string) {
	t.Helper()
	wantErr(t, err, auth.ErrUnauthenticated)
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error = %q, want it to mention %q", err, reason)
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the credential", err)
	}
}
