// Package authlete serves Authlete's management and protocol-helper API
// (/api/{serviceId}/...) over the tokend core: a thin adapter, no rules. It
// translates Authlete's wire format (camelCase JSON, times in milliseconds
// since the epoch, durations in seconds, numeric client ids, resultCode and
// resultMessage) to core calls and back. docs/authlete.md is its reference.
package authlete

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

// Server holds the dialect's handlers.
type Server struct {
	core    *tokend.Core
	logger  *slog.Logger
	imports *tokend.Imports
	limits  *authlimit.Limiter
}

// New returns the dialect's server over core.
func New(core *tokend.Core, logger *slog.Logger) *Server {
	return &Server{core: core, logger: logger, imports: tokend.NewImports(core), limits: authlimit.New(authlimit.Options{})}
}

// UseLimiter makes the dialect count failed authentications in l, which a
// server shares among its surfaces, instead of a limiter of its own.
func (s *Server) UseLimiter(l *authlimit.Limiter) *Server {
	s.limits = l
	return s
}

// failed counts a failed authentication and logs a failure to record it.
func (s *Server) failed(r *http.Request, f authlimit.Failure) {
	f.Surface = "authlete"
	if err := s.limits.Failed(r, s.core, f); err != nil {
		s.logger.WarnContext(r.Context(), "could not record repeated authentication failures", "err", err.Error())
	}
}

// handler is a route's handler, called for an authenticated caller and the
// service the path names.
type handler func(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error

// route describes one route: its number in result codes (see codes.go),
// the query parameters it accepts, and the action its error bodies carry.
type route struct {
	api     string // three digits, the route's part of every result code
	query   []string
	actions actionsOf
}

// Register mounts the dialect's routes on mux.
func (s *Server) Register(mux *http.ServeMux) {
	const base = "/api/{serviceId}/"
	tokenActions := actionsOf{http.StatusBadRequest: "BAD_REQUEST", http.StatusForbidden: "FORBIDDEN", http.StatusNotFound: "BAD_REQUEST"}
	updateActions := actionsOf{http.StatusBadRequest: "BAD_REQUEST", http.StatusForbidden: "FORBIDDEN", http.StatusNotFound: "NOT_FOUND"}
	protocol := actionsOf{http.StatusBadRequest: "INTERNAL_SERVER_ERROR", http.StatusNotFound: "INTERNAL_SERVER_ERROR"}

	s.handle(mux, "GET "+base+"auth/token/get/list", route{api: apiTokenList,
		query: []string{"clientIdentifier", "subject", "start", "end", "tokenStatus"}}, s.listTokens)
	s.handle(mux, "POST "+base+"auth/token/create", route{api: apiTokenCreate, actions: tokenActions}, s.createToken)
	s.handle(mux, "POST "+base+"auth/token/create/batch", route{api: apiTokenBatch, query: []string{"dryRun"}}, s.createBatch)
	s.handle(mux, "GET "+base+"auth/token/create/batch/status/{requestId}", route{api: apiTokenBatchStatus}, s.batchStatus)
	s.handle(mux, "POST "+base+"auth/token/update", route{api: apiTokenUpdate, actions: updateActions}, s.updateToken)
	s.handle(mux, "DELETE "+base+"auth/token/delete/{accessTokenIdentifier}", route{api: apiTokenDelete}, s.deleteToken)
	s.handle(mux, "POST "+base+"auth/token/revoke", route{api: apiTokenRevoke}, s.revokeTokens)

	// Client authorizations: the TypeScript SDK's GET/DELETE with the
	// subject in the path (and again in the query), and the Java client's
	// POST with a JSON body.
	s.handle(mux, "GET "+base+"client/authorization/get/list/{subject}", route{api: apiAuthList,
		query: []string{"subject", "developer", "start", "end"}}, s.listAuthorizations)
	s.handle(mux, "POST "+base+"client/authorization/get/list", route{api: apiAuthList}, s.listAuthorizations)
	s.handle(mux, "POST "+base+"client/authorization/update/{clientId}", route{api: apiAuthUpdate}, s.updateAuthorization)
	s.handle(mux, "DELETE "+base+"client/authorization/delete/{clientId}/{subject}", route{api: apiAuthDelete, query: []string{"subject"}}, s.deleteAuthorization)
	s.handle(mux, "POST "+base+"client/authorization/delete/{clientId}", route{api: apiAuthDelete}, s.deleteAuthorization)
	s.handle(mux, "GET "+base+"client/granted_scopes/get/{clientId}/{subject}", route{api: apiScopesGet, query: []string{"subject"}}, s.getGrantedScopes)
	s.handle(mux, "POST "+base+"client/granted_scopes/get/{clientId}", route{api: apiScopesGet}, s.getGrantedScopes)
	s.handle(mux, "DELETE "+base+"client/granted_scopes/delete/{clientId}/{subject}", route{api: apiScopesDelete, query: []string{"subject"}}, s.deleteGrantedScopes)
	s.handle(mux, "POST "+base+"client/granted_scopes/delete/{clientId}", route{api: apiScopesDelete}, s.deleteGrantedScopes)

	// Protocol helpers: what an authorization server or resource server
	// front end asks its back end.
	s.handle(mux, "POST "+base+"auth/introspection", route{api: apiIntrospection, actions: protocol}, s.introspection)
	s.handle(mux, "POST "+base+"auth/introspection/standard", route{api: apiStandardIntrospection, actions: protocol}, s.standardIntrospection)
	s.handle(mux, "POST "+base+"auth/revocation", route{api: apiRevocation, actions: protocol}, s.revocation)
	s.handle(mux, "POST "+base+"auth/token", route{api: apiToken, actions: protocol}, s.token)
}

func (s *Server) handle(mux *http.ServeMux, pattern string, rt route, h handler) {
	a := httpx.Adapter{Logger: s.logger, Render: func(w http.ResponseWriter, r *http.Request, err error) {
		renderError(w, r, rt, err)
	}}
	mux.Handle(pattern, httpx.Middleware(s.logger, a.Handler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		sid, err := serviceID(r)
		if err != nil {
			return err
		}
		// Every route checks its query, not only those that take one: a
		// filter sent to the wrong route must not pass for a query.
		if _, err := httpx.Query(r, rt.query...); err != nil {
			return err
		}
		return h(w, r, p, sid)
	})))
}

