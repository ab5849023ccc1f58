package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestAdminVerifyAndInspect_EncryptedFilesNeedAKey: verify and inspect of
// an encrypted backup without a key say "encrypted: give --identity" and
// exit 3 (a key is needed), apart from 1 (failed) and 2 (usage); never
// "bad" nor "FAILED". With the key both read the files; with a wrong one
// they fail (exit 1).
func TestAdminVerifyAndInspect_EncryptedFilesNeedAKey(t *testing.T) {
	keys := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	identity, wrong := filepath.Join(keys, "identity"), filepath.Join(keys, "wrong")
	for path, key := range map[string]*age.X25519Identity{identity: id, wrong: other} {
		if err := os.WriteFile(path, []byte(key.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bk := filepath.Join(t.TempDir(), "backup")
	args := append([]string{"admin", "backup", "--backup-dir", bk, "--encrypt-to", id.Recipient().String()}, dbsWithKeys(t, 3)...)
	if r := runFlowg(t, "", args...); r.code != exitOK {
		t.Fatalf("backup: %s", r)
	}
	auth := filepath.Join(bk, "auth.db")

	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		output []string
	}{
		{"verify without a key", []string{"admin", "verify", "--backup-dir", bk}, exitNeedKey,
			[]string{"auth.db    encrypted: give --identity FILE", "flowg: verify needs a key: 3 of 3 files are encrypted"}},
		{"verify of a file without a key", []string{"admin", "verify", auth}, exitNeedKey,
			[]string{"auth.db    encrypted: give --identity FILE"}},
		{"inspect without a key", []string{"admin", "inspect", bk}, exitNeedKey,
			[]string{"encryption   age\n", "checksums    unchecked: encrypted: give --identity FILE"}},
		{"inspect --json without a key", []string{"admin", "inspect", auth, "--json"}, exitNeedKey,
			[]string{`"checksum": "unchecked"`, `"encryption": "age"`, `"error": "encrypted: give --identity FILE`}},
		{"verify with the key", []string{"admin", "verify", "--backup-dir", bk, "--identity", identity}, exitOK,
			[]string{"auth.db    ok", "all 3 files verified"}},
		{"inspect with the key", []string{"admin", "inspect", auth, "--identity", identity}, exitOK,
			[]string{"database     auth", "checksums    ok"}},
		{"verify with a wrong key", []string{"admin", "verify", "--backup-dir", bk, "--identity", wrong}, exitFailed,
			[]string{"no given identity decrypts"}},
		{"inspect with a wrong key", []string{"admin", "inspect", auth, "--identity", wrong}, exitFailed,
			[]string{"checksums    unchecked: no given identity decrypts"}},
		{"online restore of an encrypted file", []string{"restore", "--server", "http://127.0.0.1:1", "--token", "x", "--backup-dir", bk}, exitNeedKey,
			[]string{"flowg: restore needs a key", "nothing was sent", "decrypt it first (age -d -i KEYFILE", "flowg admin restore --identity KEYFILE"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			out := r.stdout + r.stderr
			if r.code != tt.code {
				t.Errorf("want exit %d, got\n%s", tt.code, r)
			}
			for _, want := range tt.output {
				if !strings.Contains(out, want) {
					t.Errorf("want %q in the output, got\n%s", want, r)
				}
			}
			if tt.code == exitNeedKey {
				for _, never := range []string{"FAILED", "bad", "checksum mismatch"} {
					if strings.Contains(out, never) {
						t.Errorf("without a key the output says %q of files it could not read:\n%s", never, r)
					}
				}
			}
		})
	}
}
