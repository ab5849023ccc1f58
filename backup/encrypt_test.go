package backup

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ageFile encrypts payload to id's recipient, armored (as age -a writes)
// or not, after lead (white space an editor may have added).
func ageFile(t *testing.T, id *age.X25519Identity, payload []byte, armored bool, lead string) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(lead)
	var out io.Writer = &buf
	var a io.WriteCloser
	if armored {
		a = armor.NewWriter(&buf)
		out = a
	}
	w, err := age.Encrypt(out, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if a != nil {
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestPlain_ReadsBinaryAndArmoredAgeFiles: plain decrypts an age file,
// binary or armored (with leading white space, as the age CLI accepts);
// without a key it says the file is encrypted, and so does NewReader.
func TestPlain_ReadsBinaryAndArmoredAgeFiles(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("flowg backup bytes "), 10_000)
	for _, tt := range []struct {
		name    string
		armored bool
		lead    string
	}{
		{"binary", false, ""},
		{"armored", true, ""},
		{"armored after white space", true, "\n  \r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := ageFile(t, id, payload, tt.armored, tt.lead)
			r, _, err := plain(io.NopCloser(bytes.NewReader(file)), int64(len(file)), []age.Identity{id})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("decrypted %d bytes (%v), want the %d bytes encrypted", len(got), err, len(payload))
			}
			if _, _, err := plain(io.NopCloser(bytes.NewReader(file)), int64(len(file)), nil); !errors.Is(err, ErrEncrypted) {
				t.Fatalf("without a key: %v, want ErrEncrypted", err)
			}
			if _, err := NewReader(bytes.NewReader(file), ReadOptions{}); !errors.Is(err, ErrEncrypted) {
				t.Fatalf("NewReader: %v, want ErrEncrypted", err)
			}
		})
	}
}

// TestDBEntry_MatchDigest: a file matches its manifest entry by its stored
// digest, or by the digest of the flowg file inside once decrypted, so a
// set decrypted or encrypted with the age CLI since it was written matches.
func TestDBEntry_MatchDigest(t *testing.T) {
	plainSet := DBEntry{SHA256: "plain-digest"}
	encryptedSet := DBEntry{SHA256: "stored-digest", Encrypted: true, PlainSHA256: "plain-digest"}
	for _, tt := range []struct {
		name          string
		entry         DBEntry
		stored, plain string
		match         bool
	}{
		{"a plain set as written", plainSet, "plain-digest", "plain-digest", true},
		{"a plain set encrypted with age since", plainSet, "age-digest", "plain-digest", true},
		{"a plain set encrypted, not read", plainSet, "age-digest", "", false},
		{"an encrypted set as written", encryptedSet, "stored-digest", "plain-digest", true},
		{"an encrypted set decrypted with age -d", encryptedSet, "plain-digest", "plain-digest", true},
		{"an encrypted set re-encrypted to another key", encryptedSet, "other-digest", "plain-digest", true},
		{"another file", plainSet, "other", "other", false},
		{"another file in an encrypted set", encryptedSet, "other", "other", false},
		{"an encrypted set's stored digest is not its plain one", encryptedSet, "other", "stored-digest", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entry.MatchDigest(tt.stored, tt.plain)
			if tt.match && err != nil {
				t.Fatalf("want a match, got %v", err)
			}
			if !tt.match && !errors.Is(err, ErrChecksum) {
				t.Fatalf("want ErrChecksum, got %v", err)
			}
		})
	}
}
