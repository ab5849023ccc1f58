package backup

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Match checks a backup file against its manifest entry e: storedSHA256 is
// the SHA-256 of the file as stored (encrypted or not), got what Verify
// found in it. The digests (see MatchDigest), the key count and the
// content hash must all be the manifest's (see MatchContent). Of a raw
// Badger stream, which carries no key count or content hash, only the
// digests are compared: they are the one check such a file gets.
func (e DBEntry) Match(storedSHA256 string, got Summary) error {
	if err := e.MatchDigest(storedSHA256, got.SHA256); err != nil {
		return err
	}
	return e.MatchContent(got)
}

// MatchDigest checks a file's digests against its manifest entry e: stored
// is the SHA-256 of the file as it lies, plain that of the flowg file
// inside it once decrypted ("" when not known). The file matches when
// either is the manifest's: stored the one of the file as written, or
// plain the one of the flowg file written (PlainSHA256 of an encrypted
// set, SHA256 of a plain one). So a set whose files were decrypted with
// `age -d`, or encrypted with the age CLI, since it was written still
// verifies against its original manifest: the content is the same.
func (e DBEntry) MatchDigest(stored, plain string) error {
	if stored == e.SHA256 {
		return nil
	}
	want := e.SHA256
	if e.Encrypted {
		want = e.PlainSHA256
	}
	if plain != "" && plain == want {
		return nil
	}
	return fmt.Errorf("%w: SHA-256 %s differs from the manifest's %s", ErrChecksum, short(stored), short(e.SHA256))
}

// MatchFile checks the file at path against its manifest entry e by
// digest (see MatchDigest). When the file as stored is not the one written
// and is encrypted, it is decrypted with ids to compare the flowg file
// inside; without a key that opens it, the error wraps ErrEncrypted or
// ErrWrongKey, never ErrChecksum.
func (e DBEntry) MatchFile(ctx context.Context, path string, ids []age.Identity) error {
	stored, err := FileSHA256(path)
	if err != nil || stored == e.SHA256 {
		return err
	}
	how, err := FileEncryption(path)
	if err != nil {
		return err
	}
	plainSum := stored
	if how != EncryptionNone {
		if plainSum, err = plainSHA256(ctx, path, ids); err != nil {
			return err
		}
	}
	return e.MatchDigest(stored, plainSum)
}

// plainSHA256 is the SHA-256 of the file at path once decrypted with ids.
func plainSHA256(ctx context.Context, path string, ids []age.Identity) (string, error) {
	r, _, err := decrypting(FileOpener(path), ids)(ctx)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := newSHA256()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("%w: decrypt %s: %w", ErrCorrupt, path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MatchContent checks what Verify found in a flowg file (got) against its
// manifest entry e: the key count and, when e records one, the content
// hash. It returns an error wrapping ErrChecksum that says which differs,
// so a manifest edited by hand, or a file put in another's place, is
// caught even when the file itself is sound. Catalog.Verify and flowg
// admin verify of a backup directory both check with it. A raw Badger
// stream is not compared.
func (e DBEntry) MatchContent(got Summary) error {
	if e.Format == FormatBadger {
		return nil
	}
	switch {
	case got.Keys != e.Keys:
		return fmt.Errorf("%w: holds %d keys, the manifest says %d", ErrChecksum, got.Keys, e.Keys)
	case e.ContentSum != "" && got.ContentSum != e.ContentSum:
		return fmt.Errorf("%w: content hash %s differs from the manifest's %s", ErrChecksum, short(got.ContentSum), short(e.ContentSum))
	}
	return nil
}

// short is the first 12 characters of a hex digest, as the CLI prints them.
func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// reencrypted reports whether the file of entry in set id is stored
// otherwise than flowg wrote it: decrypted (age -d) or encrypted with the
// age CLI since, armored or not. Its size then differs from the manifest's
// with nothing wrong; its digests, which Verify checks, decide.
func (c *Catalog) reencrypted(ctx context.Context, id string, entry DBEntry) bool {
	r, _, err := c.store.open(ctx, id, entry.File)
	if err != nil {
		return false
	}
	defer r.Close()
	how := encryptionOf(bufio.NewReaderSize(r, maxArmorSpace+len(armor.Header)))
	return how == EncryptionAgeArmored || (how == EncryptionAge) != entry.Encrypted
}
