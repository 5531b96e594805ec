package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/faultstore"
)

// TestStoreFaultsEverySurface makes the store fail under every surface:
// each request that needs the failing part answers 503 with Retry-After in
// its surface's own error shape, without the cause in the body; with only
// writes failing (a full disk, a read-only file) reads go on working,
// introspection included; and once the store is back every request
// succeeds again, with no restart.
func TestStoreFaultsEverySurface(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			for _, mode := range []struct {
				name string
				m    faultstore.Mode
			}{{"StoreDown", faultstore.All}, {"WritesFail", faultstore.Writes}} {
				t.Run(mode.name, func(t *testing.T) {
					for _, p := range probes {
						t.Run(p.name, func(t *testing.T) {
							req := p.prepare(t, s)
							s.faults.Set(mode.m)
							res, body := s.send(t, http.DefaultClient, req)
							s.faults.Set(faultstore.OK)
							fails := mode.m == faultstore.All || p.write
							if p.name == "OAuth/Discovery" && mode.m == faultstore.All {
								// Served from the core's service cache, filled by prepare.
								fails = false
							}
							if !fails {
								if res.StatusCode != p.want {
									t.Fatalf("%d %s, want %d: this request needs no failing part of the store", res.StatusCode, body, p.want)
								}
								return
							}
							mustUnavailable(t, res, body)
							// Service resumes by itself: the same kind of request succeeds.
							res, body = s.send(t, http.DefaultClient, p.prepare(t, s))
							if res.StatusCode != p.want {
								t.Fatalf("after the store came back: %d %s, want %d", res.StatusCode, body, p.want)
							}
						})
					}
				})
			}
		})
	}
}

// mustUnavailable checks a 503: Retry-After, a JSON body of the surface's
// shape, and nothing of the cause.
func mustUnavailable(tb testing.TB, res *http.Response, body []byte) {
	tb.Helper()
	if res.StatusCode != http.StatusServiceUnavailable {
		tb.Fatalf("%d %s, want 503", res.StatusCode, body)
	}
	if res.Header.Get("Retry-After") == "" {
		tb.Fatalf("503 without Retry-After: %s", body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("503 body is not JSON: %q", body)
	}
	if lb := strings.ToLower(string(body)); strings.Contains(lb, "faultstore") || strings.Contains(lb, "injected") || strings.Contains(lb, "database") {
		tb.Fatalf("503 body shows the cause: %s", body)
	}
}

// TestRefreshNotConsumedByFailure: a refresh that fails because the store
// does leaves the refresh token usable, exactly once, when it is back.
func TestRefreshNotConsumedByFailure(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			_, refresh := s.password(t, "alice")
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
			for _, m := range []faultstore.Mode{faultstore.All, faultstore.Writes} {
				s.faults.Set(m)
				res, body := s.send(t, http.DefaultClient, s.form("/oauth/%d/token", form, s.conf.ClientID, s.confSecret))
				s.faults.Set(faultstore.OK)
				mustUnavailable(t, res, body)
			}
			res, body := s.send(t, http.DefaultClient, s.form("/oauth/%d/token", form, s.conf.ClientID, s.confSecret))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("the refresh token after the failures: %d %s; a failed request consumed it", res.StatusCode, body)
			}
			// And it rotated: using it again is reuse.
			res, body = s.send(t, http.DefaultClient, s.form("/oauth/%d/token", form, s.conf.ClientID, s.confSecret))
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_grant") {
				t.Fatalf("second use: %d %s, want invalid_grant", res.StatusCode, body)
			}
		})
	}
}
