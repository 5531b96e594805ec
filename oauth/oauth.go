// Package oauth serves tokend's OAuth 2.0 endpoints: the token endpoint
// (RFC 6749), introspection (RFC 7662), revocation (RFC 7009) and
// authorization server metadata (RFC 8414). It is a thin adapter: it parses
// form posts and credentials, calls the core, and turns domain errors into
// RFC 6749 §5.2 error responses through one table. The rules (grants,
// rotation, reuse detection, who may see what) live in the core.
//
// tokend has no authorization endpoint of its own: the host application
// authenticates the user, gets consent and mints an authorization code
// through the management API; its client redeems the code here.
package oauth

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
)

// Options tunes the OAuth endpoints. The zero value is a sane production
// setting.
type Options struct {
	// ClientFailures limits failed client authentications per (service,
	// client_id), whatever address they come from: a secret cannot be
	// guessed from a botnet either.
	ClientFailures Limit
	// AddressFailures limits failed authentications (client or management
	// key) per source address, whatever client they name: one address
	// cannot spray guesses over many client_ids.
	AddressFailures Limit
	// MaxTracked bounds how many clients, and separately how many
	// addresses, the limiters remember; zero means DefaultMaxTracked.
	MaxTracked int
	// ClientAddress names the source of a request for AddressFailures.
	// nil means the host of r.RemoteAddr (IPv6 grouped by /64). Behind a
	// reverse proxy, supply a function that reads the header the proxy
	// sets; tokend does not trust X-Forwarded-For on its own, since any
	// client can send one.
	ClientAddress func(r *http.Request) string
	// Now is the limiters' clock; nil means time.Now.
	Now func() time.Time
	// Limiter, when set, counts the failures instead of one made from the
	// fields above: a server shares one among its surfaces, so that an
	// address's guesses count the same wherever they are made.
	Limiter *authlimit.Limiter
}

// Limit is a token bucket of failures: Burst failures in a row are
// allowed, then one more each Every.
type Limit = authlimit.Limit

// Defaults for Options (internal/authlimit has the reasoning).
var (
	DefaultClientFailures  = authlimit.DefaultCredential
	DefaultAddressFailures = authlimit.DefaultAddress
)

// DefaultMaxTracked bounds each limiter's memory.
const DefaultMaxTracked = authlimit.DefaultMaxTracked

// Server serves the OAuth endpoints of every service.
type Server struct {
	core    *tokend.Core
	logger  *slog.Logger
	adapter httpx.Adapter
	limits  *authlimit.Limiter
}

// New returns the OAuth endpoints over core.
func New(core *tokend.Core, logger *slog.Logger, opts Options) *Server {
	s := &Server{core: core, logger: logger, limits: opts.Limiter}
	if s.limits == nil {
		s.limits = authlimit.New(authlimit.Options{
			Credential: opts.ClientFailures, Address: opts.AddressFailures, MaxTracked: opts.MaxTracked,
			ClientAddress: opts.ClientAddress, Now: opts.Now,
		})
	}
	s.adapter = httpx.Adapter{Logger: logger, Render: s.renderError}
	return s
}

// Register adds the endpoints to mux. Each route carries request ids, a
// log line and panic recovery (httpx.Middleware), like the native API.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("POST /oauth/{sid}/token", s.handle(s.token))
	mux.Handle("POST /oauth/{sid}/introspect", s.handle(s.introspect))
	mux.Handle("POST /oauth/{sid}/revoke", s.handle(s.revoke))
	// RFC 8414 §3 inserts the well-known segment before the issuer's path;
	// some clients append it to the issuer instead, so answer both.
	mux.Handle("GET /.well-known/oauth-authorization-server", s.handle(s.discoveryByPath))
	mux.Handle("GET /.well-known/oauth-authorization-server/{path...}", s.handle(s.discoveryByPath))
	mux.Handle("GET /oauth/{sid}/.well-known/oauth-authorization-server", s.handle(s.discoveryByID))
}

func (s *Server) handle(h httpx.HandlerFunc) http.Handler {
	return httpx.Middleware(s.logger, s.adapter.Handler(h))
}

