// Package httpx holds what every HTTP surface of tokend shares: handlers
// that return errors, strict JSON decoding, JSON encoding, request ids,
// request logging and panic recovery. Each surface (the native API, the
// OAuth endpoints, each dialect) supplies its own Renderer, because each
// speaks its own error vocabulary.
package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/tokend/tokend"
)

// HandlerFunc is an HTTP handler that returns its failure instead of
// writing it, so that every error of a surface is rendered in one place.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Renderer writes the response for an error a handler returned. It must
// never show the text of an error that is not a *tokend.Error.
type Renderer func(w http.ResponseWriter, r *http.Request, err error)

// Adapter turns HandlerFuncs into http.Handlers of one surface.
type Adapter struct {
	Logger *slog.Logger
	Render Renderer
}

// Handler adapts h. A panic in h becomes an internal error, rendered like
// any other, so the caller still gets the surface's error shape.
func (a *Adapter) Handler(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		err := callRecovering(h, rec, r)
		if err == nil {
			return
		}
		code := tokend.ErrorCode(err)
		if in := infoFrom(r.Context()); in != nil {
			in.errCode = code
		}
		// Internal failures and an unreachable store are ours to fix: keep
		// their detail in the log, keyed by the request id the caller sees.
		if code == tokend.EINTERNAL || code == tokend.EUNAVAILABLE {
			attrs := []any{"request_id", RequestID(r.Context()), "route", r.Pattern, "err", err.Error()}
			if p, ok := err.(*panicError); ok {
				attrs = append(attrs, "stack", string(p.stack))
			}
			a.Logger.ErrorContext(r.Context(), "request failed", attrs...)
		}
		if rec.wroteHeader {
			// Part of a response is already out; a second one would corrupt it.
			return
		}
		a.Render(rec, r, err)
	})
}

// panicError carries a recovered panic to the renderer as an internal error.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func callRecovering(h HandlerFunc, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own signal to drop the connection
			}
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return h(w, r)
}

// recorder remembers the status a handler wrote. Unwrap lets
// http.ResponseController reach the underlying writer (flush, deadlines).
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *recorder) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
