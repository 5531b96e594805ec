package main

import (
	"log/slog"
	"net/http"
	"time"

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
	mux := http.NewServeMux()
	registerSurfaces(mux, core, logger)
	return httpx.Middleware(logger, mux)
}

// registerSurfaces adds every surface's routes to mux, with one failure
// limiter for all, and returns that limiter.
func registerSurfaces(mux *http.ServeMux, core *tokend.Core, logger *slog.Logger) *authlimit.Limiter {
	limits := authlimit.New(authlimit.Options{})
	api.New(core, logger).UseLimiter(limits).Register(mux)
	oauth.New(core, logger, oauth.Options{Limiter: limits}).Register(mux)
	authlete.New(core, logger).UseLimiter(limits).Register(mux)
	passport.New(core, logger).UseLimiter(limits).Register(mux)
	kustvakt.New(core, logger).UseLimiter(limits).Register(mux)
	return limits
}

// serverTimeouts bound how long a client may take, so that slow or stalled
// clients (slowloris) cannot hold connections and goroutines forever.
type serverTimeouts struct {
	ReadHeader time.Duration // to send the request line and headers
	Read       time.Duration // to send the whole request, body included
	Write      time.Duration // from the end of the headers to the end of the answer
	Idle       time.Duration // between requests on a kept-alive connection
}

// defaultTimeouts: no tokend request body is large, and no answer takes
// long but an audit export (which writes as it goes).
var defaultTimeouts = serverTimeouts{ReadHeader: 5 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 2 * time.Minute}

func (t serverTimeouts) orDefault() serverTimeouts {
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.ReadHeader, &defaultTimeouts.ReadHeader}, {&t.Read, &defaultTimeouts.Read},
		{&t.Write, &defaultTimeouts.Write}, {&t.Idle, &defaultTimeouts.Idle},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// maxHeaderBytes bounds a request's headers: tokend's are a few hundred
// bytes (a bearer credential, a Basic header).
const maxHeaderBytes = 64 << 10
