package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowg-backup/flowg/kv"
)

// What restores leave behind when they are cut short (a crash, SIGKILL): a
// staged upload (for auth, a copy of its secrets), the scratch databases and
// files of a raw stream or an incremental chain, and a database being built
// beside its target for a wipe. ClaimStaging takes a staging directory for
// one server and removes those of its leftovers it can prove stale.

// stagingPrefixes start the names of what restores stage in a staging
// directory (see convertRaw, Catalog.Restorable, Verify, and the server's
// uploads).
var stagingPrefixes = []string{"flowg-upload-", "flowg-raw-", "flowg-converted-", "flowg-chain-", "flowg-verify-", "flowg-replay-"}

// ClaimStaging makes dir the staging directory of one process (created
// 0700, and locked as long as the process lives or until release), then
// removes what restores left there (by their names: they cannot be another
// process's, since the lock is ours) and, beside each database of dbDirs,
// the wipe restores' staging directories that no process holds. The caller
// must hold dbDirs (a server that opened them): no restore of its own runs
// yet. It returns what it removed. Another process holding dir is
// kv.ErrLocked.
func ClaimStaging(dir string, dbDirs ...string) (removed []string, release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create staging directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create staging directory: %w", err)
	}
	release, err = kv.LockDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("staging directory %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("read staging directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if !hasAnyPrefix(e.Name(), stagingPrefixes) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	for _, db := range dbDirs {
		stale, err := staleWipeStaging(db)
		errs = append(errs, err)
		removed = append(removed, stale...)
	}
	return removed, release, errors.Join(errs...)
}

// staleWipeStaging removes the <db>.restore-staging-* directories beside
// db that no process holds (a wipe that died before its swap).
func staleWipeStaging(db string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Clean(db) + ".restore-staging-*")
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, path := range matches {
		unlock, err := kv.LockDir(path)
		if err != nil {
			continue // held: a restore is building it
		}
		err = os.RemoveAll(path)
		unlock()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}

func hasAnyPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