// authenticate reads "Authorization: Bearer <key>": a service key of the
// service (Authlete's service access token) or an organization key
// (organization token).
//
// A rejected key counts against the source address's failure limit (see
// internal/authlimit); a missing one does not.
func (s *Server) authenticate(r *http.Request) (*tokend.Principal, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return s.core.AuthenticateKey(r.Context(), "")
	}
	if err := s.limits.Check(r, ""); err != nil {
		return nil, err
	}
	p, err := s.authenticateKey(r, header)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		sid, _ := strconv.ParseInt(r.PathValue("serviceId"), 10, 64)
		s.failed(r, authlimit.Failure{ServiceID: sid})
	}
	return p, err
}

func (s *Server) authenticateKey(r *http.Request, header string) (*tokend.Principal, error) {
	scheme, key, ok := strings.Cut(header, " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return nil, tokend.Errorf(tokend.EUNAUTHORIZED, "the Authorization header must be: Bearer <service access token or organization token>")
	}
	return s.core.AuthenticateKey(r.Context(), key)
}

// serviceID reads {serviceId}. Anything but a positive number cannot name
// a service, so it is not found rather than malformed.
func serviceID(r *http.Request) (int64, error) {
	v := r.PathValue("serviceId")
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, tokend.NotFound("service")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, tokend.NotFound("service")
	}
	return id, nil
}

// resultBody is every error's body, and the head of every success.
type resultBody struct {
	ResultCode    string `json:"resultCode"`
	ResultMessage string `json:"resultMessage"`
	Action        string `json:"action,omitempty"`
}

// withRequestID is an error of a batch that was accepted and then failed:
// its body names the batch, whose status tells the same.
type withRequestID struct {
	err       error
	requestID string
}

func (e *withRequestID) Error() string { return e.err.Error() }
func (e *withRequestID) Unwrap() error { return e.err }

func renderError(w http.ResponseWriter, r *http.Request, rt route, err error) {
	var refused *authlimit.Refused
	if errors.As(err, &refused) {
		code := resultCode(rt.api, suffixRateLimited)
		w.Header().Set("Retry-After", strconv.Itoa(refused.RetryAfter))
		_ = httpx.WriteJSON(w, http.StatusTooManyRequests, errorBody{resultBody: resultBody{ResultCode: code,
			ResultMessage: "[" + code + "] " + refused.Message(), Action: rt.actions.of(http.StatusTooManyRequests)}})
		return
	}
	st := statusOf(err)
	code := resultCode(rt.api, st.suffix)
	msg := message(err)
	switch tokend.ErrorCode(err) {
	case tokend.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="tokend"`)
	case tokend.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		// The store's message may describe its insides; the log has it.
		msg = "the store is unavailable; retry shortly"
	case tokend.EINTERNAL:
		msg = "internal error; quote request id " + httpx.RequestID(r.Context())
	}
	body := errorBody{resultBody: resultBody{ResultCode: code, ResultMessage: "[" + code + "] " + msg,
		Action: rt.actions.of(st.status)}}
	var rej *tokend.ImportRejected
	if errors.As(err, &rej) {
		body.Errors = itemErrors(rt.api, rej.Items)
	}
	var batch *withRequestID
	if errors.As(err, &batch) {
		body.RequestID = batch.requestID
	}
	_ = httpx.WriteJSON(w, st.status, body)
}

type errorBody struct {
	resultBody
	RequestID string      `json:"requestId,omitempty"`
	Errors    []itemError `json:"errors,omitempty"`
}

// itemError is why one token of a batch was refused.
type itemError struct {
	Index         int    `json:"index"`
	ResultCode    string `json:"resultCode"`
	ResultMessage string `json:"resultMessage"`
}

func itemErrors(api string, items []tokend.ImportItemError) []itemError {
	out := make([]itemError, len(items))
	for i, it := range items {
		code := resultCode(api, statusOf(it.Err).suffix)
		out[i] = itemError{Index: it.Index, ResultCode: code, ResultMessage: "[" + code + "] " + message(it.Err)}
	}
	return out
}

// message is the caller-facing text of err, led by the field at fault in
// Authlete's spelling.
func message(err error) string {
	msg := tokend.ErrorMessage(err)
	if f := tokend.ErrorField(err); f != "" {
		msg = wireField(f) + ": " + msg
	}
	return msg
}

// actionsOf gives the action an error body carries, by HTTP status, for
// routes whose response has an action; 5xx always means
// INTERNAL_SERVER_ERROR there.
type actionsOf map[int]string

func (a actionsOf) of(status int) string {
	if a == nil {
		return ""
	}
	if status >= 500 {
		return "INTERNAL_SERVER_ERROR"
	}
	return a[status]
}

func ok(api, format string, args ...any) resultBody {
	code := resultCode(api, suffixOK)
	return resultBody{ResultCode: code, ResultMessage: "[" + code + "] " + sprintf(format, args...)}
}
