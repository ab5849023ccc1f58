package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrScratch is wrapped by Catalog.Verify's error when the verification
// could not use this machine's scratch space (os.TempDir(), $TMPDIR): no
// space left, too many open files, no permission. It says nothing about the
// set, whose manifest and label are left as they were.
var ErrScratch = errors.New("the scratch space of the verification failed")

// Verify proves that set id restores: for every file, every checksum, a load
// into a scratch Badger database, and key count, content hash and file hash
// compared with the manifest. The result is recorded in the manifest and the
// set returned with its new label. For an incremental set, the sets of its
// chain not verified yet are verified first. Only manifests are written.
func (c *Catalog) Verify(ctx context.Context, id string, now time.Time) (SetInfo, error) {
	release, err := c.HoldSets(ctx)
	if err != nil {
		return SetInfo{}, err
	}
	defer release()
	return c.verify(ctx, id, now)
}

// verify is Verify under the set lock.
func (c *Catalog) verify(ctx context.Context, id string, now time.Time) (SetInfo, error) {
	info, err := c.Get(ctx, id)
	if err != nil {
		return info, err
	}
	if info.Status != StatusComplete {
		return info, fmt.Errorf("set %s cannot be verified: it is %s", id, info.Label)
	}
	// An incremental set is restored with its chain: the links no one
	// verified yet are verified first, so the label covers the restore.
	if info.Parent != "" {
		links, err := c.chain(ctx, info.Parent)
		if err != nil {
			return info, err
		}
		for _, link := range links {
			if link.Verification == nil {
				if _, err := c.verify(ctx, link.ID, now); err != nil {
					if notAboutTheSet(err) {
						return info, err
					}
					return c.Get(ctx, id)
				}
			}
		}
	}
	verr := c.verifySet(ctx, info.Manifest)
	if notAboutTheSet(verr) {
		return info, verr
	}
	m := info.Manifest
	m.Verification = &Verification{Time: now.UTC(), OK: verr == nil}
	if verr != nil {
		m.Verification.Error = verr.Error()
	}
	if err := c.store.putManifest(ctx, id, m); err != nil {
		return info, err
	}
	return c.Get(ctx, id) // labelled with its chain (see markBrokenChains)
}

// notAboutTheSet reports whether a verification error says nothing about the
// set, so Verify reports it and records nothing: a missing or wrong key, an
// unreachable store, a cancelled run, or this machine's scratch space.
func notAboutTheSet(err error) bool {
	for _, target := range []error{context.Canceled, context.DeadlineExceeded, ErrEncrypted, ErrWrongKey, ErrTarget, ErrScratch} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// VerifyPlan returns the sets Verify(id) would verify, in the order it
// would: the links of id's chain no one verified yet, oldest first, then id
// itself. A set, once verified, keeps a verification, so the plan can only
// shrink until Verify runs. It returns ErrSetNotFound for an unknown id.
func (c *Catalog) VerifyPlan(ctx context.Context, id string) ([]SetInfo, error) {
	info, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var plan []SetInfo
	if info.Parent != "" {
		links, err := c.chain(ctx, info.Parent)
		if err != nil {
			return nil, err
		}
		for _, link := range links {
			if link.Verification == nil {
				plan = append(plan, link)
			}
		}
	}
	return append(plan, info), nil
}

// verifySet checks every file of a set against its manifest entry.
func (c *Catalog) verifySet(ctx context.Context, m Manifest) error {
	for _, name := range sortedNames(m.Databases) {
		entry := m.Databases[name]
		if err := c.verifyFile(ctx, m.ID, name, entry); err != nil {
			return fmt.Errorf("%s: %w", entry.File, err)
		}
	}
	return nil
}

func (c *Catalog) verifyFile(ctx context.Context, id, db string, entry DBEntry) error {
	scratch, err := os.MkdirTemp("", "flowg-verify-")
	if err != nil {
		return fmt.Errorf("%w: create a scratch directory: %w", ErrScratch, err)
	}
	defer os.RemoveAll(scratch)
	_, _, err = c.setFile(id, db, entry).Check(ctx, VerifyOptions{Load: true, Identities: c.keys.Identities, ScratchDir: scratch})
	if isScratchError(err, scratch) {
		return fmt.Errorf("%w in %s: %w", ErrScratch, filepath.Dir(scratch), err)
	}
	return err
}

// isScratchError reports whether err is about this machine rather than the
// set: no space, no quota or no file descriptor left, or any failure of a
// file under scratch, the directory of the scratch database.
func isScratchError(err error, scratch string) bool {
	if err == nil {
		return false
	}
	for _, errno := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EMFILE, syscall.ENFILE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		rel, rerr := filepath.Rel(scratch, pe.Path)
		return rerr == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	return false
}
