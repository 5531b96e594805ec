// Package console is tokend's web console: server-rendered pages for
// operators, who sign in with a management key, and a "Connected apps"
// page for end users, who sign in with an access token of the service's
// own (first-party) application.
//
// It is a thin adapter like the API: every page calls the same core
// functions as the /v1 routes, with the signed-in key's principal, and
// lists with the same paged queries, so that it holds no rule of its own
// and stays fast on millions of tokens.
//
// Web safety: pages are html/template (contextual escaping) with no script
// and no inline style, under a Content-Security-Policy that allows neither
// and forbids framing; every state-changing request must come from the
// console's own origin (net/http's CrossOriginProtection, plus
// SameSite=Strict cookies); sessions keep credentials on the server
// (session.go).
package console

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options tunes the console. The zero value suits a plain-HTTP deployment.
type Options struct {
	// Secure marks the session cookies Secure (and __Host-): set it when
	// the deployment's base URL is https.
	Secure bool
	// SessionIdle ends a session unused this long; zero means 30 minutes.
	SessionIdle time.Duration
	// SessionMaxAge ends any session this old; zero means 12 hours.
	SessionMaxAge time.Duration
	// MaxSessions bounds the sessions kept; zero means 10,000.
	MaxSessions int
	// Now is the sessions' clock; nil means time.Now.
	Now func() time.Time
	// Limiter counts failed sign-ins, shared with the server's other
	// surfaces so that an address guessing keys is refused everywhere;
	// nil means a limiter of the console's own.
	Limiter *authlimit.Limiter
}

// Console serves the web console.
type Console struct {
	core     *tokend.Core
	logger   *slog.Logger
	opts     Options
	sessions *sessionStore
	pages    map[string]*template.Template
	csrf     *http.CrossOriginProtection
}

// New returns the console over core.
func New(core *tokend.Core, logger *slog.Logger, opts Options) *Console {
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = 30 * time.Minute
	}
	if opts.SessionMaxAge <= 0 {
		opts.SessionMaxAge = 12 * time.Hour
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 10_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Limiter == nil {
		opts.Limiter = authlimit.New(authlimit.Options{})
	}
	c := &Console{core: core, logger: logger, opts: opts,
		sessions: newSessionStore(opts.Now, opts.SessionIdle, opts.SessionMaxAge, opts.MaxSessions),
		pages:    mustParsePages(),
		csrf:     http.NewCrossOriginProtection(),
	}
	c.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderStatus(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site, or the browser did not say where from. Open the console and try again.")
	}))
	return c
}

// Register adds the console's routes to mux: the operator pages under
// /console/, the end users' under /console/apps/, and a redirect from /.
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", c.wrap(func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return nil
	}))
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(static))
	mux.Handle("GET /console/static/", c.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))

	mux.Handle("GET /console/signin", c.wrap(c.signInForm))
	mux.Handle("POST /console/signin", c.wrap(c.signIn))
	mux.Handle("POST /console/signout", c.wrap(c.signOut))
	c.operator(mux, "GET /console/{$}", c.home)
	c.operator(mux, "GET /console/services/{sid}/{$}", c.servicePage)
	c.operator(mux, "GET /console/services/{sid}/clients", c.clientsPage)
	c.operator(mux, "GET /console/services/{sid}/clients/new", c.newClientForm)
	c.operator(mux, "POST /console/services/{sid}/clients", c.createClient)
	c.operator(mux, "GET /console/services/{sid}/clients/{client}", c.clientPage)
	c.operator(mux, "GET /console/services/{sid}/tokens", c.tokensPage)
	c.operator(mux, "GET /console/services/{sid}/tokens/{id}", c.tokenPage)
	c.operator(mux, "POST /console/services/{sid}/tokens/{id}/revoke", c.revokeToken)
	c.operator(mux, "GET /console/services/{sid}/revoke", c.revokePreview)
	c.operator(mux, "POST /console/services/{sid}/revoke", c.revokeBulk)
	c.operator(mux, "GET /console/services/{sid}/audit", c.serviceAuditPage)
	c.operator(mux, "GET /console/audit", c.orgAuditPage)

	mux.Handle("GET /console/apps/signin", c.wrap(c.appsSignInForm))
	mux.Handle("POST /console/apps/signin", c.wrap(c.appsSignIn))
	mux.Handle("POST /console/apps/signout", c.wrap(c.appsSignOut))
	c.user(mux, "GET /console/apps/{$}", c.appsPage)
	c.user(mux, "POST /console/apps/{client}/revoke", c.appsRevoke)
}

// contentSecurityPolicy allows the console's own stylesheet and nothing
// else: no script at all, no inline style, no framing, forms only to
// itself.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the headers every console response carries and refuses
// cross-origin state-changing requests.
func (c *Console) secure(h http.Handler) http.Handler {
	protected := c.csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Pages show hashes, and once a client secret: never cached.
		hd.Set("Cache-Control", "no-store")
		protected.ServeHTTP(w, r)
	})
}

// handler is a console page: it returns its failure, which wrap renders.
type handler func(w http.ResponseWriter, r *http.Request) error

