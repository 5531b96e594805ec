// Package passport serves Passport IAM's token list and its neighbours
// (/v1/iam/oauth/tokens) over the tokend core: a thin adapter, no rules.
//
// The routes name no service: a caller's access token (issued by tokend's
// token endpoint, or by POST /v1/iam/oauth/tokens) or management key of
// one service says which. docs/passport.md is the reference.
package passport

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
)

// The scopes Passport's routes require of an access token; a management
// key needs the permission beside it instead.
const (
	ScopeList   = "iam.oauth.tokens.list.get"
	ScopeGet    = "iam.oauth.tokens.get"
	ScopeDelete = "iam.oauth.tokens.delete"
)

// Server holds the dialect's handlers.
type Server struct {
	core    *tokend.Core
	logger  *slog.Logger
	adapter httpx.Adapter
	limits  *authlimit.Limiter
}

// New returns the dialect's server over core.
func New(core *tokend.Core, logger *slog.Logger) *Server {
	s := &Server{core: core, logger: logger, limits: authlimit.New(authlimit.Options{})}
	s.adapter = httpx.Adapter{Logger: logger, Render: s.renderError}
	return s
}

// UseLimiter makes the dialect count failed authentications in l, which a
// server shares among its surfaces, instead of a limiter of its own.
func (s *Server) UseLimiter(l *authlimit.Limiter) *Server {
	s.limits = l
	return s
}

// failed counts a failed authentication and logs a failure to record it.
func (s *Server) failed(r *http.Request, f authlimit.Failure) {
	f.Surface = "passport"
	if err := s.limits.Failed(r, s.core, f); err != nil {
		s.logger.WarnContext(r.Context(), "could not record repeated authentication failures", "err", err.Error())
	}
}

// Register mounts the dialect's routes on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /v1/iam/oauth/tokens", s.authed(ScopeList, tokend.PermTokensRead, s.list))
	mux.Handle("POST /v1/iam/oauth/tokens", s.handle(s.issue))
	mux.Handle("GET /v1/iam/oauth/tokens/{token_id}", s.authed(ScopeGet, tokend.PermTokensRead, s.get))
	mux.Handle("DELETE /v1/iam/oauth/tokens/{token_id}", s.authed(ScopeDelete, tokend.PermTokensWrite, s.revoke))
}

func (s *Server) handle(h httpx.HandlerFunc) http.Handler {
	return httpx.Middleware(s.logger, s.adapter.Handler(h))
}

// caller is who an authenticated request acts as, in which service.
type caller struct {
	p   *tokend.Principal
	sid int64
}

type authedHandler func(w http.ResponseWriter, r *http.Request, c caller) error

// authed registers a route that an access token with scope, or a key of
// one service holding perm, may call.
func (s *Server) authed(scope string, perm tokend.Permission, h authedHandler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		raw, err := bearer(r)
		if err != nil {
			return &authError{err: err, scope: scope}
		}
		// A rejected credential counts against the source address (see
		// internal/authlimit); a token that lacks the scope is no guess.
		if err := s.limits.Check(r, ""); err != nil {
			return err
		}
		p, sid, err := s.core.AuthenticateScoped(r.Context(), raw, scope, perm)
		if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED && tokend.ErrorField(err) != "scope" {
			s.failed(r, authlimit.Failure{})
		}
		if err != nil {
			return &authError{err: err, scope: scope}
		}
		httpx.SetService(r.Context(), sid) // for the request's log line
		return h(w, r, caller{p: p, sid: sid})
	})
}

// bearer reads "Authorization: Bearer <credential>".
func bearer(r *http.Request) (string, error) {
	headers := r.Header.Values("Authorization")
	switch {
	case len(headers) == 0:
		return "", tokend.Errorf(tokend.EUNAUTHORIZED, "missing credentials: send Authorization: Bearer <access token>")
	case len(headers) > 1:
		return "", tokend.Invalid("Authorization", "header appears more than once")
	}
	scheme, raw, _ := strings.Cut(headers[0], " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return "", tokend.Errorf(tokend.EUNAUTHORIZED, "the Authorization header must be: Bearer <access token>")
	}
	return raw, nil
}

