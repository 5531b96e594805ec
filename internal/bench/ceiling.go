package bench

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// ceilingBody is the ceiling's answer: about the size of an introspection
// answer, so the ceiling pays for the same bytes on the wire.
const ceilingBody = `{"active":true,"scope":"openid profile","client_id":"ceiling","token_type":"Bearer","exp":4102444800}` + "\n"

// CeilingHandler answers every request with a small fixed JSON document
// after draining the body. Served by an http.Server like tokend's, it is
// the most a server on this machine can answer through net/http: what
// tokend's figures are divided by.
func CeilingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<16))
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		io.WriteString(w, ceilingBody)
	})
}

// NewCeilingServer returns an http.Server for h with the timeouts tokend's
// server uses, so the two differ only in what their handlers do.
func NewCeilingServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// CeilingScenario posts a small form to the ceiling at url, like the
// OAuth endpoints' requests, so the comparison is like for like.
func CeilingScenario(url string) Scenario {
	const form = "token=tka_0000000000000000000000000000000000000000000000000&token_type_hint=access_token"
	return Scenario{Name: "ceiling", Worker: func(int) Source {
		return Stateless(func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(form))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req, nil
		}, nil)
	}}
}
