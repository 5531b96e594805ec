package tokend_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// recorder is an Observer that remembers what it was told, one line per
// event, so that tests compare plain strings.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) TokenIssued(sid int64, g tokend.GrantType) { r.add("issued %s", g) }
func (r *recorder) TokenIntrospected(sid int64, g tokend.GrantType, active bool) {
	r.add("introspected %q %v", g, active)
}
func (r *recorder) TokensRevoked(sid int64, g tokend.GrantType, n int) { r.add("revoked %q %d", g, n) }
func (r *recorder) RefreshReuseDetected(sid int64)                     { r.add("reuse") }

// take returns the events told since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestObserver(t *testing.T) {
	rec := &recorder{}
	f := mustObservedFixture(t, rec)
	ctx := context.Background()
	exchange := func(req tokend.TokenRequest) (*tokend.IssuedToken, error) {
		svc, err := f.core.CachedService(ctx, f.svc.ID)
		if err != nil {
			t.Fatal(err)
		}
		return f.core.Exchange(ctx, svc, f.cl, req)
	}
	mint := func(subject string) *tokend.IssuedToken {
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: subject, Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	check := func(t *testing.T, want ...string) {
		t.Helper()
		if got := rec.take(); !slices.Equal(got, want) {
			t.Fatalf("observer was told %q, want %q", got, want)
		}
	}

	t.Run("OKIssuedByManagement", func(t *testing.T) {
		mint("alice")
		check(t, "issued AUTHORIZATION_CODE")
	})
	t.Run("OKIssuedByTokenEndpoint", func(t *testing.T) {
		if _, err := exchange(tokend.TokenRequest{GrantType: "client_credentials", Scope: "read"}); err != nil {
			t.Fatal(err)
		}
		check(t, "issued CLIENT_CREDENTIALS")
	})
	t.Run("OKRefreshIsARefreshIssue", func(t *testing.T) {
		it := mint("bob")
		rec.take()
		if _, err := exchange(tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: it.RefreshToken}); err != nil {
			t.Fatal(err)
		}
		check(t, "issued REFRESH_TOKEN")
	})
	t.Run("OKRefusedIssueNotCounted", func(t *testing.T) {
		if _, err := exchange(tokend.TokenRequest{GrantType: "client_credentials", Scope: "nope"}); err == nil {
			t.Fatal("an unknown scope was granted")
		}
		if _, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantPassword}); err == nil {
			t.Fatal("a password token without subject was issued")
		}
		check(t)
	})
	t.Run("OKIntrospection", func(t *testing.T) {
		it := mint("carol")
		rec.take()
		for _, raw := range []string{it.AccessToken, "tka_not-a-token", ""} {
			if _, err := f.core.Introspect(ctx, f.svc, raw, ""); err != nil {
				t.Fatal(err)
			}
		}
		check(t, `introspected "AUTHORIZATION_CODE" true`, `introspected "" false`, `introspected "" false`)
	})
	t.Run("OKAccessCheck", func(t *testing.T) {
		it := mint("dave")
		rec.take()
		if _, err := f.core.CheckAccessToken(ctx, f.org, f.svc.ID, tokend.AccessCheck{Token: it.AccessToken}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.core.CheckAccessToken(ctx, f.org, f.svc.ID, tokend.AccessCheck{Token: it.AccessToken, Scopes: []string{"write"}}); err != nil {
			t.Fatal(err)
		}
		check(t, `introspected "AUTHORIZATION_CODE" true`, `introspected "AUTHORIZATION_CODE" false`)
	})
	t.Run("OKRevokeOneAndMany", func(t *testing.T) {
		one := mint("erin")
		mint("frank")
		mint("frank")
		rec.take()
		if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: one.Token.ID}); err != nil {
			t.Fatal(err)
		}
		frank := "frank"
		if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{Subject: &frank}); err != nil {
			t.Fatal(err)
		}
		// Nothing left to revoke: no event.
		if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{Subject: &frank}); err != nil {
			t.Fatal(err)
		}
		check(t, `revoked "AUTHORIZATION_CODE" 1`, `revoked "" 2`)
	})
	t.Run("OKRefreshReuse", func(t *testing.T) {
		it := mint("grace")
		if _, err := exchange(tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: it.RefreshToken}); err != nil {
			t.Fatal(err)
		}
		rec.take()
		f.clock.Advance(time.Second)
		if _, err := exchange(tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: it.RefreshToken}); tokend.ErrorCode(err) != tokend.EGRANT {
			t.Fatalf("reuse: %v, want invalid_grant", err)
		}
		check(t, `revoked "" 1`, "reuse")
	})
}
