package auth

import (
	"container/list"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a budget of Events per Per: a bucket of Events tokens, refilled
// by one every Per/Events. "5/1m" lets five failures through at once, then
// one more every twelve seconds.
type Rate struct {
	Events int
	Per    time.Duration
}

// ParseRate reads "N/DURATION" as flags and documentation write it: "5/1m",
// "30/1h", "3/3s"; a bare unit counts one of it ("5/m" is "5/1m"). N must be
// at least 1 and the duration positive; anything else gives an error
// wrapping ErrInvalidRate.
func ParseRate(s string) (Rate, error) {
	n, per, found := strings.Cut(strings.TrimSpace(s), "/")
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if !found || err != nil || events < 1 {
		return Rate{}, fmt.Errorf("%w: %q", ErrInvalidRate, truncate(s, 64))
	}
	per = strings.TrimSpace(per)
	d, err := time.ParseDuration(per)
	if err != nil {
		d, err = time.ParseDuration("1" + per)
	}
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%w: %q", ErrInvalidRate, truncate(s, 64))
	}
	return Rate{Events: events, Per: d}, nil
}

// String writes r as ParseRate reads it, without zero trailing units:
// "5/1m", not "5/1m0s".
func (r Rate) String() string {
	d := r.Per.String()
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return fmt.Sprintf("%d/%s", r.Events, d)
}

// limitTable keeps one rate.Limiter per key, for at most max keys. A key
// whose bucket is full again holds nothing a fresh limiter would not, so it
// is dropped as soon as it reaches the least recently used end; past max
// keys, the least recently used key is forgotten even if its bucket is not
// full (it may then try again sooner). A limitTable is safe for concurrent
// use.
type limitTable struct {
	rate Rate
	max  int

	mu   sync.Mutex
	keys map[string]*list.Element // of *limitEntry
	lru  *list.List               // front: most recently counted
}

type limitEntry struct {
	key string
	lim *rate.Limiter
}

func newLimitTable(r Rate, maxKeys int) *limitTable {
	return &limitTable{rate: r, max: max(maxKeys, 1), keys: map[string]*list.Element{}, lru: list.New()}
}

// wait returns how long key must wait at now before its next event is
// allowed; 0 if it may go on now.
func (tb *limitTable) wait(key string, now time.Time) time.Duration {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	el, ok := tb.keys[key]
	if !ok {
		return 0
	}
	lim := el.Value.(*limitEntry).lim
	lacking := 1 - lim.TokensAt(now)
	if lacking <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(lacking / float64(lim.Limit()) * float64(time.Second)))
}

// count takes one token from key's bucket at now, going into debt if it is
// empty, so that every event counts.
func (tb *limitTable) count(key string, now time.Time) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.dropIdle(now)
	el, ok := tb.keys[key]
	if ok {
		tb.lru.MoveToFront(el)
	} else {
		if len(tb.keys) >= tb.max {
			tb.remove(tb.lru.Back())
		}
		lim := rate.NewLimiter(rate.Limit(float64(tb.rate.Events)/tb.rate.Per.Seconds()), tb.rate.Events)
		el = tb.lru.PushFront(&limitEntry{key: key, lim: lim})
		tb.keys[key] = el
	}
	el.Value.(*limitEntry).lim.ReserveN(now, 1)
}

// dropIdle removes, from the least recently used end, the keys whose bucket
// is full again.
func (tb *limitTable) dropIdle(now time.Time) {
	for el := tb.lru.Back(); el != nil; el = tb.lru.Back() {
		if e := el.Value.(*limitEntry); e.lim.TokensAt(now) < float64(e.lim.Burst()) {
			return
		}
		tb.remove(el)
	}
}

func (tb *limitTable) remove(el *list.Element) {
	delete(tb.keys, el.Value.(*limitEntry).key)
	tb.lru.Remove(el)
}

// len returns how many keys the table holds.
func (tb *limitTable) len() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.keys)
}
