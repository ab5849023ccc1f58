package drill

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// checkAll opens each restored database read-only and compares what it
// holds with the set's manifest:
// the key count, less the records that had expired by the restore; and,
// for a full set where none had, the content sum, which proves every key
// and value came back. Every database is checked; the errors are joined.
func checkAll(ctx context.Context, set backup.SetInfo, dirs kv.Dirs, tmp string, results map[kv.Name]backup.Result, rec *backup.DrillRecord) error {
	var errs []error
	for _, n := range kv.Names {
		db := rec.Databases[string(n)]
		err := checkOne(ctx, set.Databases[string(n)], n, dirs.Of(n), tmp, results[n], &db)
		if err != nil {
			db.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
		rec.Databases[string(n)] = db
	}
	return errors.Join(errs...)
}

func checkOne(ctx context.Context, entry backup.DBEntry, n kv.Name, dir, tmp string, res backup.Result, db *backup.DrillDatabase) error {
	snap, err := kv.OpenSnapshot(dir, tmp)
	if err != nil {
		return fmt.Errorf("reopen the restored database: %w", err)
	}
	defer snap.Close()
	_, got, err := backup.Dump(ctx, snap.DB, io.Discard, backup.DumpOptions{Database: string(n), Compression: backup.CompressionNone})
	if err != nil {
		return fmt.Errorf("read the restored database: %w", err)
	}
	db.Keys = got.Keys
	want := manifestKeys(entry) - min(res.Expired, manifestKeys(entry))
	if got.Keys != want {
		return fmt.Errorf("%w: the restored database holds %d keys, the manifest says %d (%d expired before the restore)",
			backup.ErrChecksum, got.Keys, manifestKeys(entry), res.Expired)
	}
	if entry.SinceTs != 0 || res.Expired != 0 || entry.Format == backup.FormatBadger || entry.ContentSum == "" {
		return nil // no sum to compare: an incremental file's covers its changes only
	}
	db.ContentChecked = true
	if got.ContentSum != entry.ContentSum {
		return fmt.Errorf("%w: the restored database's content sum differs from the manifest's", backup.ErrChecksum)
	}
	return nil
}
