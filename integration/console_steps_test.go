package integration

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Steps and helpers of TestConsole_InAHeadlessBrowser.

// revokedTokenStep signs in with a personal access token, revokes it over
// the API, and expects the next load to sign the tab out with the reason.
func revokedTokenStep(b *tab, srv *flowgServer, root string) func(t *testing.T) {
	return func(t *testing.T) {
		token := srv.createToken(t, root, "1h")
		b.do(t, "sign in with a token", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(chromedp.CSS("#form-token")),
			chromedp.SendKeys(chromedp.CSS("#token"), "pat:"+token.Token+"\n"), chromedp.WaitVisible(chromedp.CSS(`.card[data-db="logs"]`)))
		srv.must(t, http.StatusOK, http.MethodDelete, "/api/v1/tokens/"+token.ID, root, nil)
		b.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signin-error")))
		if got := b.text(t, "#signin-error"); !strings.Contains(got, "revoked") || !strings.Contains(got, "401") {
			t.Errorf("after its token was revoked the page says %q, want the 401 and why", got)
		}
		if cred := evalIn[string](t, b, `sessionStorage.getItem("flowg.credential")||""`); cred != "" {
			t.Error("the revoked token is still kept in the tab")
		}
	}
}

// continuousStep signs in, with a token of the read scopes, to a second
// server running continuous backup, and expects each card to show the
// journal's window and lag.
func continuousStep(b *tab) func(t *testing.T) {
	return func(t *testing.T) {
		cdirs := newServerDirs(t)
		csrv := startServer(t, cdirs, append(slices.Clone(continuousFlags), "--backup-exclude-stream", "debug-*")...)
		croot := csrv.rootJWT(t)
		csrv.ingest(t, croot, "app", map[string]any{"id": "c-1"})
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var list struct{ Journal []struct{ Database string } }
			csrv.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", croot, nil).decode(t, &list)
			if len(list.Journal) == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the journal of the three databases did not start within 20s: %+v", list.Journal)
			}
		}
		// A restore-verified set of two days ago, and none newer: the cards
		// stand out.
		var fresh struct{ ID, Label string }
		csrv.must(t, http.StatusCreated, http.MethodPost, "/api/v1/backups?verify=true", croot, nil).decode(t, &fresh)
		old := time.Now().Add(-48 * time.Hour).UTC()
		forged := forgeSet(t, cdirs.backups, fresh.ID, old.Format("20060102T150405Z")+"-0000aa",
			map[string]any{"created": old.Format(time.RFC3339Nano), "trigger": "scheduled", "by": "scheduler"})
		csrv.must(t, http.StatusOK, http.MethodDelete, "/api/v1/backups/"+fresh.ID, croot, nil)
		token := csrv.createToken(t, croot, "1h", "read_acls", "read_pipelines", "read_transformers", "read_alerts", "read_streams")
		b.do(t, "sign in with a token", chromedp.Navigate(csrv.url+"/"), chromedp.WaitVisible(chromedp.CSS("#form-token")),
			chromedp.SendKeys(chromedp.CSS("#token"), token.Token+"\n"), chromedp.WaitVisible(chromedp.CSS(`.card[data-db="logs"]`)))
		if cred := evalIn[string](t, b, `sessionStorage.getItem("flowg.credential")||""`); cred != "pat:"+token.Token {
			t.Errorf("the token is kept as %q, want pat:<token>", strings.Repeat("*", len(cred)))
		}
		if who := b.text(t, "#who-name"); who != "root (token)" {
			t.Errorf("signed in with a token, the header says %q, want root (token)", who)
		}
		card := b.text(t, `.card[data-db="logs"]`)
		for _, want := range []string{"Continuous window", "Lag", "no gaps", "verified set older than a day", "2 days ago"} {
			if !strings.Contains(card, want) {
				t.Errorf("with continuous backup the logs card reads %q, want %q in it", card, want)
			}
		}
		if n := evalIn[int](t, b, `document.querySelectorAll(".card.stale").length`); n != 3 {
			t.Errorf("with a restore-verified set two days old, %d of 3 cards stand out, want 3", n)
		}
		if actions := evalIn[int](t, b, `document.querySelectorAll("#view-overview [data-action]").length`); actions != 1 {
			t.Errorf("a token with read scopes only sees %d actions on the overview, want 1 (take a set)", actions)
		}
		b.screenshot(t, "15-continuous")
		b.do(t, "open the set that left debug-* out", chromedp.Navigate(csrv.url+"/#set/"+forged),
			chromedp.WaitVisible(chromedp.CSS("#set-detail dl.facts")))
		if facts := b.text(t, "#set-detail dl.facts"); !strings.Contains(facts, "Streams left out") || !strings.Contains(facts, "debug-*") {
			t.Errorf("a set of a server run with --backup-exclude-stream debug-* reads %q, want the streams it left out", facts)
		}
		b.do(t, "sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#form-password")))
		// The second server is another origin: its requests are the page's own.
		b.mu.Lock()
		b.requests = slices.DeleteFunc(b.requests, func(u string) bool { return strings.HasPrefix(u, csrv.url+"/") })
		b.mu.Unlock()

	}
}

// forgeSet copies set in the catalog dir to a new set id whose manifest
// has the fields of changes, as a tampered or hand-made catalog could; it
// returns id.
func forgeSet(t *testing.T, catalog, set, id string, changes map[string]any) string {
	t.Helper()
	if err := os.CopyFS(filepath.Join(catalog, id), os.DirFS(filepath.Join(catalog, set))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(catalog, id, "manifest.json")
	var m map[string]any
	if err := json.Unmarshal(readFile(t, path), &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = id
	maps.Copy(m, changes)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return id
}

// catalogSets lists the catalog over the API, newest first.
func catalogSets(t testing.TB, srv *flowgServer, authz string) []listedSet {
	t.Helper()
	var list struct{ Backups []listedSet }
	srv.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", authz, nil).decode(t, &list)
	return list.Backups
}
