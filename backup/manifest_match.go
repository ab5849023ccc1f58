package backup

import "fmt"

// Match checks a backup file against its manifest entry e: storedSHA256 is
// the SHA-256 of the file as stored (encrypted or not, as e.SHA256 is),
// got what Verify found in it. The SHA-256, the key count and the content
// hash must all be the manifest's (see MatchContent). Of a raw Badger
// stream, which carries no key count or content hash, only the SHA-256 is
// compared: it is the one check such a file gets.
func (e DBEntry) Match(storedSHA256 string, got Summary) error {
	if storedSHA256 != e.SHA256 {
		return fmt.Errorf("%w: SHA-256 %s differs from the manifest's %s", ErrChecksum, short(storedSHA256), short(e.SHA256))
	}
	return e.MatchContent(got)
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
