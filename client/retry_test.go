package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

// TestRetryAfter: a refusal for too many failures, and an unavailable
// server, come back typed, with how long the server asked to wait.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      any // nil: a proxy's plain text
		retry     string
		wantCode  string
		wantRetry time.Duration
		is        func(error) bool
	}{
		{"ErrRateLimited", 429, wire.Error{Error: "rate_limited", Message: "too many failed authentications"}, "7", client.CodeRateLimited, 7 * time.Second, client.IsRateLimited},
		{"ErrRateLimitedByProxy", 429, nil, "2", client.CodeRateLimited, 2 * time.Second, client.IsRateLimited},
		{"ErrUnavailable", 503, wire.Error{Error: "unavailable", Message: "the store is unavailable"}, "1", client.CodeUnavailable, time.Second, client.IsUnavailable},
		{"ErrNoRetryAfter", 503, nil, "", client.CodeUnavailable, 0, client.IsUnavailable},
		{"ErrBadRetryAfter", 503, nil, "soon", client.CodeUnavailable, 0, client.IsUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retry != "" {
					w.Header().Set("Retry-After", tt.retry)
				}
				if tt.body == nil {
					http.Error(w, "slow down", tt.status)
					return
				}
				writeJSON(w, tt.status, tt.body)
			}))
			defer srv.Close()
			_, err := client.New(srv.URL, testKey).ListServices(context.Background())
			var e *client.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || e.RetryAfter != tt.wantRetry || !tt.is(err) {
				t.Fatalf("err = %#v, want code %s, retry after %v", err, tt.wantCode, tt.wantRetry)
			}
		})
	}
}
