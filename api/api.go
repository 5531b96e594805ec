// Package api is tokend's native management API (/v1): a thin adapter that
// decodes a request, calls the core and encodes the result. Rules and
// permissions live in the core; this package only translates between JSON
// and the core's Go values, and between domain error codes and statuses.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

// API serves the native management API.
type API struct {
	core    *tokend.Core
	logger  *slog.Logger
	adapter httpx.Adapter
	limits  *authlimit.Limiter
}

// New returns the API over core, logging to logger.
func New(core *tokend.Core, logger *slog.Logger) *API {
	a := &API{core: core, logger: logger, limits: authlimit.New(authlimit.Options{})}
	a.adapter = httpx.Adapter{Logger: logger, Render: a.renderError}
	return a
}

// UseLimiter makes the API count failed authentications in l, which a
// server shares among its surfaces, instead of a limiter of its own.
func (a *API) UseLimiter(l *authlimit.Limiter) *API {
	a.limits = l
	return a
}

// authHandler is a route handler that runs for an authenticated caller.
type authHandler func(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error

// Register adds the API's routes to mux. Each route carries request ids,
// one log line per request and panic recovery, so mux needs no wrapping
// (wrapping it in httpx.Middleware as well does no harm).
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /healthz", a.public(a.health))
	mux.Handle("GET /readyz", a.public(a.ready))

	a.route(mux, "POST /v1/services", a.createService)
	a.route(mux, "GET /v1/services", a.listServices)
	a.route(mux, "GET /v1/services/{sid}", a.getService)
	a.route(mux, "PATCH /v1/services/{sid}", a.updateService)
	a.route(mux, "DELETE /v1/services/{sid}", a.deleteService)

	a.route(mux, "POST /v1/services/{sid}/clients", a.createClient)
	a.route(mux, "GET /v1/services/{sid}/clients", a.listClients, "page_size", "page_token")
	a.route(mux, "GET /v1/services/{sid}/clients/{client}", a.getClient)
	a.route(mux, "PATCH /v1/services/{sid}/clients/{client}", a.updateClient)
	a.route(mux, "DELETE /v1/services/{sid}/clients/{client}", a.deleteClient)
	a.route(mux, "POST /v1/services/{sid}/clients/{client}/secret", a.rotateClientSecret)

	a.route(mux, "POST /v1/keys", a.createKey)
	a.route(mux, "GET /v1/keys", a.listKeys)
	a.route(mux, "DELETE /v1/keys/{kid}", a.deleteKey)
	a.route(mux, "POST /v1/services/{sid}/keys", a.createKey)
	a.route(mux, "GET /v1/services/{sid}/keys", a.listKeys)
	a.route(mux, "DELETE /v1/services/{sid}/keys/{kid}", a.deleteKey)

	a.route(mux, "GET /v1/services/{sid}/tokens", a.listTokens, tokenQueryParams...)
	a.route(mux, "POST /v1/services/{sid}/tokens", a.createToken)
	a.route(mux, "POST /v1/services/{sid}/tokens/lookup", a.lookupToken)
	a.route(mux, "POST /v1/services/{sid}/tokens/revoke", a.revokeTokens)
	a.route(mux, "GET /v1/services/{sid}/tokens/{id}", a.getToken)
	a.route(mux, "PATCH /v1/services/{sid}/tokens/{id}", a.updateToken)
	a.route(mux, "DELETE /v1/services/{sid}/tokens/{id}", a.deleteToken)
	a.route(mux, "POST /v1/services/{sid}/tokens/{id}/revoke", a.revokeToken)

	a.route(mux, "POST /v1/services/{sid}/authorization-codes", a.createCode)

	a.route(mux, "POST /v1/services/{sid}/users", a.createUser)
	a.route(mux, "GET /v1/services/{sid}/users", a.listUsers, "page_size", "page_token")
	a.route(mux, "GET /v1/services/{sid}/users/{username}", a.getUser)
	a.route(mux, "PATCH /v1/services/{sid}/users/{username}", a.updateUser)
	a.route(mux, "DELETE /v1/services/{sid}/users/{username}", a.deleteUser)

	a.route(mux, "GET /v1/services/{sid}/subjects/{subject}/grants", a.listGrants)
	a.route(mux, "DELETE /v1/services/{sid}/subjects/{subject}/grants/{client}", a.revokeGrant)

	a.registerAudit(mux)
}

func (a *API) public(h httpx.HandlerFunc) http.Handler {
	return httpx.Middleware(a.logger, a.adapter.Handler(h))
}

