package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// A merge writes into a live database batch after batch, so a merge cut
// short (Ctrl-C, SIGKILL, a crash, a full disk) leaves the database holding
// part of the backup. While a merge runs, a marker file beside the database
// directory says so: it is written and fsynced before the first record,
// and removed after the last. Whoever opens the database next (the server
// at start and in its metrics, `flowg admin restore`, `inspect`, `verify`)
// finds it and says so. Running the same restore again to its end removes
// it, as does a wipe restore (the undo), which replaces the database whole.

// markerSuffix names the marker of the database in dir: dir + markerSuffix.
const markerSuffix = ".restore-incomplete"

// IncompleteRestore is what a marker records of the merge that left it.
type IncompleteRestore struct {
	Database string    `json:"database"`
	Dir      string    `json:"dir"`
	Source   string    `json:"source"` // the file or set merged, as its caller named it
	SHA256   string    `json:"sha256"` // the file's SHA-256: the same restore clears the marker
	Started  time.Time `json:"started"`
	PID      int       `json:"pid"`
	Path     string    `json:"-"` // the marker file itself
}

// String says what the marker means, for a warning.
func (m IncompleteRestore) String() string {
	return fmt.Sprintf("the %s database at %s holds part of a backup: a merge restore of %s, started %s, did not finish (marker %s); "+
		"run that restore again to its end, or undo it with the safety copy it printed",
		m.Database, m.Dir, m.Source, m.Started.UTC().Format(time.RFC3339), m.Path)
}

// MarkerPath is the marker file of the database in dir.
func MarkerPath(dir string) string { return filepath.Clean(dir) + markerSuffix }

// FindIncomplete returns the marker of the database in dir, or nil if there
// is none.
func FindIncomplete(dir string) (*IncompleteRestore, error) {
	path := MarkerPath(dir)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	m := &IncompleteRestore{Dir: dir, Path: path}
	if err != nil {
		return m, fmt.Errorf("read restore marker: %w", err)
	}
	if err := json.Unmarshal(b, m); err != nil {
		// A marker cut short by a crash still says a merge began.
		m.Source = "an unknown backup (the marker is damaged)"
	}
	m.Path = path
	return m, nil
}

// ClearIncomplete removes the marker of the database in dir, if any: the
// database was replaced whole (a wipe restore).
func ClearIncomplete(dir string) error {
	path := MarkerPath(dir)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove restore marker: %w", err)
	}
	return kv.SyncDir(filepath.Dir(path))
}

// beginMerge writes the marker of a merge of m.Database into dir, durably,
// before its first record, and reports whether it did. A marker already
// there for another file is kept: the database still holds part of that
// one too.
func beginMerge(dir string, m IncompleteRestore) (bool, error) {
	if old, err := FindIncomplete(dir); err != nil || old != nil {
		return false, err
	}
	m.Dir, m.Started, m.PID = dir, time.Now().UTC(), os.Getpid()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return false, err
	}
	path := MarkerPath(dir)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return false, fmt.Errorf("write restore marker: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = kv.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("write restore marker: %w", err)
	}
	return true, nil
}

// EndMerge removes the marker after a merge of the file with sha256 ran to
// its end (or a merge rebuilt beside the database was swapped in); a
// marker of another file stays.
func EndMerge(dir, sha256 string) error {
	old, err := FindIncomplete(dir)
	if err != nil || old == nil {
		return err
	}
	if old.SHA256 != "" && old.SHA256 != sha256 {
		return nil
	}
	return ClearIncomplete(dir)
}

// IncompleteIn returns the markers of the databases in dirs.
func IncompleteIn(dirs ...string) []IncompleteRestore {
	var out []IncompleteRestore
	for _, dir := range dirs {
		if m, _ := FindIncomplete(dir); m != nil {
			out = append(out, *m)
		}
	}
	return out
}
