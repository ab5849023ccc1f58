package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/kv"
)

// Download links (POST /api/v1/backups/:id/:db/link, then
// GET /api/v1/downloads/:token): a caller allowed to download a set's file
// gets a URL a browser can fetch without the Authorization header, so the
// file streams to disk instead of through the page's memory. A link works
// once and for Options.DownloadLinkTTL; the server keeps only the SHA-256
// of its token, in memory, and at most Options.MaxDownloadLinks of them,
// of which at most Options.MaxDownloadLinksPerUser are one user's: one
// user cannot take every link of the server and lock the others out.

// downloadRoute is the route of the links; its token is never logged.
const downloadRoute = "/api/v1/downloads/:token"

// DefaultDownloadLinkTTL is flowg serve's --download-link-ttl.
const DefaultDownloadLinkTTL = 60 * time.Second

// DefaultMaxDownloadLinks is flowg serve's --max-download-links.
const DefaultMaxDownloadLinks = 1000

// DefaultMaxDownloadLinksPerUser is flowg serve's --max-download-links-per-user.
const DefaultMaxDownloadLinksPerUser = 20

// downloadTokenBytes is how many random bytes a link's token holds.
const downloadTokenBytes = 32

// downloadLink is what a link's token stands for.
type downloadLink struct {
	set     string
	db      kv.Name
	user    string
	expires time.Time
}

// downloadLinks holds the links not yet used, by the SHA-256 of their token.
type downloadLinks struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	perUser int
	links   map[[sha256.Size]byte]downloadLink
}

func newDownloadLinks(ttl time.Duration, max, perUser int) *downloadLinks {
	if ttl <= 0 {
		ttl = DefaultDownloadLinkTTL
	}
	if max <= 0 {
		max = DefaultMaxDownloadLinks
	}
	if perUser <= 0 {
		perUser = DefaultMaxDownloadLinksPerUser
	}
	return &downloadLinks{ttl: ttl, max: max, perUser: perUser, links: map[[sha256.Size]byte]downloadLink{}}
}

// Why add made no link.
const (
	linksFull    = "server"
	linksPerUser = "user"
)

// add keeps l under a new token and returns the token, or the reason it
// made none: linksFull when max links not yet expired are kept already,
// linksPerUser when perUser of them are l.user's.
func (d *downloadLinks) add(l downloadLink, now time.Time) (token, refused string, err error) {
	raw := make([]byte, downloadTokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	d.mu.Lock()
	defer d.mu.Unlock()
	mine := 0
	for k, old := range d.links {
		switch {
		case !now.Before(old.expires):
			delete(d.links, k)
		case old.user == l.user:
			mine++
		}
	}
	switch {
	case len(d.links) >= d.max:
		return "", linksFull, nil
	case mine >= d.perUser:
		return "", linksPerUser, nil
	}
	l.expires = now.Add(d.ttl)
	d.links[sha256.Sum256([]byte(token))] = l
	return token, "", nil
}

// take removes the link of token and returns it; found is false for a
// token never given or already used, expired true for one given but too old.
func (d *downloadLinks) take(token string, now time.Time) (l downloadLink, found, expired bool) {
	key := sha256.Sum256([]byte(token))
	d.mu.Lock()
	defer d.mu.Unlock()
	l, found = d.links[key]
	if !found {
		return l, false, false
	}
	delete(d.links, key)
	return l, true, !now.Before(l.expires)
}

// peek reports what take would, without using the link.
func (d *downloadLinks) peek(token string, now time.Time) (found, expired bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, found := d.links[sha256.Sum256([]byte(token))]
	return found, found && !now.Before(l.expires)
}

// linkReply is the answer of POST /api/v1/backups/:id/:db/link.
type linkReply struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
}

// createDownloadLink makes a single-use link to the file of database :db
// of set :id (POST /api/v1/backups/:id/:db/link): the scopes, the set and
// its state are checked as for the download itself, now.
func (s *Server) createDownloadLink(c echo.Context) error {
	info, name, err := s.setFileOf(c, "link a set's files as /api/v1/backups/ID/auth/link, /api/v1/backups/ID/config/link or /api/v1/backups/ID/logs/link")
	if err != nil {
		return err
	}
	if err := downloadable(info, name); err != nil {
		return err
	}
	now := s.now()
	user := principalOf(c).User
	token, refused, err := s.links.add(downloadLink{set: info.ID, db: name, user: user}, now)
	if err != nil {
		return internal("no download link could be made", "see the server log for request "+requestID(c), err)
	}
	if refused != "" {
		c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(int(s.links.ttl.Seconds())+1))
		msg := fmt.Sprintf("no download link made: %d links not yet used nor expired are held, the most the server keeps (--max-download-links)", s.links.max)
		if refused == linksPerUser {
			msg = fmt.Sprintf("no download link made: user %q holds %d links not yet used nor expired, the most one user may (--max-download-links-per-user)", user, s.links.perUser)
		}
		return &apiError{status: http.StatusTooManyRequests, code: CodeRateLimited, msg: msg,
			hint: "retry after Retry-After seconds, when links expire, or download with the Authorization header: GET /api/v1/backups/ID/DB"}
	}
	s.log.Info("download link made", "request_id", requestID(c), "set", info.ID, "database", name, "user", principalOf(c).User)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, linkReply{URL: "/api/v1/downloads/" + token,
		ExpiresAt: now.Add(s.links.ttl).UTC().Format(time.RFC3339)})
}

// downloadLinkHead answers HEAD /api/v1/downloads/:token as GET would
// begin to (200, 404 or 410), without using the link.
func (s *Server) downloadLinkHead(c echo.Context) error {
	found, expired := s.links.peek(c.Param("token"), s.now())
	switch {
	case !found:
		return c.NoContent(http.StatusNotFound)
	case expired:
		return c.NoContent(http.StatusGone)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.NoContent(http.StatusOK)
}

// downloadByLink sends the file a link names (GET /api/v1/downloads/:token),
// without Authorization: the token is the credential, good once. A token
// never given or used already is a 404, an expired one a 410.
func (s *Server) downloadByLink(c echo.Context) error {
	l, found, expired := s.links.take(c.Param("token"), s.now())
	switch {
	case !found:
		return &apiError{status: http.StatusNotFound, code: CodeNotFound, msg: "no such download link: it was used already, or never made",
			hint: "a link works once: ask for a new one with POST /api/v1/backups/ID/DB/link"}
	case expired:
		return &apiError{status: http.StatusGone, msg: fmt.Sprintf("this download link expired (links last --download-link-ttl, %s)", s.links.ttl),
			hint: "ask for a new one with POST /api/v1/backups/ID/DB/link and fetch it at once"}
	}
	c.SetParamNames("id", "db")
	c.SetParamValues(l.set, string(l.db))
	info, err := s.lookupSet(c)
	if err != nil {
		return err
	}
	s.log.Info("download by link", "request_id", requestID(c), "set", l.set, "database", l.db, "user", l.user)
	return s.sendSetFile(c, info, l.db)
}
