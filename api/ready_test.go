package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestReadyz: ready while the store answers, 503 with Retry-After once it
// does not, and never the store's own words in the answer.
func TestReadyz(t *testing.T) {
	e := MustEnv(t)
	res := e.MustDo(t, "GET", "/readyz", "", nil, http.StatusOK, nil)
	if !strings.Contains(string(res.body), `"status":"ready"`) {
		t.Fatalf("ready body %s", res.body)
	}
	e.store.Close()
	res = e.MustDo(t, "GET", "/readyz", "", nil, http.StatusServiceUnavailable, nil)
	if res.header.Get("Retry-After") == "" || !strings.Contains(string(res.body), `"error":"unavailable"`) || strings.Contains(string(res.body), "sql") {
		t.Fatalf("not ready: %s", res)
	}
	// Alive all the same: the process answers.
	e.MustDo(t, "GET", "/healthz", "", nil, http.StatusOK, nil)
}