// wrap adapts a page: request ids and logs (httpx), the security headers,
// and errors rendered as pages.
func (c *Console) wrap(h handler) http.Handler {
	a := httpx.Adapter{Logger: c.logger, Render: c.renderError}
	return httpx.Middleware(c.logger, c.secure(a.Handler(httpx.HandlerFunc(h))))
}

// opHandler is an operator page, called with the signed-in key's principal.
type opHandler func(w http.ResponseWriter, r *http.Request, v *view) error

// operator registers a page for a signed-in operator: without a session
// the browser goes to the sign-in page; with one, the key is resolved
// afresh, so a deleted or expired key ends the session.
func (c *Console) operator(mux *http.ServeMux, pattern string, h opHandler) {
	mux.Handle(pattern, c.wrap(func(w http.ResponseWriter, r *http.Request) error {
		se, ok := c.currentSession(r, operatorSession)
		if !ok {
			return c.toSignIn(w, r, "/console/signin", "")
		}
		p, err := c.core.AuthenticateKey(r.Context(), se.secret)
		if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
			c.endSession(w, r, operatorSession)
			return c.toSignIn(w, r, "/console/signin", tokend.ErrorMessage(err))
		} else if err != nil {
			return err
		}
		return h(w, r, &view{p: p, actor: p.Actor()})
	}))
}

// toSignIn sends the browser to a sign-in page: a redirect for a page
// view, a 401 page for a form post (whose data would be lost).
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request, to, why string) error {
	if r.Method == http.MethodGet {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	msg := "Your session has ended. Sign in again."
	if why != "" {
		msg = "Your session has ended (" + why + "). Sign in again."
	}
	c.renderStatus(w, r, http.StatusUnauthorized, "Signed out", msg)
	return nil
}

// view is what an operator page knows of its viewer.
type view struct {
	p     *tokend.Principal
	actor string
}

// page is the data every template gets.
type page struct {
	Title   string
	Actor   string // who is signed in: "key:12", or "" on public pages
	Apps    bool   // an end user's page (another header)
	Flash   string // a message about what the last action did
	Error   string // a message about what went wrong with this request
	Field   string // the form field at fault, when there is one
	Service *tokend.Service
	Data    any
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p page) error {
	t, ok := c.pages[name]
	if !ok {
		return errors.New("console: no page " + name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// statuses maps domain codes to HTTP statuses, as the API does.
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

var titles = map[int]string{
	http.StatusBadRequest: "Not accepted", http.StatusUnauthorized: "Not signed in",
	http.StatusForbidden: "Not allowed", http.StatusNotFound: "Not found", http.StatusConflict: "Conflict",
	http.StatusServiceUnavailable: "Unavailable", http.StatusInternalServerError: "Something went wrong",
}

// renderError shows a domain error as a page, with the status the API
// would answer. Internal failures show only the request id to quote.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := tokend.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := tokend.ErrorMessage(err)
	if f := tokend.ErrorField(err); f != "" && code == tokend.EINVALID {
		msg = f + ": " + msg
	}
	switch code {
	case tokend.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		msg = "The store is unavailable; try again shortly."
	case tokend.EINTERNAL, "":
		msg = "Internal error; quote request id " + httpx.RequestID(r.Context()) + "."
	}
	c.renderStatus(w, r, status, titles[status], msg)
}

func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	if err := c.render(w, status, "error", page{Title: title, Error: msg, Apps: strings.HasPrefix(r.URL.Path, "/console/apps/")}); err != nil {
		c.logger.ErrorContext(r.Context(), "console: rendering an error page", "err", err.Error())
		http.Error(w, msg, status)
	}
}

// signInAllowed refuses a sign-in from an address that failed too often
// (429 and Retry-After, the sign-in page again), before its credential is
// looked at.
func (c *Console) signInAllowed(w http.ResponseWriter, r *http.Request, form string, pg page) (bool, error) {
	err := c.opts.Limiter.Check(r, "")
	var refused *authlimit.Refused
	if !errors.As(err, &refused) {
		return true, nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(refused.RetryAfter))
	pg.Error = refused.Message()
	return false, c.render(w, http.StatusTooManyRequests, form, pg)
}

// signInFailed counts a refused credential against the request's address.
func (c *Console) signInFailed(r *http.Request) {
	if err := c.opts.Limiter.Failed(r, c.core, authlimit.Failure{Surface: "console"}); err != nil {
		c.logger.WarnContext(r.Context(), "could not record repeated authentication failures", "err", err.Error())
	}
}

// formValue reads one field of a posted form (bounded like any body).
func formValue(w http.ResponseWriter, r *http.Request, name string) (string, error) {
	if err := parseForm(w, r); err != nil {
		return "", err
	}
	return strings.TrimSpace(r.PostForm.Get(name)), nil
}

func parseForm(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm != nil {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return tokend.Invalid("body", "is not a form this console sent")
	}
	return nil
}

// now is the core's clock, by which pages tell a token's status.
func (c *Console) now() time.Time { return c.core.Now() }
