package main

import (
	"log/slog"
	"net/http"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/authlete"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/kustvakt"
	"github.com/tokend/tokend/oauth"
	"github.com/tokend/tokend/passport"
)

// newHandler serves every surface over core: the management API, the
// OAuth endpoints and the dialects. They share one failure limiter, so an
// address's failed authentications count the same wherever it makes them.
func newHandler(core *tokend.Core, logger *slog.Logger) http.Handler {
	limits := authlimit.New(authlimit.Options{})
	mux := http.NewServeMux()
	api.New(core, logger).UseLimiter(limits).Register(mux)
	oauth.New(core, logger, oauth.Options{Limiter: limits}).Register(mux)
	authlete.New(core, logger).UseLimiter(limits).Register(mux)
	passport.New(core, logger).UseLimiter(limits).Register(mux)
	kustvakt.New(core, logger).UseLimiter(limits).Register(mux)
	return httpx.Middleware(logger, mux)
}
