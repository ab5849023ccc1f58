package backup

import "fmt"

// Tests craft files record by record (odd sizes, chosen versions, defects)
// with Add; backups themselves are written by Dump, through the pipeline.

// Add appends one record. Only Key, Value, UserMeta, Version and ExpiresAt
// are kept. The slices may be reused by the caller once Add returns.
func (w *Writer) Add(key, value []byte, userMeta byte, version, expiresAt uint64) error {
	if w.inventory {
		return fmt.Errorf("record %q after the key list of an incremental backup", truncateKey(key))
	}
	if err := checkRecordSize(key, value); err != nil {
		return err
	}
	if w.cur.keys > 0 && len(w.cur.raw)+recordSize(key, value) > targetFrameRaw {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.cur.add(key, value, userMeta, version, expiresAt)
	return nil
}
