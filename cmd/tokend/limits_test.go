package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
)

// TestAuthFailureLimitEverySurface: bad credentials from one address, at
// whichever surface, end in 429 with Retry-After at every surface that
// authenticates (they share one limit), in each surface's error shape;
// another address is not locked out; the event is in the audit log.
func TestAuthFailureLimitEverySurface(t *testing.T) {
	s := MustSurfaces(t, storeKinds[0].url(t))
	bad := tokend.NewSecret(tokend.KindManagementKey)
	// Spread over the surfaces: the limit is shared.
	attempts := []func() *http.Request{
		func() *http.Request { return s.call("GET", "/v1/services", bad, nil) },
		func() *http.Request { return s.call("GET", "/api/%d/auth/token/get/list", bad, nil) },
		func() *http.Request { return s.call("GET", "/v1/iam/oauth/tokens", bad, nil) },
		func() *http.Request {
			return s.form("/oauth/%d/token", url.Values{"grant_type": {"client_credentials"}}, "made-up", "x")
		},
	}
	for i := range authlimit.DefaultAddress.Burst {
		res, body := s.send(t, http.DefaultClient, attempts[i%len(attempts)]())
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad credentials %d: %d %s, want 401", i, res.StatusCode, body)
		}
	}
	for _, p := range probes {
		if !p.auth {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			res, body := s.send(t, http.DefaultClient, p.prepare(t, s))
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("%d %s, want 429 for the limited address", res.StatusCode, body)
			}
			if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
			}
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("429 body is not JSON: %q", body)
			}
			// Another address is not locked out.
			res, body = s.send(t, clientFrom(t, "127.0.0.2"), p.prepare(t, s))
			if res.StatusCode != p.want {
				t.Fatalf("from another address: %d %s, want %d", res.StatusCode, body, p.want)
			}
		})
	}
	t.Run("Audited", func(t *testing.T) {
		page, err := s.store.ListAudit(context.Background(), tokend.AuditFilter{Action: tokend.AuditAuthFailures, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 1 || page.Entries[0].Actor != "address:127.0.0.1" {
			t.Fatalf("audit %+v, want one entry for 127.0.0.1", page.Entries)
		}
	})
}
