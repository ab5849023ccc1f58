package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// This file drives a real headless Chromium for the console tests: where
// Chromium is (FLOWG_CHROMIUM, set by make test, or chromium on PATH; the
// test fails, never skips, without it), one browser for every subtest, the
// requests the page makes, and screenshots saved as test artifacts.

// chromiumPath is FLOWG_CHROMIUM, or chromium / chromium-browser on PATH.
// It fails t when none is there: the console is tested in a browser or not
// at all, and `make tools` installs one.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("FLOWG_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("FLOWG_CHROMIUM=%s: %v; run make tools (it installs or unpacks Chromium), or point FLOWG_CHROMIUM at a chromium binary", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium for the console's browser tests: run make tools (it installs or unpacks Chromium into .tools/bin), " +
		"or set FLOWG_CHROMIUM=/path/to/chromium; make test sets it")
	return ""
}

// artifactsDir is where the screenshots go: FLOWG_TEST_ARTIFACTS, or a new
// directory under the system's temp dir that outlives the test so the
// images can be looked at. Its path is logged.
func artifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FLOWG_TEST_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "flowg-console-artifacts-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Logf("console screenshots: %s", dir)
	return dir
}

// tab is one headless Chromium tab on the console.
type tab struct {
	t         *testing.T
	ctx       context.Context
	base      string // the server's origin, http://127.0.0.1:PORT
	artifacts string

	mu       sync.Mutex
	requests []string          // every URL the page asked for
	paused   []fetch.RequestID // requests held by holdRequests
	errors   []string          // uncaught exceptions, and errors the browser logged (a CSP refusal) but network ones
}

// newTab starts chromium with a 1280×800 window, with its sandbox unless
// sandboxUnavailable says why it cannot have one.
func newTab(t *testing.T, chromium, base string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true),
	)
	if why := sandboxUnavailable(); why != "" {
		t.Logf("chromium runs with --no-sandbox: %s", why)
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &tab{t: t, ctx: ctx, base: base, artifacts: artifactsDir(t)}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, e.Request.URL)
		case *fetch.EventRequestPaused:
			b.paused = append(b.paused, e.RequestID)
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *cdplog.EventEntryAdded:
			// A failed request is logged too; the tests provoke 401 and 403
			// on purpose, and check what the page shows of them.
			if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
				b.errors = append(b.errors, fmt.Sprintf("%s error: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatalf("start chromium %s: %v", chromium, err)
	}
	ctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	if _, err := chromedp.Call(ctx2, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the browser's log: %v", err)
	}
	return b
}

// do runs steps within 30 seconds, failing t with what was asked.
func (b *tab) do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(t, what, err)
	}
}

// eval answers a JavaScript expression.
func evalIn[T any](t testing.TB, b *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(t, "evaluate "+expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is truthy, at most limit.
func (b *tab) waitFor(t testing.TB, what, expr string, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(limit))); err != nil {
		b.fail(t, what+" (waiting for "+expr+")", err)
	}
}

// text is the visible text of the first element matching the CSS selector.
func (b *tab) text(t testing.TB, css string) string {
	t.Helper()
	return evalIn[string](t, b, fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, css))
}

// fail saves a screenshot of the page and fails t with its text.
func (b *tab) fail(t testing.TB, what string, err error) {
	t.Helper()
	path := b.screenshot(t, "failed-"+strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	t.Fatalf("%s: %v\nscreenshot: %s\npage text:\n%s", what, err, path, page)
}

// screenshot saves the whole page as NAME.png among the artifacts and
// returns its path.
func (b *tab) screenshot(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
	return path
}

// foreignRequests are the URLs the page asked for from another origin
// than the server's (data: and blob: URLs stay in the page).
func (b *tab) foreignRequests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.requests {
		if strings.HasPrefix(u, b.base+"/") || u == b.base || strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:"+b.base+"/") {
			continue
		}
		out = append(out, u)
	}
	return out
}

// requestCount is how many requests the page made so far.
func (b *tab) requestCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.requests)
}

// holdRequests makes the browser hold every request whose URL matches
// pattern (Fetch.enable) until release is called, which lets the held ones
// and later ones through. It answers how many were held so far.
func (b *tab) holdRequests(t testing.TB, pattern string) (held func() int, release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		t.Fatalf("hold requests to %s: %v", pattern, err)
	}
	held = func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.paused)
	}
	release = func() {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
			t.Fatalf("release held requests: %v", err)
		}
		b.mu.Lock()
		ids := b.paused
		b.paused = nil
		b.mu.Unlock()
		for _, id := range ids {
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}) // gone with its page, or let through
		}
	}
	return held, release
}

// tabTo presses Tab until the focused element makes the JavaScript
// predicate (over the element el) true, at most 40 times, as a keyboard
// user moves through the page.
func (b *tab) tabTo(t testing.TB, what, predicate string) {
	t.Helper()
	for range 40 {
		if evalIn[bool](t, b, "(el => !!el && ("+predicate+"))(document.activeElement)") {
			return
		}
		b.do(t, "press Tab", chromedp.KeyEvent(kb.Tab))
	}
	b.fail(t, "reach "+what+" with the Tab key", fmt.Errorf("not reached after 40 presses; focus is on %s",
		evalIn[string](t, b, `document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "nothing"`)))
}

// pageErrors are the uncaught exceptions and the errors the browser logged
// for the page so far (a Content-Security-Policy refusal among them).
func (b *tab) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.errors)
}

// sandboxUnavailable says why Chromium cannot use its sandbox here, or ""
// when it can: as root Chromium refuses it, and an ordinary user needs
// unprivileged user namespaces, which some kernels turn off
// (unprivileged_userns_clone, max_user_namespaces) and Ubuntu 24.04
// restricts with AppArmor. FLOWG_CHROMIUM_NO_SANDBOX=1 forces it off.
func sandboxUnavailable() string {
	if os.Getenv("FLOWG_CHROMIUM_NO_SANDBOX") == "1" {
		return "FLOWG_CHROMIUM_NO_SANDBOX=1"
	}
	if os.Geteuid() == 0 {
		return "the test runs as root, where Chromium refuses its sandbox"
	}
	for file, off := range map[string]string{
		"/proc/sys/kernel/unprivileged_userns_clone":             "0",
		"/proc/sys/user/max_user_namespaces":                     "0",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1",
	} {
		if b, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(b)) == off {
			return fmt.Sprintf("%s is %s: no unprivileged user namespaces for the sandbox", file, off)
		}
	}
	return ""
}