// pathSID reads the numeric service id. Anything else cannot name a
// service, so it is "not found" rather than a bad request.
func pathSID(r *http.Request) (int64, error) {
	s := r.PathValue("sid")
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, tokend.NotFound("service")
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, tokend.NotFound("service")
	}
	return id, nil
}

// noStore marks a response as uncacheable (RFC 6749 §5.1): token
// responses carry secrets, and errors must not be replayed from a cache.
// Set before anything can fail, so error responses carry it too.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// oauthError is an answer the domain table cannot express (a rate limit, a
// rejected management key). It unwraps to a domain error so that the
// request log names a code and the adapter does not log it as a failure.
type oauthError struct {
	status     int
	code       string // the RFC 6749 / 6750 error code
	desc       string
	challenge  string // WWW-Authenticate, if any
	retryAfter int    // seconds; 0: no Retry-After
	domain     *tokend.Error
}

func (e *oauthError) Error() string { return "oauth: " + e.code + ": " + e.desc }
func (e *oauthError) Unwrap() error { return e.domain }

// oauthStatuses is the one table from domain codes to the statuses of RFC
// 6749 §5.2 errors; the error code itself comes from
// tokend.OAuthErrorCode, which every surface speaking OAuth shares. The
// codes it leaves to each surface are named here. Codes not listed are
// server errors.
var oauthStatuses = map[string]struct {
	status int
	code   string // for codes OAuthErrorCode does not name
}{
	tokend.EUNAUTHORIZED: {status: http.StatusUnauthorized},
	tokend.EGRANT:        {status: http.StatusBadRequest},
	tokend.EFORBIDDEN:    {status: http.StatusBadRequest},
	tokend.EUNSUPPORTED:  {status: http.StatusBadRequest},
	tokend.EINVALID:      {status: http.StatusBadRequest},
	// Only a service can be missing on these routes: nothing else the
	// endpoints look up is reported as not found.
	tokend.ENOTFOUND:    {http.StatusNotFound, "not_found"},
	tokend.EUNAVAILABLE: {http.StatusServiceUnavailable, "temporarily_unavailable"},
}

// errorBody is RFC 6749 §5.2's error response.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	noStore(w)
	var oe *oauthError
	if errors.As(err, &oe) {
		if oe.challenge != "" {
			w.Header().Set("WWW-Authenticate", oe.challenge)
		}
		if oe.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(oe.retryAfter))
		}
		writeJSON(w, oe.status, errorBody{Error: oe.code, Description: description(oe.desc)})
		return
	}
	code := tokend.ErrorCode(err)
	m, ok := oauthStatuses[code]
	if !ok {
		m.status, m.code = http.StatusInternalServerError, "server_error"
	}
	if c := tokend.OAuthErrorCode(err); c != "" {
		m.code = c
	}
	body := errorBody{Error: m.code, Description: describeDomain(err)}
	switch code {
	case tokend.EUNAUTHORIZED:
		// RFC 6749 §5.2: a client that tried HTTP authentication is told
		// which scheme to use. Without the header (a browser-based public
		// client, say), no challenge: it would make a browser prompt.
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="tokend"`)
		}
	case tokend.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		// The store's or callback's message may describe its insides; the
		// log has it under the request id.
		body.Description = "the service is temporarily unavailable; retry shortly"
	}
	if !ok {
		body.Description = "internal error; quote request id " + httpx.RequestID(r.Context())
	}
	writeJSON(w, m.status, body)
}

// describeDomain renders a domain error for error_description: the core's
// message (written for callers, never holding a secret), led by the field
// it is about when the message does not already name it.
func describeDomain(err error) string {
	msg := tokend.ErrorMessage(err)
	if f := tokend.ErrorField(err); f != "" && tokend.ErrorCode(err) == tokend.EINVALID && !strings.HasPrefix(msg, f) {
		msg = f + " " + msg
	}
	return description(msg)
}

// description makes s fit RFC 6749 §5.2's error_description alphabet
// (printable ASCII without '"' and '\'), which the core's quoted values
// would otherwise break.
func description(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '"':
			b[i] = '\''
		case c == '\\':
			b[i] = '/'
		case c < 0x20 || c > 0x7e:
			b[i] = '?'
		}
	}
	return string(b)
}
