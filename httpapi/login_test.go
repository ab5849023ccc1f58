package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/httpapi"
)

// TestLogin_ChecksAtMostMaxConcurrentPasswordsAtOnce sends 64 logins at once
// through the handler and counts, with the DuringPasswordCheck hook, how
// many password checks run together: never more than MaxConcurrent.
func TestLogin_ChecksAtMostMaxConcurrentPasswordsAtOnce(t *testing.T) {
	var running, most atomic.Int64
	e := newEnv(t, func(o *httpapi.Options) {
		o.Logins = auth.LoginLimits{MaxConcurrent: 4, Wait: time.Minute}
		o.DuringPasswordCheck = func() {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	body, _ := json.Marshal(map[string]string{"username": "root", "password": rootPassword})
	var wg sync.WaitGroup
	statuses := make(chan int, 64)
	for range 64 {
		wg.Go(func() {
			resp, err := http.Post(e.url+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Errorf("login: %v", err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a login answered %d, want 200", s)
		}
	}
	if m := most.Load(); m < 2 || m > 4 {
		t.Fatalf("%d password checks ran at once with 64 logins under way, want at most 4 (and more than one)", m)
	}
}

// TestLogin_TooManyFailuresGet429WithRetryAfter: past the budget of one
// user from one address, a login gets 429 with Retry-After and a JSON error
// saying when to retry, the right password included; after that time it
// works.
func TestLogin_TooManyFailuresGet429WithRetryAfter(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) {
		o.Logins = auth.LoginLimits{PerUserAddress: auth.Rate{Events: 2, Per: time.Minute}}
	})
	login := func(password string) reply {
		return e.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": "root", "password": password})
	}
	login("wrong-1").must(t, http.StatusUnauthorized)
	login("wrong-2").must(t, http.StatusUnauthorized)
	for _, pw := range []string{"wrong-3", rootPassword} {
		r := login(pw).must(t, http.StatusTooManyRequests)
		if got := r.header.Get("Retry-After"); got != "30" {
			t.Fatalf("Retry-After = %q, want 30 (one failure back every 30 s)", got)
		}
		if msg, _ := r.json(t)["error"].(string); !strings.Contains(msg, "retry in 30 s") {
			t.Fatalf("error %q does not say when to retry", msg)
		}
	}
	e.clock.Advance(30 * time.Second)
	login(rootPassword).must(t, http.StatusOK)
}
