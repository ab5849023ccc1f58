package export

import (
	"fmt"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// SizeGuard is the Guard both doors give an import: the file's size (its
// records take about as much once written) must be within maxBytes (0: no
// limit; backup.ErrTooLarge) and fit, with a restore's margin, on the disk
// of each database it writes (backup.ErrNoSpace). It runs before anything
// is held or written.
func SizeGuard(dirs kv.Dirs, maxBytes uint64) func(names []kv.Name, fileBytes uint64) error {
	return func(names []kv.Name, fileBytes uint64) error {
		for _, n := range names {
			if err := (backup.SizeGuard{MaxBytes: maxBytes, Dir: dirs.Of(n)}).Check(fileBytes); err != nil {
				return fmt.Errorf("the %s database: %w", n, err)
			}
		}
		return nil
	}
}
