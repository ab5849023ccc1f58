package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
)

// operationsDir is the folder of a catalog holding the history of the
// backups, verifications and restores run against it (package operations
// writes it): not a set id, so listing sets never sees it.
const operationsDir = "operations"

// operationRecordLimit bounds the size of an operation record read back.
const operationRecordLimit = 1 << 20

// ErrNoOperationRecords is returned by a catalog that cannot keep operation
// records.
var ErrNoOperationRecords = errors.New("this catalog cannot keep operation records")

// operationName is the shape of a record's name: a few safe characters,
// ".json", never a path.
var operationName = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,80}\.json$`)

func (c *Catalog) operationStore(name string) (recordStore, error) {
	st, ok := c.store.(recordStore)
	if !ok {
		return nil, fmt.Errorf("%s: %w", c.store, ErrNoOperationRecords)
	}
	if name != "" && !operationName.MatchString(name) {
		return nil, fmt.Errorf("operation record %q: not a record name", name)
	}
	return st, nil
}

// PutOperation writes (or replaces) the operation record name
// (operations/<name>, a 0600 file or one object) with body.
func (c *Catalog) PutOperation(ctx context.Context, name string, body []byte) error {
	st, err := c.operationStore(name)
	if err != nil {
		return err
	}
	if err := st.putRecord(ctx, operationsDir, name, body); err != nil {
		return fmt.Errorf("write operation record %s in %s: %w", name, c.store, err)
	}
	return nil
}

// OperationNames lists the names of the operation records, in no order.
func (c *Catalog) OperationNames(ctx context.Context) ([]string, error) {
	st, err := c.operationStore("")
	if err != nil {
		return nil, err
	}
	names, err := st.recordNames(ctx, operationsDir, operationName.MatchString)
	if err != nil {
		return nil, fmt.Errorf("list operation records in %s: %w", c.store, err)
	}
	return names, nil
}

// ReadOperation returns the body of the operation record name, at most
// 1 MiB of it.
func (c *Catalog) ReadOperation(ctx context.Context, name string) ([]byte, error) {
	st, err := c.operationStore(name)
	if err != nil {
		return nil, err
	}
	body, err := readRecord(ctx, st, operationsDir, name, operationRecordLimit)
	if err != nil {
		return nil, fmt.Errorf("read operation record %s in %s: %w", name, c.store, err)
	}
	return body, nil
}

// RemoveOperation deletes the operation record name; one already gone is
// no error.
func (c *Catalog) RemoveOperation(ctx context.Context, name string) error {
	st, err := c.operationStore(name)
	if err != nil {
		return err
	}
	if err := st.removeRecord(ctx, operationsDir, name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove operation record %s in %s: %w", name, c.store, err)
	}
	return nil
}

// ProcessAlive reports whether a process with this pid runs on this
// machine: how a record left running by a process that is gone is told
// from one still at work.
func ProcessAlive(pid int) bool { return processAlive(pid) }
