package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/sqlite"
)

// TestAuthFailureLimit: rejected keys from one address end in 429 with
// Retry-After; other addresses, and requests without a key, are not
// affected; the event is in the audit log; the limit lifts by itself.
func TestAuthFailureLimit(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	core := tokend.New(store, tokend.Config{Now: clk.Now})
	root, err := core.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// The source address is the X-Test-From header, so one test process
	// can be several clients.
	limits := authlimit.New(authlimit.Options{
		Address:       authlimit.Limit{Burst: 3, Every: 20 * time.Second},
		ClientAddress: func(r *http.Request) string { return r.Header.Get("X-Test-From") },
		Now:           clk.Now,
	})
	mux := http.NewServeMux()
	New(core, slog.New(slog.DiscardHandler)).UseLimiter(limits).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(from, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/v1/services", nil)
		req.Header.Set("X-Test-From", from)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	bad := tokend.NewSecret(tokend.KindManagementKey)
	for i := range 3 {
		if res := get("attacker", bad); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad key %d: %d, want 401", i, res.StatusCode)
		}
	}
	t.Run("ErrLimited", func(t *testing.T) {
		res := get("attacker", bad)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "20" {
			t.Fatalf("%d Retry-After %q, want 429 with 20", res.StatusCode, res.Header.Get("Retry-After"))
		}
	})
	t.Run("OKOtherAddress", func(t *testing.T) {
		if res := get("operator", root); res.StatusCode != http.StatusOK {
			t.Fatalf("a valid key from another address: %d", res.StatusCode)
		}
	})
	t.Run("OKNoKeyIsNotAGuess", func(t *testing.T) {
		if res := get("someone", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%d", res.StatusCode)
		}
		for range 5 {
			get("someone", "")
		}
		if res := get("someone", root); res.StatusCode != http.StatusOK {
			t.Fatalf("requests without a key limited the address: %d", res.StatusCode)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		page, err := store.ListAudit(ctx, tokend.AuditFilter{Action: tokend.AuditAuthFailures, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 1 || page.Entries[0].Actor != "address:attacker" {
			t.Fatalf("audit %+v, want one entry for the attacker", page.Entries)
		}
	})
	t.Run("OKAfterRefill", func(t *testing.T) {
		clk.Advance(20 * time.Second)
		if res := get("attacker", root); res.StatusCode != http.StatusOK {
			t.Fatalf("after the refill: %d", res.StatusCode)
		}
	})
}
