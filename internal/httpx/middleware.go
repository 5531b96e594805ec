package httpx

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// RequestIDHeader carries a request's id in both directions, so a caller
// can quote it and an operator can find the log lines.
const RequestIDHeader = "X-Request-Id"

const maxRequestIDLen = 128

type infoKey struct{}

// info is what the middleware knows about a request in flight; the adapter
// adds the error code so the request line says why a request failed.
type info struct {
	id      string
	errCode string
	service int64 // the service the request acted in, when a surface said so
}

func infoFrom(ctx context.Context) *info {
	in, _ := ctx.Value(infoKey{}).(*info)
	return in
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if in := infoFrom(ctx); in != nil {
		return in.id
	}
	return ""
}

// SetService records the service a request acts in, for its log line, when
// the route's path does not name it (a dialect finds it from the caller's
// credential).
func SetService(ctx context.Context, sid int64) {
	if in := infoFrom(ctx); in != nil {
		in.service = sid
	}
}

// serviceOf is the service a request acted in: what a surface recorded,
// or the numeric service id in its path ({sid}, or Authlete's
// {serviceId}); 0 when neither says.
func serviceOf(r *http.Request, in *info) int64 {
	if in.service != 0 {
		return in.service
	}
	for _, name := range [...]string{"sid", "serviceId"} {
		if v := r.PathValue(name); v != "" {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
				return id
			}
			return 0
		}
	}
	return 0
}

// RequestObserver is told of every request a server answered (metrics):
// route is the ServeMux pattern that matched, "" when none did. It is
// called on the request's goroutine and must be quick.
type RequestObserver interface {
	ObserveRequest(route string, status int, d time.Duration)
}

// validRequestID accepts a caller's id only when it cannot forge or break
// log lines: short, printable ASCII without spaces or quotes.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Middleware gives each request an id (the caller's X-Request-Id when it is
// sane), writes one log line per request and turns a panic that escaped
// every handler into a 500. It logs the route pattern rather than the path,
// and never headers or bodies, because paths, headers and bodies carry
// subjects, keys and tokens.
//
// Wrapping twice is harmless: an inner Middleware sees the outer one's
// request id and steps aside, so a surface may install it on its own
// routes while a server also wraps its whole mux.
func Middleware(logger *slog.Logger, next http.Handler) http.Handler {
	return Instrument(logger, nil, next)
}

// Instrument is Middleware that also tells obs (when not nil) of every
// request it logs. A server installs it once, around its whole mux, so
// that requests no surface's route matched are counted too.
func Instrument(logger *slog.Logger, obs RequestObserver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if infoFrom(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = rand.Text()
		}
		in := &info{id: id}
		w.Header().Set(RequestIDHeader, id)
		rec := &recorder{ResponseWriter: w}
		// The mux records the matched pattern on the request it is given,
		// so keep that request to read Pattern from afterwards.
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, in))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic", "request_id", id, "route", r.Pattern,
					"panic", slog.AnyValue(v).String(), "stack", string(debug.Stack()))
				in.errCode = "internal"
				if !rec.wroteHeader {
					rec.Header().Set("Content-Type", "application/json")
					rec.WriteHeader(http.StatusInternalServerError)
					rec.Write([]byte(`{"error":"internal","message":"internal error"}` + "\n"))
				}
			}
			status := rec.status
			if !rec.wroteHeader {
				status = http.StatusOK // net/http's default for a handler that writes nothing
			}
			took := time.Since(start)
			if obs != nil {
				obs.ObserveRequest(r.Pattern, status, took)
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			attrs := make([]slog.Attr, 0, 8)
			attrs = append(attrs,
				slog.String("method", r.Method),
				slog.String("route", r.Pattern),
				slog.Int("status", status),
				slog.Duration("duration", took),
				slog.String("request_id", id),
			)
			if sid := serviceOf(r, in); sid != 0 {
				attrs = append(attrs, slog.Int64("service", sid))
			}
			if in.errCode != "" {
				attrs = append(attrs, slog.String("error", in.errCode))
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}
