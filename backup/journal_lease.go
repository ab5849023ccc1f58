package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// One server writes the journal of an s3:// catalog at a time. Its claim
// is the object <prefix>/journal/owner.json, a lease:
//
//   - taken with a conditional PUT (If-None-Match: *): of two servers
//     starting at once, exactly one creates it;
//   - renewed every third of its term with a PUT conditional on the ETag
//     the holder last wrote (If-Match), so a holder that lost it learns so
//     and stops writing;
//   - taken over, with a PUT conditional on the ETag read, only once it
//     expired (its holder crashed, or lost the store for a whole term), or
//     at once when its holder was a process of this machine that is gone
//     (a restart after a crash);
//   - deleted at a clean stop.
//
// The holder writes to the journal only while its lease is unexpired by
// its own clock; staged segments wait meanwhile.
const leaseObject = "owner.json"

// DefaultContinuousLease is the term of the lease on an s3:// catalog's
// journal.
const DefaultContinuousLease = 30 * time.Second

// leaseRecord is what owner.json holds.
type leaseRecord struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Token   string    `json:"token"`
	Started time.Time `json:"started"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
}

// journalLease is a held lease on an s3:// catalog's journal.
type journalLease struct {
	s    *s3Store
	key  string
	term time.Duration
	log  *slog.Logger

	mu      sync.Mutex
	rec     leaseRecord
	etag    string
	until   time.Time // by this process's clock
	lost    bool
	stop    chan struct{}
	stopped chan struct{}
}

// acquireLease takes the lease of the journal of s, or returns
// ErrJournalBusy naming the server that holds it.
func acquireLease(ctx context.Context, s *s3Store, term time.Duration, log *slog.Logger) (*journalLease, error) {
	host, _ := os.Hostname()
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	now := time.Now().UTC()
	l := &journalLease{s: s, key: s.key(journalDirName, leaseObject), term: term, log: log,
		rec:  leaseRecord{Host: host, PID: os.Getpid(), Token: hex.EncodeToString(token), Started: now},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	opts := minio.PutObjectOptions{}
	opts.SetMatchETagExcept("*")
	err := l.put(ctx, opts)
	if isPreconditionFailed(err) {
		err = l.takeOver(ctx)
	}
	if err != nil {
		return nil, err
	}
	go l.renewLoop()
	return l, nil
}

// takeOver replaces the lease of a server that is gone; anything else is
// ErrJournalBusy.
func (l *journalLease) takeOver(ctx context.Context) error {
	obj, err := l.s.client.GetObject(ctx, l.s.bucket, l.key, minio.GetObjectOptions{})
	if err != nil {
		return l.s.explain(err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return l.s.explain(err)
	}
	body, err := io.ReadAll(io.LimitReader(obj, 64<<10))
	if err != nil {
		return l.s.explain(err)
	}
	var held leaseRecord
	_ = json.Unmarshal(body, &held) // an unreadable lease is taken over once stale, below
	expires := held.Expires
	if expires.IsZero() {
		expires = info.LastModified.Add(l.term)
	}
	gone := held.Host == l.rec.Host && held.PID != 0 && !processAlive(held.PID)
	if !gone && time.Now().Before(expires) {
		return fmt.Errorf("%w: another flowg server (host %s, pid %d, since %s) writes its journal to %s; give each server its own --backup-dir. If that server is gone, its lease expires at %s and a new server takes the journal over then",
			ErrJournalBusy, held.Host, held.PID, held.Started.Format(time.RFC3339), l.s.url, expires.Format(time.RFC3339))
	}
	opts := minio.PutObjectOptions{}
	opts.SetMatchETag(info.ETag)
	if err := l.put(ctx, opts); err != nil {
		if isPreconditionFailed(err) {
			return fmt.Errorf("%w: another flowg server took the journal of %s over just now; give each server its own --backup-dir", ErrJournalBusy, l.s.url)
		}
		return err
	}
	l.log.Warn("continuous backup: took the journal over from a server that is gone", "host", held.Host, "pid", held.PID, "lease_expired", expires)
	return nil
}

// put writes the lease with opts' condition, renewed for a term.
func (l *journalLease) put(ctx context.Context, opts minio.PutObjectOptions) error {
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	start := time.Now()
	rec.Renewed = start.UTC()
	rec.Expires = rec.Renewed.Add(l.term)
	body, _ := json.MarshalIndent(rec, "", "  ")
	opts.ContentType = "application/json"
	info, err := l.s.client.PutObject(ctx, l.s.bucket, l.key, bytes.NewReader(body), int64(len(body)), opts)
	if err != nil {
		if isPreconditionFailed(err) {
			return err
		}
		return l.s.explain(err)
	}
	l.mu.Lock()
	l.rec, l.etag, l.until = rec, info.ETag, start.Add(l.term)
	l.mu.Unlock()
	return nil
}

func isPreconditionFailed(err error) bool {
	if err == nil {
		return false
	}
	resp := minio.ToErrorResponse(err)
	return resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed"
}

// held reports whether this process may write the journal now: its lease
// is renewed and unexpired (with a margin of a tenth of its term).
func (l *journalLease) held() bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lost && time.Now().Before(l.until.Add(-l.term/10))
}

// renewLoop renews the lease every third of its term until release.
func (l *journalLease) renewLoop() {
	defer close(l.stopped)
	tick := time.NewTicker(l.term / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		l.mu.Lock()
		etag, lost := l.etag, l.lost
		l.mu.Unlock()
		if lost {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.term/3)
		opts := minio.PutObjectOptions{}
		opts.SetMatchETag(etag)
		err := l.put(ctx, opts)
		cancel()
		switch {
		case isPreconditionFailed(err):
			l.mu.Lock()
			l.lost = true
			l.mu.Unlock()
			l.log.Error("continuous backup: another server took the journal's lease over; this server stops writing its journal (staged segments stay on disk)", "catalog", l.s.url)
			return
		case err != nil:
			l.log.Warn("continuous backup: the journal's lease could not be renewed; writing waits while it is expired", "error", err)
		}
	}
}

// release stops renewing and deletes the lease if it is still this
// process's.
func (l *journalLease) release() {
	close(l.stop)
	<-l.stopped
	l.mu.Lock()
	etag, lost := l.etag, l.lost
	l.mu.Unlock()
	if lost {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if info, err := l.s.client.StatObject(ctx, l.s.bucket, l.key, minio.StatObjectOptions{}); err != nil || info.ETag != etag {
		return
	}
	_ = l.s.client.RemoveObject(ctx, l.s.bucket, l.key, minio.RemoveObjectOptions{})
}
