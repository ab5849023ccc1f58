package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// StoredFile is one backup file as it is stored: in a flat backup
// directory (DirFiles), given alone by path (LoneFile), or in a set of a
// catalog on disk or on S3 (Catalog.SetFiles). `flowg admin verify`,
// `admin inspect` and Catalog.Verify read every kind through Check.
type StoredFile struct {
	// Database is the database the file holds; "" for a lone file, whose
	// header says.
	Database string
	// Name is where the file is, as shown to a user: a path or a URL.
	Name string
	// Entry is the manifest entry that describes the file; nil when no
	// manifest does (a directory without one, a logs.db saved by hand).
	Entry *DBEntry
	open  Opener // the bytes as stored
	// hint is added to a difference from Entry: what may have caused it.
	hint string
}

// Check reads the file whole and reports its first defect: it decrypts the
// file with opts.Identities when it is encrypted, checks every checksum and
// loads it into a scratch database when opts.Load (see Verify), and then
// compares it with Entry (DBEntry.Match). Summary.FileBytes is the size of
// the file as stored. It writes nothing.
func (f StoredFile) Check(ctx context.Context, opts VerifyOptions) (Header, Summary, error) {
	stored, size, err := f.open(ctx)
	if err != nil {
		return Header{}, Summary{}, err
	}
	defer stored.Close()
	sum := &countingHash{w: io.Discard, h: newSHA256()}
	r, plainSize, err := plain(readCloser{io.TeeReader(stored, sum), stored}, size, opts.Identities)
	if err != nil {
		return Header{}, Summary{FileBytes: size}, err
	}
	if opts.Database == "" {
		opts.Database = f.Database
	}
	opts.Size = plainSize
	opts.ContentSum = opts.ContentSum || f.Entry != nil // Match compares it, with or without a load
	hdr, got, err := Verify(ctx, r, opts)
	if size > 0 {
		got.FileBytes = size
	}
	if err != nil {
		return hdr, got, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // the rest of an encrypted stream
		return hdr, got, err
	}
	if f.Entry != nil {
		if err := f.Entry.Match(hexSum(sum), got); err != nil {
			if f.hint != "" {
				err = fmt.Errorf("%w (%s)", err, f.hint)
			}
			return hdr, got, err
		}
	}
	return hdr, got, nil
}

// Encryption tells how the file is encrypted as stored, reading only its
// start: EncryptionAge, EncryptionAgeArmored or EncryptionNone.
func (f StoredFile) Encryption(ctx context.Context) (string, error) {
	r, _, err := f.open(ctx)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return encryptionOf(bufio.NewReaderSize(r, maxArmorSpace+len(armor.Header))), nil
}

// dirMismatchHint says why a file of a flat directory can differ from its
// manifest entry, and what to do.
const dirMismatchHint = "manifest.json was edited, or the file was damaged or another backup's put in its place after manifest.json was written; " +
	"if the files are the ones you want, move manifest.json aside to use them as they are"

// MatchFile compares path, database db's file in a flat directory whose
// manifest is m, with m's entry for it by digest, without reading its
// records: the check a restore makes before it reads the file. The file
// matches as stored, or by the flowg file inside it once decrypted with
// ids (DBEntry.MatchFile), so a directory decrypted or encrypted with the
// age CLI since it was written still matches. A file m does not describe
// passes. A difference wraps ErrChecksum and says what may have caused
// it; an encrypted file no key opens wraps ErrEncrypted or ErrWrongKey.
func (m Manifest) MatchFile(ctx context.Context, db, path string, ids []age.Identity) error {
	e, ok := m.Databases[db]
	if !ok || e.File != filepath.Base(path) {
		return nil // not described by this manifest (e.g. a logs.db saved by hand)
	}
	if err := e.MatchFile(ctx, path, ids); err != nil {
		if errors.Is(err, ErrChecksum) {
			return fmt.Errorf("%w (%s)", err, dirMismatchHint)
		}
		return err
	}
	return nil
}

// LoneFile is the backup file at path, given on its own: no manifest
// describes it.
func LoneFile(path string) StoredFile {
	return StoredFile{Name: path, open: FileOpener(path)}
}

// DirFiles returns every backup file of the flat directory dir, in the
// order of names (auth, config, logs): each file that may hold a database
// (log.db and logs.db both, see FoundFiles), with the entry of dir's
// manifest that describes it. A manifest that cannot be read is reported
// in warnings, and the files are then read without it. A directory that
// holds none of the files is an error wrapping ErrMissingFile.
func DirFiles(dir string, names []string) (files []StoredFile, warnings []string, err error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, noBackupDirError{dir}
	}
	m, err := ReadManifest(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		warnings = append(warnings, err.Error())
	}
	for _, db := range names {
		for _, path := range FoundFiles(dir, db) {
			f := StoredFile{Database: db, Name: path, open: FileOpener(path), hint: dirMismatchHint}
			if e, ok := m.Databases[db]; ok && e.File == filepath.Base(path) {
				f.Entry = &e
			}
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, warnings, fmt.Errorf("%w: %s holds no auth.db, config.db, log.db or logs.db", ErrMissingFile, dir)
	}
	return files, warnings, nil
}

// SetFiles returns the files of set id, in database order, each with the
// set manifest's entry.
func (c *Catalog) SetFiles(ctx context.Context, id string) ([]StoredFile, error) {
	info, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if info.Status != StatusComplete {
		return nil, fmt.Errorf("%w: set %s is %s: %s", ErrSetUnusable, id, info.Label, info.Problem)
	}
	var files []StoredFile
	for _, db := range sortedNames(info.Databases) {
		e := info.Databases[db]
		files = append(files, c.setFile(id, db, e))
	}
	return files, nil
}

// setFile is database db's file of set id, described by e.
func (c *Catalog) setFile(id, db string, e DBEntry) StoredFile {
	return StoredFile{
		Database: db,
		Name:     strings.TrimSuffix(c.Dir(), "/") + "/" + id + "/" + e.File,
		Entry:    &e,
		open:     func(ctx context.Context) (io.ReadCloser, int64, error) { return c.openCounted(ctx, id, e.File) },
	}
}

// NewestComplete returns the newest set whose run completed, whatever its
// label, never a pre_restore safety set (see Newest): what a command reads
// when no set is named. A catalog without one
// is an error wrapping ErrNoCompleteSet.
func (c *Catalog) NewestComplete(ctx context.Context) (SetInfo, error) {
	sets, err := c.List(ctx)
	if err != nil {
		return SetInfo{}, err
	}
	if s, ok := Newest(sets, func(s SetInfo) bool { return s.Status == StatusComplete }); ok {
		return s, nil
	}
	return SetInfo{}, fmt.Errorf("%w: %s holds no complete set (pre_restore safety sets are read only when named with --set)", ErrNoCompleteSet, c.Dir())
}
