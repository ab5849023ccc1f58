package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The parts of a database's journal that differ between a local catalog
// (segments written into it) and an s3:// one (segments staged on local
// disk, then shipped by the stager), and the end of a chain that cannot go
// on.

// chainRetryPause is how long a journal whose chain ended waits between two
// attempts to start a new one while they fail.
const chainRetryPause = 5 * time.Second

// segmentDir is the directory the segments of chain are written to: the
// chain's own in a local catalog, its staging directory for an s3:// one.
func (j *dbJournal) segmentDir(chain string) (string, error) {
	if j.stage != nil {
		return j.stage.chainDir(chain)
	}
	if l, ok := j.js.(localJournal); ok {
		return l.chainDir(string(j.name), chain), nil
	}
	return "", fmt.Errorf("continuous backup: %s has no place to write segments", j.js.where(string(j.name), chain))
}

// shipStaged ships, in order and before anything new, the segments a
// previous run staged and did not ship (an s3:// catalog); start fails if
// they cannot be, and they stay staged.
func (j *dbJournal) shipStaged(ctx context.Context) error {
	if j.stage == nil {
		return nil
	}
	if err := j.stage.load(); err != nil {
		return err
	}
	_, n, _ := j.stage.pending()
	if n == 0 {
		return nil
	}
	if err := j.stage.shipAll(ctx); err != nil {
		_, left, _ := j.stage.pending()
		return fmt.Errorf("%d segments staged in %s by an earlier run could not be shipped (they stay there, shipped first at the next start): %w", left, j.stage.dir, err)
	}
	j.log.Info("continuous backup: shipped the segments an earlier run had staged", "segments", n)
	return nil
}

// staged hands the segment just written to the stager.
func (j *dbJournal) staged(name segmentName, marks []mark) {
	seg := stagedSeg{chain: j.chainID, name: name, size: j.stagedSize(name)}
	if len(marks) > 0 {
		seg.oldest = marks[0].time
	}
	j.stage.add(seg)
}

func (j *dbJournal) stagedSize(name segmentName) int64 {
	dir, err := j.segmentDir(j.chainID)
	if err != nil {
		return 0
	}
	st, err := os.Stat(filepath.Join(dir, name.String()))
	if err != nil {
		return 0
	}
	return st.Size()
}

// shipped is told by the stager that the store holds seg.
func (j *dbJournal) shipped(seg stagedSeg) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if seg.chain == j.chainID && seg.name.to.After(j.lastShipped) {
		j.lastShipped = seg.name.to
	}
}

// endChain ends the current chain for reason: what is captured from now
// on is dropped until a new chain starts (restartChain).
func (j *dbJournal) endChain(reason string) {
	j.needChain, j.carry, j.chainRetry = reason, drained{}, time.Time{}
	j.log.Warn("continuous backup: the journal chain ends here; a new chain starts from a new set", "chain", j.chainID, "reason", reason)
}

// restartChain starts the new chain endChain asked for, from a new set,
// once the catalog can take it: with an s3:// catalog, while this server
// holds the journal's lease and the store takes segments again.
func (j *dbJournal) restartChain() error {
	if time.Now().Before(j.chainRetry) || !j.lease.held() || (j.stage != nil && !j.stage.healthy()) {
		return nil
	}
	if err := newChains(context.Background(), j.cat, []*dbJournal{j}, j.needChain, j.opts); err != nil {
		j.chainRetry = time.Now().Add(chainRetryPause)
		return fmt.Errorf("start a new journal chain (%s): %w", j.needChain, err)
	}
	return nil
}
