package backup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ageMagic starts every age-encrypted file; an armored one (`age -a`)
// starts with armor.Header instead, after at most maxArmorSpace bytes of
// white space, as the age CLI reads it.
const (
	ageMagic      = "age-encryption.org/v1"
	maxArmorSpace = 1024
)

// Encryption of a backup file as stored.
const (
	EncryptionNone       = ""
	EncryptionAgeArmored = "age-armored" // `age -a`: PEM-style text
)

// encryptionOf tells how the file br starts is encrypted, peeking only:
// EncryptionAge, EncryptionAgeArmored or EncryptionNone.
func encryptionOf(br *bufio.Reader) string {
	lead, _ := br.Peek(len(ageMagic))
	if bytes.Equal(lead, []byte(ageMagic)) {
		return EncryptionAge
	}
	lead, _ = br.Peek(maxArmorSpace + len(armor.Header))
	if bytes.HasPrefix(bytes.TrimSpace(lead), []byte(armor.Header)) {
		return EncryptionAgeArmored
	}
	return EncryptionNone
}

// errEncrypted is the door-neutral error of an encrypted file read without
// a key: each door says how to give one.
func errEncrypted(how string) error {
	return fmt.Errorf("%w (%s): only the identity or passphrase it was encrypted to opens it", ErrEncrypted, how)
}

// FileEncryption tells how the file at path is encrypted as stored:
// EncryptionAge, EncryptionAgeArmored or EncryptionNone.
func FileEncryption(path string) (string, error) {
	f, _, err := openFile(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return encryptionOf(bufio.NewReaderSize(f, maxArmorSpace+len(armor.Header))), nil
}

// Errors of encrypted backups.
var (
	// ErrEncrypted is returned when a file is encrypted and no identity to
	// decrypt it was given.
	ErrEncrypted = errors.New("backup file is encrypted")
	// ErrWrongKey is returned when none of the given identities decrypts a file.
	ErrWrongKey = errors.New("no given identity decrypts the backup file")
)

// Keys encrypt backup files at rest with age and decrypt them again.
// Recipients encrypt (a set is readable by any of them); Identities decrypt.
type Keys struct {
	Recipients []age.Recipient
	Identities []age.Identity
}

// Encrypts reports whether files written with k are encrypted.
func (k Keys) Encrypts() bool { return len(k.Recipients) > 0 }

// ParseRecipients parses age public keys ("age1...").
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, key := range keys {
		r, err := age.ParseX25519Recipient(strings.TrimSpace(key))
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w (expected an age public key, age1...)", key, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// PassphraseKeys reads a passphrase from the first line of path and
// returns keys that encrypt and decrypt with it (age's scrypt mode).
func PassphraseKeys(path string) (Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, fmt.Errorf("read passphrase file: %w", err)
	}
	pass, _, _ := strings.Cut(string(b), "\n")
	pass = strings.TrimRight(pass, "\r")
	if pass == "" {
		return Keys{}, fmt.Errorf("passphrase file %s is empty", path)
	}
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return Keys{}, fmt.Errorf("passphrase: %w", err)
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return Keys{}, fmt.Errorf("passphrase: %w", err)
	}
	return Keys{Recipients: []age.Recipient{r}, Identities: []age.Identity{id}}, nil
}

// LoadIdentities reads age identities (AGE-SECRET-KEY-1... lines, as
// age-keygen writes them) from path.
func LoadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read identity file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	return ids, nil
}

// plain wraps a file reader so that an age-encrypted file, binary or
// armored, is decrypted with ids; any other file passes through unchanged.
// The plain size is unknown (0) for an encrypted file.
func plain(r io.ReadCloser, size int64, ids []age.Identity) (io.ReadCloser, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	how := encryptionOf(br)
	if how == EncryptionNone {
		return readCloser{br, r}, size, nil
	}
	if len(ids) == 0 {
		r.Close()
		return nil, 0, errEncrypted(how)
	}
	var in io.Reader = br
	if how == EncryptionAgeArmored {
		in = armor.NewReader(br)
	}
	dec, err := age.Decrypt(in, ids...)
	if err != nil {
		r.Close()
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, 0, fmt.Errorf("%w: %w", ErrWrongKey, err)
		}
		return nil, 0, fmt.Errorf("%w: age header: %w", ErrCorrupt, err)
	}
	return readCloser{dec, r}, 0, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// decrypting returns an Opener that decrypts what open gives with ids.
func decrypting(open Opener, ids []age.Identity) Opener {
	return func(ctx context.Context) (io.ReadCloser, int64, error) {
		r, size, err := open(ctx)
		if err != nil {
			return nil, 0, err
		}
		return plain(r, size, ids)
	}
}

// encrypting wraps w so what is written is encrypted to keys' recipients;
// the returned close finishes the encryption (not w). Without recipients w
// is returned as is.
func encrypting(w io.Writer, keys Keys) (io.Writer, func() error, error) {
	if !keys.Encrypts() {
		return w, func() error { return nil }, nil
	}
	enc, err := age.Encrypt(w, keys.Recipients...)
	if err != nil {
		return nil, nil, fmt.Errorf("start encryption: %w", err)
	}
	return enc, enc.Close, nil
}
