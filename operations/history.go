package operations

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/flowg-backup/flowg/backup"
)

// History is the record of the operations run against one catalog, kept in
// the catalog. It is safe for concurrent use.
type History struct {
	cat  *backup.Catalog
	keep int
	log  *slog.Logger
}

// NewHistory returns the history of cat keeping the newest keep records
// (DefaultKeep when 0 or less); failures to write are logged to log
// (slog.Default() when nil).
func NewHistory(cat *backup.Catalog, keep int, log *slog.Logger) *History {
	if keep <= 0 {
		keep = DefaultKeep
	}
	if log == nil {
		log = slog.Default()
	}
	return &History{cat: cat, keep: keep, log: log}
}

// Write stores r, then deletes the oldest records beyond the history's
// bound. A failure is logged and returned, never more: the operation r
// describes is done either way.
func (h *History) Write(ctx context.Context, r Record) error {
	r.Result = nil // an answer stays in memory: it may be large
	body, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = h.cat.PutOperation(ctx, recordName(r.ID), append(body, '\n'))
	}
	if err != nil {
		h.log.Warn("the operation was not recorded in the catalog's history", "operation", r.ID, "kind", r.Kind,
			"state", r.State, "catalog", h.cat.Dir(), "error", err)
		return err
	}
	if err := h.prune(ctx); err != nil {
		h.log.Warn("old operation records could not be deleted", "catalog", h.cat.Dir(), "keep", h.keep, "error", err)
	}
	return nil
}

// prune deletes the oldest records beyond h.keep.
func (h *History) prune(ctx context.Context) error {
	ids, err := h.ids(ctx)
	if err != nil || len(ids) <= h.keep {
		return err
	}
	for _, id := range ids[h.keep:] {
		if err := h.cat.RemoveOperation(ctx, recordName(id)); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the record of operation id.
func (h *History) remove(ctx context.Context, id string) {
	if err := h.cat.RemoveOperation(ctx, recordName(id)); err != nil {
		h.log.Warn("the record of a refused operation could not be deleted", "operation", id, "catalog", h.cat.Dir(), "error", err)
	}
}

// ids returns the ids of the records, newest first.
func (h *History) ids(ctx context.Context) ([]string, error) {
	names, err := h.cat.OperationNames(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(names))
	for _, n := range names {
		if id := strings.TrimSuffix(n, ".json"); ValidID(id) {
			ids = append(ids, id)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	return ids, nil
}

// List returns up to limit records, newest first, older than the operation
// before when it is not empty. A record that cannot be read is listed
// failed, saying why, rather than hidden.
func (h *History) List(ctx context.Context, before string, limit int) ([]Record, error) {
	ids, err := h.ids(ctx)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, id := range ids {
		if len(out) >= limit {
			break
		}
		if before != "" && id >= before {
			continue
		}
		r, err := h.Get(ctx, id)
		if err != nil {
			msg := "its record cannot be read: " + err.Error()
			r = Record{ID: id, State: StateFailed, Error: &msg, Databases: []string{}}
		}
		out = append(out, r)
	}
	return out, nil
}

// Get reads the record of operation id.
func (h *History) Get(ctx context.Context, id string) (Record, error) {
	var r Record
	if !ValidID(id) {
		return r, fmt.Errorf("operation %q: not an operation id", id)
	}
	body, err := h.cat.ReadOperation(ctx, recordName(id))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("operation record %s: %w", id, err)
	}
	r.ID = id
	if r.Databases == nil {
		r.Databases = []string{}
	}
	return asListed(r), nil
}
