package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
)

// docScopes are the read and write scopes of each kind of config document.
var docScopes = map[docs.Kind][2]auth.Scope{
	docs.KindPipeline:    {auth.ScopeReadPipelines, auth.ScopeWritePipelines},
	docs.KindTransformer: {auth.ScopeReadTransformers, auth.ScopeWriteTransformers},
	docs.KindAlert:       {auth.ScopeReadAlerts, auth.ScopeWriteAlerts},
}

// configRoutes registers list, get, put and delete for each kind of config
// document under /api/v1/{pipelines,transformers,alerts}. The handlers are
// shared; only the kind differs.
func (s *Server) configRoutes(authn echo.MiddlewareFunc) {
	for _, kind := range docs.Kinds {
		base := "/api/v1/" + string(kind)
		s.echo.GET(base, s.listDocs(kind), authn)
		s.echo.GET(base+"/:name", s.getDoc(kind), authn)
		s.echo.PUT(base+"/:name", s.putDoc(kind), authn)
		s.echo.DELETE(base+"/:name", s.deleteDoc(kind), authn)
	}
}

// withDocs checks that the caller holds scope, then calls fn with the
// config documents, the config database held for the duration of the call.
func (s *Server) withDocs(c echo.Context, scope auth.Scope, fn func(*docs.Store) error) error {
	if err := require(c, scope); err != nil {
		return err
	}
	db, release, err := s.acquire(kv.Config)
	if err != nil {
		return err
	}
	defer release()
	return fn(docs.New(db))
}

// listDocs answers {"names": [...]}, sorted (GET /api/v1/<kind>).
func (s *Server) listDocs(kind docs.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		var names []string
		err := s.withDocs(c, docScopes[kind][0], func(st *docs.Store) error {
			var err error
			names, err = st.List(kind)
			return err
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"kind": kind, "names": names})
	}
}

// getDoc answers a document's body as stored: application/json when it is
// JSON, text/plain otherwise (GET /api/v1/<kind>/:name).
func (s *Server) getDoc(kind docs.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body []byte
		err := s.withDocs(c, docScopes[kind][0], func(st *docs.Store) error {
			var err error
			body, err = st.Get(kind, c.Param("name"))
			return err
		})
		if err != nil {
			return err
		}
		contentType := echo.MIMETextPlainCharsetUTF8
		if json.Valid(body) {
			contentType = echo.MIMEApplicationJSON
		}
		return c.Blob(http.StatusOK, contentType, body)
	}
}

// putDoc stores the request body, JSON or text of at most
// docs.MaxBodySize bytes, as the document (PUT /api/v1/<kind>/:name).
func (s *Server) putDoc(kind docs.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := require(c, docScopes[kind][1]); err != nil {
			return err // before reading a body the caller may not write
		}
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, docs.MaxBodySize+1))
		if err != nil {
			return badRequest("the request body could not be read: "+err.Error(), "send the document again")
		}
		if len(body) > docs.MaxBodySize {
			return &apiError{status: http.StatusRequestEntityTooLarge,
				msg:  fmt.Sprintf("the document is over the %d-byte limit", docs.MaxBodySize),
				hint: "split it; nothing was written"}
		}
		name := c.Param("name")
		err = s.withDocs(c, docScopes[kind][1], func(st *docs.Store) error { return st.Put(kind, name, body) })
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"kind": kind, "name": name, "bytes": len(body)})
	}
}

// deleteDoc deletes a document (DELETE /api/v1/<kind>/:name).
func (s *Server) deleteDoc(kind docs.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		err := s.withDocs(c, docScopes[kind][1], func(st *docs.Store) error { return st.Delete(kind, name) })
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"kind": kind, "deleted": name})
	}
}