// authError carries the scope a route wanted to the 401 challenge.
type authError struct {
	err   error
	scope string
}

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// grpcCode is a google.rpc.Code: Passport's API is gRPC behind an HTTP
// gateway, and its errors carry the gRPC status code.
type grpcCode int

const (
	codeInvalidArgument   grpcCode = 3
	codeNotFound          grpcCode = 5
	codeAlreadyExists     grpcCode = 6
	codePermissionDenied  grpcCode = 7
	codeResourceExhausted grpcCode = 8
	codeInternal          grpcCode = 13
	codeUnavailable       grpcCode = 14
	codeUnauthenticated   grpcCode = 16
)

// statuses is the one table from domain codes to this dialect's answers.
// EGRANT and EUNSUPPORTED can only come from a refused token request.
var statuses = map[string]struct {
	http int
	code grpcCode
}{
	tokend.EINVALID:      {http.StatusBadRequest, codeInvalidArgument},
	tokend.EGRANT:        {http.StatusBadRequest, codeInvalidArgument},
	tokend.EUNSUPPORTED:  {http.StatusBadRequest, codeInvalidArgument},
	tokend.EUNAUTHORIZED: {http.StatusUnauthorized, codeUnauthenticated},
	tokend.EFORBIDDEN:    {http.StatusForbidden, codePermissionDenied},
	tokend.ENOTFOUND:     {http.StatusNotFound, codeNotFound},
	tokend.ECONFLICT:     {http.StatusConflict, codeAlreadyExists},
	tokend.EUNAVAILABLE:  {http.StatusServiceUnavailable, codeUnavailable},
}

// errorBody is the gateway's error shape (google.rpc.Status as JSON).
type errorBody struct {
	Code    grpcCode `json:"code"`
	Message string   `json:"message"`
	Details []any    `json:"details"`
}

// badRequest is google.rpc.BadRequest: the parameter at fault.
type badRequest struct {
	Type       string           `json:"@type"`
	Violations []fieldViolation `json:"field_violations"`
}

type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var refused *authlimit.Refused
	if errors.As(err, &refused) {
		w.Header().Set("Retry-After", strconv.Itoa(refused.RetryAfter))
		_ = httpx.WriteJSON(w, http.StatusTooManyRequests, errorBody{Code: codeResourceExhausted, Message: refused.Message(), Details: []any{}})
		return
	}
	domain := tokend.ErrorCode(err)
	m, ok := statuses[domain]
	if !ok {
		m.http, m.code = http.StatusInternalServerError, codeInternal
	}
	body := errorBody{Code: m.code, Message: tokend.ErrorMessage(err), Details: []any{}}
	field := tokend.ErrorField(err)
	switch domain {
	case tokend.EINVALID:
		if field != "" {
			body.Message = field + ": " + body.Message
			body.Details = append(body.Details, badRequest{
				Type:       "type.googleapis.com/google.rpc.BadRequest",
				Violations: []fieldViolation{{Field: field, Description: tokend.ErrorMessage(err)}},
			})
		}
	case tokend.EUNAUTHORIZED:
		challenge := `Bearer realm="tokend"`
		var ae *authError
		switch {
		case field == "scope" && errors.As(err, &ae):
			challenge += `, error="insufficient_scope", scope="` + ae.scope + `"`
		case r.Header.Get("Authorization") != "":
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	case tokend.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		body.Message = "the store is unavailable; retry shortly"
	}
	if !ok {
		body.Message = "internal error; quote request id " + httpx.RequestID(r.Context())
	}
	_ = httpx.WriteJSON(w, m.http, body)
}
