package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
)

// meReply is the answer of GET /api/v1/auth/me. Its shape only ever gains
// fields.
type meReply struct {
	User string `json:"user"`
	// Kind is "jwt" for a login token, "token" for a personal access token.
	Kind string `json:"kind"`
	// Scopes are the effective scopes: the user's roles', narrowed by the
	// token's own when it has any.
	Scopes []auth.Scope `json:"scopes"`
	// TokenExpiresAt is when the credential stops working; null when it
	// never does.
	TokenExpiresAt *string `json:"token_expires_at"`
}

// authMe says who the caller is and what it may do (GET /api/v1/auth/me):
// any authenticated caller may ask, it needs no scope.
func (s *Server) authMe(c echo.Context) error {
	p := principalOf(c)
	reply := meReply{User: p.User, Kind: "jwt", Scopes: []auth.Scope(p.Scopes)}
	if p.Via == auth.ViaPAT {
		reply.Kind = "token"
	}
	if reply.Scopes == nil {
		reply.Scopes = []auth.Scope{}
	}
	if p.ExpiresAt != nil {
		at := p.ExpiresAt.UTC().Format(time.RFC3339)
		reply.TokenExpiresAt = &at
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, reply)
}
