package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// Routine takes a backup set of a running server's databases into a
// catalog, optionally verifies it, then applies the retention policy. The
// scheduler and the "create a set now" endpoint both run one.
type Routine struct {
	Catalog   *Catalog
	Store     *kv.Store
	Names     []kv.Name // every database when empty
	Verify    bool
	Retention Retention
	Options   SetOptions
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Run takes the set and returns it as listed after verification. A failed
// verification is not an error of Run: the set is returned labelled
// "verify failed". Retention runs only after a set was written.
func (r Routine) Run(ctx context.Context) (SetInfo, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	names := r.Names
	if len(names) == 0 {
		names = kv.Names
	}
	sources, release, err := acquireAll(r.Store, names)
	if err != nil {
		return SetInfo{}, err
	}
	opts := r.Options
	opts.Now = now()
	m, err := r.Catalog.Create(ctx, sources, opts)
	release()
	if err != nil {
		return SetInfo{Manifest: m, Label: LabelFailed, Problem: err.Error()}, err
	}
	info, err := r.Catalog.Get(m.ID)
	if err != nil {
		return info, err
	}
	if r.Verify {
		if info, err = r.Catalog.Verify(ctx, m.ID, now()); err != nil {
			return info, err
		}
	}
	if _, err := r.Catalog.Prune(r.Retention, now()); err != nil {
		return info, err
	}
	return info, nil
}

// acquireAll takes every named database of store for one backup; release
// gives them back. If one is unavailable, none is kept.
func acquireAll(store *kv.Store, names []kv.Name) ([]Source, func(), error) {
	var releases []func()
	release := func() {
		for _, r := range releases {
			r()
		}
	}
	var sources []Source
	for _, name := range names {
		db, rel, err := store.Acquire(name)
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("back up %s: %w", name, err)
		}
		releases = append(releases, rel)
		sources = append(sources, Source{Name: string(name), DB: db})
	}
	return sources, release, nil
}