// route registers an authenticated route that accepts the named query
// parameters and no others.
func (a *API) route(mux *http.ServeMux, pattern string, h authHandler, query ...string) {
	mux.Handle(pattern, a.public(func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.authenticate(r)
		if err != nil {
			return err
		}
		// Checked for every route, not only the ones that take parameters:
		// a filter sent to the wrong route must not pass for a query.
		if _, err := httpx.Query(r, query...); err != nil {
			return err
		}
		return h(w, r, p)
	}))
}

// authenticate resolves the request's key behind the failure limit of its
// source address (a key names no one before it is found, so there is no
// per-credential limit): a rejected key counts, a missing one does not.
func (a *API) authenticate(r *http.Request) (*tokend.Principal, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return a.core.AuthenticateKey(r.Context(), "")
	}
	if err := a.limits.Check(r, ""); err != nil {
		return nil, err
	}
	p, err := a.authenticateKey(r, header)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		sid, _ := strconv.ParseInt(r.PathValue("sid"), 10, 64)
		if ferr := a.limits.Failed(r, a.core, authlimit.Failure{ServiceID: sid, Surface: "api"}); ferr != nil {
			a.logger.WarnContext(r.Context(), "could not record repeated authentication failures", "err", ferr.Error())
		}
	}
	return p, err
}

func (a *API) authenticateKey(r *http.Request, header string) (*tokend.Principal, error) {
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, tokend.Errorf(tokend.EUNAUTHORIZED, "the Authorization header must be: Bearer <key>")
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, tokend.Errorf(tokend.EUNAUTHORIZED, "the Authorization header must be: Bearer <key>")
	}
	return a.core.AuthenticateKey(r.Context(), key)
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	return httpx.WriteJSON(w, http.StatusOK, wire.Health{Status: "ok"})
}

// ready answers a readiness probe: 200 while the store answers and has the
// schema this build needs, 503 (the store's detail in the log) otherwise.
func (a *API) ready(w http.ResponseWriter, r *http.Request) error {
	if err := a.core.Ready(r.Context()); err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, wire.Health{Status: "ready"})
}

// statuses is the one table from domain codes to HTTP statuses. EGRANT and
// EUNSUPPORTED come from the OAuth side of the core; should one reach the
// management API, it is still the caller's request that is at fault.
var statuses = map[string]int{
	tokend.EINVALID:      http.StatusBadRequest,
	tokend.EGRANT:        http.StatusBadRequest,
	tokend.EUNSUPPORTED:  http.StatusBadRequest,
	tokend.EUNAUTHORIZED: http.StatusUnauthorized,
	tokend.EFORBIDDEN:    http.StatusForbidden,
	tokend.ENOTFOUND:     http.StatusNotFound,
	tokend.ECONFLICT:     http.StatusConflict,
	tokend.EUNAVAILABLE:  http.StatusServiceUnavailable,
	tokend.EINTERNAL:     http.StatusInternalServerError,
}

func (a *API) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var refused *authlimit.Refused
	if errors.As(err, &refused) {
		w.Header().Set("Retry-After", strconv.Itoa(refused.RetryAfter))
		_ = httpx.WriteJSON(w, http.StatusTooManyRequests, wire.Error{Error: "rate_limited", Message: refused.Message()})
		return
	}
	code := tokend.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		code, status = tokend.EINTERNAL, http.StatusInternalServerError
	}
	body := wire.Error{Error: code, Message: tokend.ErrorMessage(err), Field: tokend.ErrorField(err)}
	switch code {
	case tokend.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="tokend"`)
	case tokend.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		// The store's message may describe its insides; the log has it.
		body.Message, body.Field = "the store is unavailable; retry shortly", ""
	case tokend.EINTERNAL:
		body.Message, body.Field = "internal error; quote request id "+httpx.RequestID(r.Context()), ""
	}
	_ = httpx.WriteJSON(w, status, body)
}

// pathID reads a numeric path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, tokend.Invalid(name, "must be a numeric id")
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, tokend.Invalid(name, "must be a positive numeric id")
	}
	return id, nil
}

// renameField translates a field name the core uses into the wire's name
// for the same input, so the field in an error is one the caller sent.
func renameField(err error, names map[string]string) error {
	var e *tokend.Error
	if errors.As(err, &e) {
		if to, ok := names[e.Field]; ok {
			return &tokend.Error{Code: e.Code, Field: to, Message: e.Message}
		}
	}
	return err
}
