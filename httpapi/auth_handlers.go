package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/internal/duration"
)

// login checks a username and password (POST /api/v1/auth/login) and
// answers {"token": "<jwt>"}, for use as Authorization: Bearer jwt:<jwt>.
// The login limits (auth.LoginGuard) apply first: too many failures of this
// user from this client address, or from this address, get 429, and no free
// password check within the wait gets 503, both with Retry-After.
func (s *Server) login(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, &req, maxJSONBody, `{"username": "root", "password": "..."}`); err != nil {
		return err
	}
	var token string
	err := s.logins.Attempt(c.Request().Context(), req.Username, c.RealIP(), func() error {
		if s.opts.DuringPasswordCheck != nil {
			s.opts.DuringPasswordCheck()
		}
		return s.withAuth(func(svc *auth.Service) error {
			var err error
			token, err = svc.Login(req.Username, req.Password)
			return err
		})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"token": token})
}

// createToken creates a personal access token for the caller (POST
// /api/v1/tokens) with {"scopes": [...], "expires_in": "720h"}, both
// optional, and answers {"id", "token", "owner"}; the token is shown only
// here. auth.CreateToken decides which scopes it may hold: never more than
// the caller's.
func (s *Server) createToken(c echo.Context) error {
	var req struct {
		Scopes    []string `json:"scopes"`
		ExpiresIn string   `json:"expires_in"`
	}
	if err := decodeJSON(c, &req, maxJSONBody, `{"scopes": ["read_streams"], "expires_in": "720h"}`); err != nil {
		return err
	}
	scopes, err := auth.ParseScopes(req.Scopes)
	if err != nil {
		return err
	}
	ttl, err := duration.Parse(req.ExpiresIn)
	if err != nil {
		return badRequest("expires_in: "+err.Error(), `use e.g. "expires_in": "720h" or "30d", or leave it out for a token that does not expire`)
	}
	p := principalOf(c)
	var id, token string
	err = s.withAuth(func(svc *auth.Service) error {
		var err error
		id, token, err = svc.CreateToken(p, p.User, scopes, ttl)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"id": id, "token": token, "owner": p.User})
}

// listTokens lists the caller's tokens (GET /api/v1/tokens), or everyone's
// with ?all=true and read_acls. Secrets are never listed.
func (s *Server) listTokens(c echo.Context) error {
	owner := principalOf(c).User
	if c.QueryParam("all") == "true" {
		if err := require(c, auth.ScopeReadACLs); err != nil {
			return err
		}
		owner = ""
	}
	var tokens []auth.Token
	err := s.withAuth(func(svc *auth.Service) error {
		var err error
		tokens, err = svc.ListTokens(owner)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": tokens})
}

// revokeToken revokes a token (DELETE /api/v1/tokens/:id): one of the
// caller's own, or anyone's with write_acls, and never one holding scopes
// the caller lacks (auth.RevokeToken has the rule).
func (s *Server) revokeToken(c echo.Context) error {
	p, id := principalOf(c), c.Param("id")
	if err := s.withAuth(func(svc *auth.Service) error { return svc.RevokeToken(p, id) }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"revoked": id})
}

// listUsers lists every user (GET /api/v1/users, read_acls).
func (s *Server) listUsers(c echo.Context) error {
	if err := require(c, auth.ScopeReadACLs); err != nil {
		return err
	}
	var users []auth.User
	err := s.withAuth(func(svc *auth.Service) error {
		var err error
		users, err = svc.ListUsers()
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users})
}

// getUser answers one user (GET /api/v1/users/:name, read_acls).
func (s *Server) getUser(c echo.Context) error {
	if err := require(c, auth.ScopeReadACLs); err != nil {
		return err
	}
	var u auth.User
	err := s.withAuth(func(svc *auth.Service) error {
		var err error
		u, err = svc.GetUser(c.Param("name"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// putUser creates a user or changes its roles and password (PUT
// /api/v1/users/:name, write_acls) with {"password": "...", "roles": [...]};
// the password may be left out for an existing user.
func (s *Server) putUser(c echo.Context) error {
	if err := require(c, auth.ScopeWriteACLs); err != nil {
		return err
	}
	var req struct {
		Password string   `json:"password"`
		Roles    []string `json:"roles"`
	}
	if err := decodeJSON(c, &req, maxJSONBody, `{"password": "...", "roles": ["admin"]}`); err != nil {
		return err
	}
	name := c.Param("name")
	var u auth.User
	err := s.withAuth(func(svc *auth.Service) error {
		if err := svc.PutUser(name, req.Password, req.Roles); err != nil {
			return err
		}
		var err error
		u, err = svc.GetUser(name)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// deleteUser deletes a user and revokes its tokens (DELETE
// /api/v1/users/:name, write_acls).
func (s *Server) deleteUser(c echo.Context) error {
	if err := require(c, auth.ScopeWriteACLs); err != nil {
		return err
	}
	name := c.Param("name")
	if err := s.withAuth(func(svc *auth.Service) error { return svc.DeleteUser(name) }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"deleted": name})
}

// listRoles lists every role (GET /api/v1/roles, read_acls).
func (s *Server) listRoles(c echo.Context) error {
	if err := require(c, auth.ScopeReadACLs); err != nil {
		return err
	}
	var roles []auth.Role
	err := s.withAuth(func(svc *auth.Service) error {
		var err error
		roles, err = svc.ListRoles()
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"roles": roles})
}

// getRole answers one role (GET /api/v1/roles/:name, read_acls).
func (s *Server) getRole(c echo.Context) error {
	if err := require(c, auth.ScopeReadACLs); err != nil {
		return err
	}
	var r auth.Role
	err := s.withAuth(func(svc *auth.Service) error {
		var err error
		r, err = svc.GetRole(c.Param("name"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// putRole creates or replaces a role (PUT /api/v1/roles/:name, write_acls)
// with {"scopes": [...]}.
func (s *Server) putRole(c echo.Context) error {
	if err := require(c, auth.ScopeWriteACLs); err != nil {
		return err
	}
	var req struct {
		Scopes []string `json:"scopes"`
	}
	if err := decodeJSON(c, &req, maxJSONBody, `{"scopes": ["read_streams", "send_logs"]}`); err != nil {
		return err
	}
	scopes, err := auth.ParseScopes(req.Scopes)
	if err != nil {
		return err
	}
	r := auth.Role{Name: c.Param("name"), Scopes: auth.NewScopeSet(scopes...)}
	if err := s.withAuth(func(svc *auth.Service) error { return svc.PutRole(r) }); err != nil {
		return err
	}
	if r.Scopes == nil {
		r.Scopes = auth.ScopeSet{}
	}
	return c.JSON(http.StatusOK, r)
}

// deleteRole deletes a role no user holds (DELETE /api/v1/roles/:name,
// write_acls).
func (s *Server) deleteRole(c echo.Context) error {
	if err := require(c, auth.ScopeWriteACLs); err != nil {
		return err
	}
	name := c.Param("name")
	if err := s.withAuth(func(svc *auth.Service) error { return svc.DeleteRole(name) }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"deleted": name})
}
