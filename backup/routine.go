package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// Routine takes a backup set of a running server's databases into a
// catalog, optionally verifies it, then prunes the catalog with its
// retention policy. The scheduler and the "create a set now" endpoint both
// run one.
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

// RunResult is what a Routine did.
type RunResult struct {
	// Set is the new set as listed after verification; after a failed run,
	// its id and the label "failed".
	Set SetInfo
	// Pruned are the sets retention deleted after the set was written, with
	// the reason of each.
	Pruned []Decision
	// PruneErr says why retention could not prune (the set was written).
	PruneErr error
}

// Run takes the set, verifies it if asked, then prunes. A failed
// verification is not an error of Run: the set is returned labelled
// "verify failed". Retention runs only after a set was written, and a
// failed prune is no error of Run either (see RunResult.PruneErr).
func (r Routine) Run(ctx context.Context) (RunResult, error) {
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
		return RunResult{}, err
	}
	res, err := r.writeAndVerify(ctx, sources, now)
	release()
	if err != nil {
		return res, err
	}
	res.Pruned, res.PruneErr = r.Catalog.Prune(ctx, r.Retention, now())
	return res, nil
}

// writeAndVerify writes the set and verifies it if asked, holding the
// catalog's sets meanwhile, so that the prune of a run beside it cannot
// delete the new set between its writing and its verification.
func (r Routine) writeAndVerify(ctx context.Context, sources []Source, now func() time.Time) (RunResult, error) {
	hold, err := r.Catalog.HoldSets(ctx)
	if err != nil {
		return RunResult{}, err
	}
	defer hold()
	opts := r.Options
	opts.Now = now()
	m, err := r.Catalog.Create(ctx, sources, opts)
	if err != nil {
		return RunResult{Set: SetInfo{Manifest: m, Label: LabelFailed, Problem: err.Error()}}, err
	}
	res := RunResult{}
	if res.Set, err = r.Catalog.Get(ctx, m.ID); err != nil {
		return res, err
	}
	if r.Verify {
		if res.Set, err = r.Catalog.verify(ctx, m.ID, now()); err != nil { // under the hold already
			return res, err
		}
	}
	return res, nil
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
