// Package kustvakt serves KorAP Kustvakt's super-client token list and
// revocation over the tokend core: a thin adapter, no rules.
//
// Requests are form posts; the service is the one of the client that
// authenticates (the super client, or the revoking client), found by its
// client_id. docs/kustvakt.md is the reference.
package kustvakt

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
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
	f.Surface = "kustvakt"
	if err := s.limits.Failed(r, s.core, f); err != nil {
		s.logger.WarnContext(r.Context(), "could not record repeated authentication failures", "err", err.Error())
	}
}

// clientKey names a client for the failure limiter by its client_id (the
// routes name no service), cut to the longest the core accepts.
func clientKey(clientID string) (key, actor string) {
	if len(clientID) > tokend.MaxNameLen+1 {
		clientID = clientID[:tokend.MaxNameLen+1]
	}
	return "client_id\x00" + clientID, "client_id:" + clientID
}

// Register mounts the dialect's routes on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/v1.0/oauth2/token/list", s.handle(s.tokenList))
	mux.Handle("POST /api/v1.0/oauth2/revoke/super", s.handle(s.revokeSuper))
	mux.Handle("POST /api/v1.0/oauth2/revoke/super/all", s.handle(s.revokeSuperAll))
	mux.Handle("POST /api/v1.0/oauth2/revoke", s.handle(s.revoke))
	mux.Handle("POST /api/v1.0/oauth2/client/list", s.handle(s.clientList))
}

func (s *Server) handle(h httpx.HandlerFunc) http.Handler {
	return httpx.Middleware(s.logger, s.adapter.Handler(func(w http.ResponseWriter, r *http.Request) error {
		// Answers list tokens and clients of a signed-in user.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		return h(w, r)
	}))
}

// form is a parsed request body: each parameter at most once, empty ones
// left out (RFC 6749 §3.2), unknown ones ignored as Kustvakt does.
type form map[string]string

// readForm parses a request body; see httpx.ReadForm.
func readForm(w http.ResponseWriter, r *http.Request) (form, error) {
	values, err := httpx.ReadForm(w, r)
	return form(values), err
}

// userCredentials reads the user's credentials from the Authorization
// header: Bearer <access token>, or Basic <username:password> (RFC 7617:
// the username ends at the first colon).
func userCredentials(r *http.Request) (tokend.UserCredentials, error) {
	headers := r.Header.Values("Authorization")
	switch len(headers) {
	case 0:
		return tokend.UserCredentials{}, nil // the core says what is missing
	case 1:
	default:
		return tokend.UserCredentials{}, tokend.Invalid("Authorization", "header appears more than once")
	}
	scheme, rest, _ := strings.Cut(headers[0], " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer") && rest != "":
		return tokend.UserCredentials{AccessToken: rest}, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		user, pass, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok || user == "" {
			return tokend.UserCredentials{}, userError("malformed Basic credentials: send base64 of username:password")
		}
		return tokend.UserCredentials{Username: user, Password: pass}, nil
	default:
		return tokend.UserCredentials{}, userError("the Authorization header must be Bearer <access token> or Basic <username:password>")
	}
}

func userError(msg string) error {
	return &tokend.Error{Code: tokend.EUNAUTHORIZED, Field: "user", Message: msg}
}

// session authenticates a super client request: the super client from the
// form, the user from the Authorization header.
//
// Failures are limited per super client (and the address it calls from)
// and per user of it: the super client is a server relaying its users'
// credentials, so one user's wrong passwords must lock out neither the
// super client nor the other users.
func (s *Server) session(r *http.Request, f form) (*tokend.UserSession, error) {
	user, err := userCredentials(r)
	if err != nil {
		return nil, err
	}
	ckey, cactor := clientKey(f["super_client_id"])
	userKey := ""
	if user.Username != "" && len(user.Username) <= tokend.MaxSubjectLen {
		userKey = ckey + "\x00user\x00" + user.Username
		if err := s.limits.CheckCredential(userKey); err != nil {
			return nil, err
		}
	}
	if err := s.limits.Check(r, ckey); err != nil {
		return nil, err
	}
	sess, err := s.core.OpenUserSession(r.Context(),
		tokend.ClientCredentials{ClientID: f["super_client_id"], Secret: f["super_client_secret"]}, user)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		if tokend.ErrorField(err) != "user" {
			s.failed(r, authlimit.Failure{Credential: ckey, Actor: cactor})
		} else if userKey != "" {
			s.failed(r, authlimit.Failure{Credential: userKey, Actor: "user:" + user.Username, CredentialOnly: true})
		}
	} else if err == nil {
		httpx.SetService(r.Context(), sess.Service().ID) // for the request's log line
	}
	return sess, err
}

