// Package quota limits how often each caller may do something costly, such
// as writing a backup set: a Rate written "COUNT/DURATION" ("6/h",
// "20/24h", "100/7d"), enforced per key (a user name) by a token bucket
// (golang.org/x/time/rate) that holds COUNT and refills one every
// DURATION/COUNT.
package quota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flowg-backup/flowg/internal/duration"
)

// Rate is at most Count actions per Per, per key. The zero Rate is no limit.
type Rate struct {
	Count int
	Per   time.Duration
}

// IsZero reports whether r sets no limit.
func (r Rate) IsZero() bool { return r.Count <= 0 || r.Per <= 0 }

// String writes r as ParseRate reads it.
func (r Rate) String() string {
	if r.IsZero() {
		return "0"
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Per)
}

// ParseRate reads "COUNT/DURATION": a whole COUNT of at least 1 and a
// DURATION as Go writes it or in days ("1h", "30m", "7d"); a bare unit
// means one of it ("6/h" is "6/1h"). "0" is no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return Rate{}, nil
	}
	count, per, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || err != nil || n < 1 {
		return Rate{}, fmt.Errorf("%q is not a rate: write COUNT/DURATION, e.g. 6/h, 20/24h or 100/7d (0 for no limit)", s)
	}
	per = strings.TrimSpace(per)
	if per == "s" || per == "m" || per == "h" || per == "d" {
		per = "1" + per
	}
	d, err := duration.Parse(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q is not a rate: after the / give a duration such as h, 30m, 24h or 7d", s)
	}
	return Rate{Count: n, Per: d}, nil
}

// Limiter holds one token bucket per key. It is safe for concurrent use;
// buckets that are full again are forgotten, so memory follows the keys
// active within one Per.
type Limiter struct {
	rate  Rate
	mu    sync.Mutex
	keys  map[string]*rate.Limiter
	sweep int // len(keys) at which full buckets are dropped
}

// NewLimiter returns a Limiter of r; a zero r allows everything.
func NewLimiter(r Rate) *Limiter {
	return &Limiter{rate: r, keys: map[string]*rate.Limiter{}, sweep: 1024}
}

// Allow takes one action of key at now. When key has none left it takes
// nothing and returns false and how long until the next is allowed.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.rate.IsZero() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.keys[key]
	if !ok {
		l.forgetFull(now)
		b = rate.NewLimiter(rate.Every(l.rate.Per/time.Duration(l.rate.Count)), l.rate.Count)
		b.SetLimitAt(now, b.Limit()) // start the bucket's clock at now
		l.keys[key] = b
	}
	r := b.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// forgetFull drops the buckets that are full at now once there are many.
func (l *Limiter) forgetFull(now time.Time) {
	if len(l.keys) < l.sweep {
		return
	}
	for k, b := range l.keys {
		if b.TokensAt(now) >= float64(l.rate.Count) {
			delete(l.keys, k)
		}
	}
	l.sweep = max(1024, 2*len(l.keys))
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1: the
// value of a Retry-After header.
func RetryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
