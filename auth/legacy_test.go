package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// legacyKey is what an old flowg stored at meta/jwt_secret, and so what an
// old backup of auth holds.
var legacyKey = []byte("legacy-key-from-an-old-backup-32")

// requireNoLegacyKey fails t if db holds meta/jwt_secret.
func requireNoLegacyKey(t testing.TB, db *badger.DB) {
	t.Helper()
	must(t, db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte("meta/jwt_secret"))
		if err == nil {
			t.Errorf("the auth database holds meta/jwt_secret")
			return nil
		}
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	}))
}

func writeLegacyKey(t testing.TB, db *badger.DB) {
	t.Helper()
	must(t, db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("meta/jwt_secret"), legacyKey) }))
}

func TestLogin_NeverWritesTheKeyToTheDatabase(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Login("alice", alicePassword); err != nil {
		t.Fatal(err)
	}
	requireNoLegacyKey(t, f.db)
}

func TestPurgeLegacySecrets_DeletesTheOldKeyAndNothingElse(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, kv.OpenOptions{})
	must(t, err)
	svc := auth.NewService(db, auth.Options{JWTKey: testJWTKey})
	_, _, err = svc.Bootstrap("root-pass")
	must(t, err)
	writeLegacyKey(t, db)

	deleted, err := auth.PurgeLegacySecrets(db)
	must(t, err)
	if !deleted {
		t.Fatal("PurgeLegacySecrets reported no legacy key, but meta/jwt_secret was there")
	}
	must(t, db.Close())
	db, err = kv.Open(dir, kv.OpenOptions{})
	must(t, err)
	defer db.Close()
	requireNoLegacyKey(t, db)
	svc = auth.NewService(db, auth.Options{JWTKey: testJWTKey})
	if _, err := svc.GetUser("root"); err != nil {
		t.Fatalf("the purge took user root too: %v", err)
	}
	deleted, err = auth.PurgeLegacySecrets(db)
	must(t, err)
	if deleted {
		t.Error("a second PurgeLegacySecrets reported a key again")
	}
}

func TestAuthenticate_NeverAdoptsALegacyKey(t *testing.T) {
	f := newFixture(t)
	writeLegacyKey(t, f.db)
	good, err := f.svc.Login("alice", alicePassword)
	must(t, err)
	var issued jwt.RegisteredClaims
	_, _, err = jwt.NewParser().ParseUnverified(good, &issued)
	must(t, err)
	// Everything an attacker holding an old backup could copy, signed with
	// the key found in it.
	now := f.clock.Now()
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: "flowg", Subject: "alice", ID: issued.ID,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}).SignedString(legacyKey)
	must(t, err)
	_, err = f.svc.Authenticate("Bearer jwt:" + forged)
	wantUnauthenticated(t, err, "bad signature", forged)
	if _, err := f.svc.Authenticate("Bearer jwt:" + good); err != nil {
		t.Fatalf("a JWT from Login refused: %v", err)
	}
}