// kvError is an answer the domain table does not give: a status chosen
// by the route.
type kvError struct {
	status int
	code   string
	domain error
}

func (e *kvError) Error() string { return "kustvakt: " + e.code + ": " + e.domain.Error() }
func (e *kvError) Unwrap() error { return e.domain }

// errorBody is Kustvakt's OAuth2 error answer.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// wireFields maps the core's names to this dialect's parameters, so that
// a description names what the caller sent.
var wireFields = map[string]string{
	"client": "client_id",
	"user":   "Authorization",
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code, field := tokend.ErrorCode(err), tokend.ErrorField(err)
	if to, ok := wireFields[field]; ok {
		field = to
	}
	msg := tokend.ErrorMessage(err)
	if field != "" && code == tokend.EINVALID && !strings.HasPrefix(msg, field) {
		msg = field + " " + msg
	}
	status, body := http.StatusBadRequest, errorBody{Error: "invalid_request", Description: msg}
	var ke *kvError
	var refused *authlimit.Refused
	switch {
	case errors.As(err, &refused):
		w.Header().Set("Retry-After", strconv.Itoa(refused.RetryAfter))
		status, body = http.StatusTooManyRequests, errorBody{Error: "temporarily_unavailable", Description: refused.Message()}
	case errors.As(err, &ke):
		status, body.Error = ke.status, ke.code
	case code == tokend.EINVALID, code == tokend.ENOTFOUND, code == tokend.ECONFLICT:
	case code == tokend.EGRANT:
		body.Error = "invalid_grant"
	case code == tokend.EUNAUTHORIZED && tokend.ErrorField(err) == "user":
		status, body.Error = http.StatusUnauthorized, "invalid_grant"
		if creds := r.Header.Get("Authorization"); len(creds) > 7 && strings.EqualFold(creds[:7], "Bearer ") {
			body.Error = "invalid_token"
		}
	case code == tokend.EUNAUTHORIZED:
		status, body.Error = http.StatusUnauthorized, "invalid_client"
	case code == tokend.EFORBIDDEN:
		status, body.Error = http.StatusUnauthorized, "unauthorized_client"
	case code == tokend.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		status, body = http.StatusServiceUnavailable, errorBody{Error: "temporarily_unavailable", Description: "the service is temporarily unavailable; retry shortly"}
	default:
		status, body = http.StatusInternalServerError, errorBody{Error: "server_error", Description: "internal error; quote request id " + httpx.RequestID(r.Context())}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", challenge(body.Error))
	}
	_ = httpx.WriteJSON(w, status, body)
}

// challenge is the WWW-Authenticate of a 401: the user's credentials are
// Bearer or Basic; a failed client is told of Basic (RFC 6749 §5.2).
func challenge(errorCode string) string {
	switch errorCode {
	case "invalid_token":
		return `Bearer realm="Kustvakt", error="invalid_token"`
	case "invalid_grant":
		return `Bearer realm="Kustvakt", Basic realm="Kustvakt"`
	default:
		return `Basic realm="Kustvakt"`
	}
}

// tokenType reads token_type: which of the user's tokens a call is about.
func tokenType(f form) (refresh bool, err error) {
	switch v := f["token_type"]; v {
	case "access_token":
		return false, nil
	case "refresh_token":
		return true, nil
	case "":
		return false, tokend.Invalid("token_type", "is required: access_token or refresh_token")
	default:
		return false, tokend.Invalid("token_type", "must be access_token or refresh_token, not %s", strconv.QuoteToASCII(shorten(v)))
	}
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
