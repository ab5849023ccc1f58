package auth_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// TestSecrets_AreNeverStoredInClear scans every key and value of an on-disk
// auth database, after closing and reopening it, for the passwords, the
// token secrets, the JWT handed out and the JWT signing key (which lives in
// its own file: a backup of the database must not be able to mint tokens).
func TestSecrets_AreNeverStoredInClear(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, kv.OpenOptions{})
	must(t, err)
	svc := auth.NewService(db, auth.Options{JWTKey: testJWTKey})
	_, rootPW, err := svc.Bootstrap("")
	must(t, err)
	must(t, svc.PutRole(auth.Role{Name: "reader", Scopes: []auth.Scope{auth.ScopeReadStreams}}))
	const bobPW = "bob-Very-Secret-Password-42"
	must(t, svc.PutUser("bob", bobPW, []string{"reader"}))
	_, tok1, err := svc.CreateToken(auth.LocalAdmin, "bob", nil, 0)
	must(t, err)
	id2, tok2, err := svc.CreateToken(auth.LocalAdmin, "root", []auth.Scope{auth.ScopeWriteStreams}, 0)
	must(t, err)
	must(t, svc.RevokeToken(auth.LocalAdmin, id2))
	jwt, err := svc.Login("bob", bobPW)
	must(t, err)
	must(t, db.Close())

	db, err = kv.Open(dir, kv.OpenOptions{ReadOnly: true})
	must(t, err)
	defer db.Close()

	secrets := []string{rootPW, bobPW, jwt, string(testJWTKey), hex.EncodeToString(testJWTKey)}
	for _, tok := range []string{tok1, tok2} {
		_, secret, _ := strings.Cut(tok, "_")
		raw, err := hex.DecodeString(secret)
		must(t, err)
		secrets = append(secrets, tok, secret, string(raw))
	}
	keys := 0
	must(t, db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys++
			item := it.Item()
			val, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if bytes.Contains(item.Key(), []byte(s)) || bytes.Contains(val, []byte(s)) {
					t.Errorf("key %q holds a secret in clear", item.Key())
				}
			}
		}
		return nil
	}))
	if keys < 6 {
		t.Fatalf("scanned %d keys, want at least 6 (roles, users, tokens, a revocation)", keys)
	}
	requireNoLegacyKey(t, db)
}
