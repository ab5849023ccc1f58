package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestConsole_InAHeadlessBrowser drives the web console of a real flowg
// serve in one real headless Chromium, as an operator would: every screen
// is saved as a screenshot (see artifactsDir), the data the console
// changed is read back over the API, and at the end no request of the
// page went to another host.
func TestConsole_InAHeadlessBrowser(t *testing.T) {
	chromium := chromiumPath(t) // first: without a browser there is nothing to test
	dirs := newServerDirs(t)
	srv := startServer(t, dirs)
	root := srv.rootJWT(t)
	writeBaseData(t, srv, root) // alice holds read_streams only
	b := newTab(t, chromium, srv.url)
	var set string // the set taken in the browser
	// run runs one step; the steps build on each other, so the first to
	// fail ends the test.
	run := func(name string, step func(t *testing.T)) {
		if !t.Run(name, step) {
			t.FailNow()
		}
	}

	run("flowg serve prints the console's address", func(t *testing.T) {
		if want := "flowg console: " + srv.url + "/"; !strings.Contains(srv.log.String(), want) {
			t.Errorf("flowg serve's output lacks %q:\n%s", want, srv.log.tail(2000))
		}
	})

	run("headers", func(t *testing.T) {
		r := srv.send(t, http.MethodGet, "/", "", nil, "")
		want := map[string]string{
			"Content-Security-Policy": "default-src 'self'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		}
		for h, v := range want {
			if got := r.header.Get(h); !strings.Contains(got, v) {
				t.Errorf("GET / header %s = %q, want it to hold %q", h, got, v)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET / Content-Security-Policy = %q, want frame-ancestors 'none' and no unsafe-inline", csp)
		}
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`src="/console/js/app.js"`)) || bytes.Contains(r.body, []byte("<script>")) {
			t.Errorf("GET / should answer the page with its script from /console/ and no inline script:\n%s", r)
		}
	})

	run("sign in", func(t *testing.T) {
		b.do(t, "open the console", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(chromedp.CSS("#form-password")))
		b.screenshot(t, "01-sign-in")
		b.do(t, "sign in with a wrong password",
			chromedp.SendKeys(chromedp.CSS("#username"), "root"), chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password\n"),
			chromedp.WaitVisible(chromedp.CSS("#signin-error")))
		if got := b.text(t, "#signin-error"); !strings.Contains(got, "401") {
			t.Errorf("a wrong password shows %q, want the 401 said plainly", got)
		}
		if got := evalIn[string](t, b, `document.getElementById("password").value`); got != "" {
			t.Errorf("after a failed sign-in the password field still holds %d characters", len(got))
		}
		b.do(t, "sign in as root",
			chromedp.SendKeys(chromedp.CSS("#password"), serverRootPassword+"\n"),
			chromedp.WaitVisible(chromedp.CSS(`.card[data-db="logs"]`)))
		if cred := evalIn[string](t, b, `sessionStorage.getItem("flowg.credential")||""`); !strings.HasPrefix(cred, "jwt:") {
			t.Errorf("the credential kept is %q, want jwt:<token> in sessionStorage", cred)
		}
		if n := evalIn[int](t, b, `document.querySelectorAll(".card.stale").length`); n != 3 {
			t.Errorf("with no set, %d of 3 database cards stand out, want all 3", n)
		}
		b.screenshot(t, "02-overview-no-set")
	})

	run("take a set and see it restore-verified", func(t *testing.T) {
		b.do(t, "take a set", chromedp.Click(chromedp.CSS(`#overview-actions [data-action="take"]`)))
		b.waitFor(t, "the set is taken and verified", `[...document.querySelectorAll(".op.done")].some(e => e.innerText.includes("restore-verified"))`, 60*time.Second)
		b.waitFor(t, "every card shows the verified set", `document.querySelectorAll(".card.stale").length === 0`, 20*time.Second)
		var list struct {
			Backups []struct{ ID, Label, By string }
		}
		srv.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", root, nil).decode(t, &list)
		if len(list.Backups) != 1 || list.Backups[0].Label != "restore-verified" || list.Backups[0].By != "root" {
			t.Fatalf("after Take a set the catalog holds %+v, want one restore-verified set by root", list.Backups)
		}
		set = list.Backups[0].ID
		if got := b.text(t, `.card[data-db="auth"]`); !strings.Contains(got, "restore-verified") || !strings.Contains(got, "keys") {
			t.Errorf("the auth card says %q, want its restore-verified set and key count", got)
		}
		b.screenshot(t, "03-overview-verified")
	})

	run("sets table and chart", func(t *testing.T) {
		b.do(t, "open the sets", chromedp.Navigate(srv.url+"/#sets"), chromedp.WaitVisible(chromedp.CSS(`#sets-table tr[data-set="`+set+`"]`)))
		row := b.text(t, `#sets-table tr[data-set="`+set+`"]`)
		for _, want := range []string{set, "manual", "root", "auth, config, logs", "restore-verified", "full"} {
			if !strings.Contains(row, want) {
				t.Errorf("the set's row reads %q, want %q in it", row, want)
			}
		}
		if n := evalIn[int](t, b, `document.querySelectorAll("#chart svg rect.bar").length`); n != 1 {
			t.Errorf("the chart draws %d bars, want 1 (one complete set)", n)
		}
		b.screenshot(t, "04-sets")
	})

	run("open a set and download a file", func(t *testing.T) {
		downloads := t.TempDir()
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		requestsBefore := b.requestCount()
		if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
			t.Fatalf("allow downloads: %v", err)
		}
		b.do(t, "open the set", chromedp.Click(chromedp.CSS(`#sets-table tr[data-set="`+set+`"] a`)),
			chromedp.WaitVisible(chromedp.CSS(`#set-files tr[data-db="logs"]`)))
		b.screenshot(t, "05-set")
		b.do(t, "download the logs file", chromedp.Click(chromedp.CSS(`#set-files tr[data-db="logs"] [data-action="download"]`)))
		want := readFile(t, filepath.Join(dirs.backups, set, "log.db"))
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := os.ReadFile(filepath.Join(downloads, "log.db"))
			if err == nil && bytes.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				entries, _ := os.ReadDir(downloads)
				t.Fatalf("the downloaded log.db (%d bytes, err %v) is not the set's file (%d bytes); the download dir holds %v", len(got), err, len(want), entries)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The download itself is the browser's, not the page's: the server
		// log tells that it came through a single-use link.
		if log := srv.log.String(); !strings.Contains(log, "route=/api/v1/downloads/:token status=200") {
			b.mu.Lock()
			asked := slices.Clone(b.requests[requestsBefore:])
			b.mu.Unlock()
			t.Errorf("the file was not downloaded through a single-use link (GET /api/v1/downloads/TOKEN); the page asked for %v", asked)
		}
	})

	run("verify a set", func(t *testing.T) {
		b.do(t, "verify the set", chromedp.Click(chromedp.CSS(`#view-set [data-action="verify"]`)))
		b.waitFor(t, "the verification ends", `[...document.querySelectorAll(".op.done")].some(e => e.innerText.startsWith("Verify `+set+`"))`, 60*time.Second)
		if got := b.text(t, ".op.done"); !strings.Contains(got, set+": restore-verified") {
			t.Errorf("the verification reads %q, want the set restore-verified", got)
		}
	})

	run("restore: dry run, then wipe after typing the name", func(t *testing.T) {
		srv.ingest(t, root, "app", map[string]any{"id": "late-1", "msg": "written after the set"})
		b.do(t, "ask for the dry run", chromedp.Click(chromedp.CSS(`#set-files tr[data-db="logs"] [data-action="restore"]`)),
			chromedp.WaitVisible(chromedp.CSS("#plan")))
		plan := b.text(t, "#plan")
		if !strings.Contains(plan, "Removed, with wipe only\t1") || !strings.Contains(plan, "Added (the database lacks them)\t0") {
			t.Errorf("the dry run reads %q, want 0 added and 1 removed with wipe (the record written after the set)", plan)
		}
		b.screenshot(t, "06-restore-dry-run")
		confirmDisabled := func() bool {
			return evalIn[bool](t, b, `document.querySelector('[data-action="confirm-restore"]').disabled`)
		}
		b.do(t, "pick wipe and type a wrong name", chromedp.Click(chromedp.CSS(`input[value="wipe"]`)),
			chromedp.SendKeys(chromedp.CSS("#confirm-db"), "log"))
		if !confirmDisabled() {
			t.Fatal("the restore button is enabled before the database name is typed in full")
		}
		b.do(t, "finish the name", chromedp.SendKeys(chromedp.CSS("#confirm-db"), "s"))
		if confirmDisabled() {
			t.Fatal("the restore button stays disabled with the database name typed")
		}
		b.do(t, "restore", chromedp.Click(chromedp.CSS(`[data-action="confirm-restore"]`)))
		b.waitFor(t, "the restore ends with its undo command",
			`[...document.querySelectorAll(".op.done")].some(e => e.innerText.includes("flowg backups restore --wipe"))`, 60*time.Second)
		b.screenshot(t, "07-restore-done")
		for _, r := range srv.streamRecords(t, root, "app") {
			if r.Fields["id"] == "late-1" {
				t.Fatalf("the record written after the set is still there after the wipe restore: %+v", r)
			}
		}
	})

	run("long work survives a reload", func(t *testing.T) {
		before := len(catalogSets(t, srv, root))
		// The page cannot learn that the set is done until the reload: its
		// polls of the operation are held.
		held, release := b.holdRequests(t, "*/api/v1/operations/*")
		b.do(t, "take a set", chromedp.Navigate(srv.url+"/#overview"), chromedp.WaitVisible(chromedp.CSS(`#overview-actions [data-action="take"]`)),
			chromedp.Click(chromedp.CSS(`#overview-actions [data-action="take"]`)))
		b.waitFor(t, "the operation id is kept", `JSON.parse(sessionStorage.getItem("flowg.operations")||"[]").length === 1`, 20*time.Second)
		b.waitFor(t, "the page shows it running", `document.querySelector(".op.running") !== null`, 20*time.Second)
		b.screenshot(t, "08-operation-running")
		for deadline := time.Now().Add(20 * time.Second); held() == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the page never asked how its operation goes (GET /api/v1/operations/ID)")
			}
		}
		b.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".op.running")))
		release()
		b.waitFor(t, "after the reload the operation is followed to its end",
			`[...document.querySelectorAll(".op.done")].some(e => e.innerText.includes("restore-verified"))`, 60*time.Second)
		if after := catalogSets(t, srv, root); len(after) != before+1 || after[0].Label != "restore-verified" {
			t.Fatalf("after the reload the catalog holds %d sets (newest %+v), want %d and the newest restore-verified", len(after), after[0], before+1)
		}
		if left := evalIn[string](t, b, `sessionStorage.getItem("flowg.operations")`); left != "[]" {
			t.Errorf("the finished operation is still kept for polling: %s", left)
		}
	})

	run("history", func(t *testing.T) {
		b.do(t, "open the history", chromedp.Navigate(srv.url+"/#history"), chromedp.WaitVisible(chromedp.CSS(`#history-table tr[data-op]`)))
		rows := evalIn[[]string](t, b, `[...document.querySelectorAll("#history-table tr[data-op]")].map(r => r.innerText.replace(/\s+/g, " "))`)
		var backups, restores, dryRuns int
		for _, r := range rows {
			switch {
			case strings.Contains(r, "backup") && strings.Contains(r, "root") && strings.Contains(r, "succeeded"):
				backups++
			case strings.Contains(r, "restore (dry run)") && strings.Contains(r, "logs") && strings.Contains(r, "succeeded"):
				dryRuns++
			case strings.Contains(r, "restore") && strings.Contains(r, "logs") && strings.Contains(r, "succeeded"):
				restores++
			}
		}
		if backups != 2 || restores != 1 || dryRuns != 1 {
			t.Errorf("the history shows %d backups, %d restores and %d dry runs by root that succeeded, want 2, 1 and 1:\n%s",
				backups, restores, dryRuns, strings.Join(rows, "\n"))
		}
		b.screenshot(t, "09-history")
	})

	run("keyboard only", func(t *testing.T) {
		b.do(t, "start at the top of the overview", chromedp.Navigate(srv.url+"/#overview"), chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS(`.card[data-db="logs"]`)))
		b.tabTo(t, "the Sets link", `el.dataset.view === "sets"`)
		b.do(t, "open the sets", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#sets-table tr[data-set="`+set+`"]`)))
		b.do(t, "skip to the content", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#sets-table tr[data-set="`+set+`"]`)))
		b.tabTo(t, "the skip link", `el.classList.contains("skip")`)
		b.do(t, "skip", chromedp.KeyEvent(kb.Enter))
		b.waitFor(t, "the focus is on the content, the view unchanged", `document.activeElement.id === "main" && location.hash === "#sets"`, 5*time.Second)
		b.do(t, "back to the overview", chromedp.Navigate(srv.url+"/#overview"), chromedp.WaitVisible(chromedp.CSS(`.card[data-db="logs"]`)))
		b.tabTo(t, "the Sets link", `el.dataset.view === "sets"`)
		b.do(t, "open the sets", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#sets-table tr[data-set="`+set+`"]`)))
		b.tabTo(t, "the set's link", `el.closest('tr[data-set="`+set+`"]') !== null`)
		b.do(t, "open the set", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#set-files tr[data-db="config"]`)))
		b.tabTo(t, "Restore… of config", `el.dataset.action === "restore" && el.closest('tr[data-db="config"]') !== null`)
		b.do(t, "ask for the dry run", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#plan")))
		b.waitFor(t, "the confirmation field has the focus", `document.activeElement && document.activeElement.id === "confirm-db"`, 5*time.Second)
		b.tabTo(t, "Cancel", `el.dataset.action === "cancel"`)
		b.do(t, "cancel", chromedp.KeyEvent(kb.Enter))
		b.waitFor(t, "the restore form is gone", `document.getElementById("plan") === null`, 5*time.Second)
	})

	run("names holding <script> are shown as text", func(t *testing.T) {
		forged := forgeSet(t, dirs.backups, set, set[:len(set)-6]+"f0f0f0",
			map[string]any{"by": `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`})
		b.do(t, "list the forged set", chromedp.Navigate(srv.url+"/#sets"), chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS(`#sets-table tr[data-set="`+forged+`"]`)))
		if got := b.text(t, `#sets-table tr[data-set="`+forged+`"] td.by`); !strings.Contains(got, "<script>window.__xss=1</script>") {
			t.Errorf("the forged set's by column reads %q, want the name as text", got)
		}
		if n := evalIn[int](t, b, `document.querySelectorAll("#sets-table script, #sets-table img").length + (window.__xss ? 100 : 0)`); n != 0 {
			t.Errorf("the forged name became markup or ran (%d)", n)
		}
		b.screenshot(t, "10-script-name-as-text")
	})

	run("nothing overflows at 1280×800 nor at phone width", func(t *testing.T) {
		for _, size := range []struct {
			name          string
			width, height int64
		}{{"desktop", 1280, 800}, {"phone", 390, 844}} {
			for _, view := range []string{"overview", "sets", "set/" + set, "history"} {
				name := strings.SplitN(view, "/", 2)[0]
				b.do(t, fmt.Sprintf("open %s at %d×%d", view, size.width, size.height), chromedp.EmulateViewport(size.width, size.height),
					chromedp.Navigate(srv.url+"/#"+view), chromedp.WaitVisible(chromedp.CSS("#view-"+name+" h2")))
				if w := evalIn[int64](t, b, `document.documentElement.scrollWidth`); w > size.width {
					t.Errorf("at %d px wide the %s page is %d px wide: text overflows", size.width, view, w)
				}
				clipped := evalIn[[]string](t, b, `[...document.querySelectorAll("body *")].filter(e => e.offsetParent !== null &&
					e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible").map(e => e.tagName + "#" + e.id + "." + e.className)`)
				if len(clipped) > 0 {
					t.Errorf("at %d px wide the %s page scrolls or clips text sideways in %v", size.width, view, clipped)
				}
				if size.name == "phone" {
					b.screenshot(t, "11-phone-"+name)
				}
			}
		}
		b.do(t, "back to 1280×800", chromedp.EmulateViewport(1280, 800))
	})

	run("sign out", func(t *testing.T) {
		b.do(t, "sign out", chromedp.Navigate(srv.url+"/#overview"), chromedp.WaitVisible(chromedp.CSS("#signout")),
			chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#form-password")))
		if cred := evalIn[string](t, b, `sessionStorage.getItem("flowg.credential")||""`); cred != "" {
			t.Errorf("after sign out the tab still keeps a credential")
		}
		b.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#form-password")))
		b.screenshot(t, "12-signed-out")
	})

	run("a read_streams user sees only what it may do", func(t *testing.T) {
		b.do(t, "sign in as alice",
			chromedp.SendKeys(chromedp.CSS("#username"), "alice"), chromedp.SendKeys(chromedp.CSS("#password"), "alice-pw-123\n"),
			chromedp.WaitVisible(chromedp.CSS(`.card[data-db="logs"]`)))
		take := b.text(t, `#overview-actions [data-action="take"]`)
		if take == "" {
			t.Errorf("alice (read_streams) sees no Take a set button; she may back up logs")
		}
		b.do(t, "open the set", chromedp.Navigate(srv.url+"/#set/"+set), chromedp.WaitVisible(chromedp.CSS(`#set-files tr[data-db="logs"]`)))
		actions := evalIn[[]string](t, b, `[...document.querySelectorAll("#view-set [data-action]")].map(e => (e.closest("tr[data-db]")||{dataset:{db:"set"}}).dataset.db + ":" + e.dataset.action)`)
		if !slices.Equal(actions, []string{"logs:download"}) {
			t.Errorf("alice's actions on a set of the three databases are %v, want only [logs:download]", actions)
		}
		b.screenshot(t, "13-read-streams-user")

		// The API stays the judge: once alice's role loses read_streams, the
		// button she still sees gets a 403, shown as it is.
		srv.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", root, map[string]any{"scopes": []string{"send_logs"}})
		before := len(catalogSets(t, srv, root))
		b.do(t, "take a set without the scope", chromedp.Navigate(srv.url+"/#overview"),
			chromedp.WaitVisible(chromedp.CSS(`#overview-actions [data-action="take"]`)),
			chromedp.Click(chromedp.CSS(`#overview-actions [data-action="take"]`)))
		b.waitFor(t, "the 403 is shown", `document.querySelector(".op.failed") !== null`, 20*time.Second)
		if got := b.text(t, ".op.failed"); !strings.Contains(got, "HTTP 403") || !strings.Contains(got, "read_streams") {
			t.Errorf("the refused take reads %q, want the 403 and the missing scope read_streams", got)
		}
		if after := len(catalogSets(t, srv, root)); after != before {
			t.Errorf("a refused take changed the catalog: %d sets, then %d", before, after)
		}
		b.screenshot(t, "14-forbidden")
		b.do(t, "sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#form-password")))
	})

	run("a revoked token signs the tab out, saying why", revokedTokenStep(b, srv, root))
	run("continuous backup, signed in with a token", continuousStep(b))

	if b.requestCount() == 0 {
		t.Error("no request of the page was seen: the network listener is broken")
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("the page threw or the browser refused something (CSP?):\n%s", strings.Join(errs, "\n"))
	}
	if foreign := b.foreignRequests(); len(foreign) > 0 {
		t.Errorf("the page asked another host than %s for: %v", srv.url, foreign)
	}
}
