package oauth

import (
	"fmt"

	"github.com/tokend/tokend/internal/testutil"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// tokenFrom posts a token request from the given HTTP client.
func (e *env) tokenFrom(t *testing.T, c *http.Client, sid int64, f url.Values, auth func(*http.Request)) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint(sid, "token"), strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != nil {
		auth(req)
	}
	return do(t, c, req)
}

func MustLimited(t *testing.T, r result, retryAfter string) {
	t.Helper()
	MustOAuthError(t, r, http.StatusTooManyRequests, "temporarily_unavailable")
	if got := r.header.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After = %q, want %q", got, retryAfter)
	}
}

func TestRateLimitPerClient(t *testing.T) {
	lclk := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	e := MustEnv(t, Options{
		ClientFailures:  Limit{Burst: 3, Every: time.Minute},
		AddressFailures: Limit{Burst: 100, Every: time.Minute},
		Now:             lclk.Now,
	})
	svc := MustService(t, e, tokend.ServiceInput{})
	a, aSecret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	b, bSecret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	MustUser(t, e, svc.ID, "alice")
	here, there := http.DefaultClient, clientFrom(t, "127.0.0.2")
	wrong := basic(a.ClientID, tokend.NewSecret(tokend.KindClientSecret))
	cc := url.Values{"grant_type": {"client_credentials"}}
	pw := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {userPassword}}
	rt := MustTokenResponse(t, e.tokenFrom(t, here, svc.ID, pw, basic(a.ClientID, aSecret))).RefreshToken
	refreshForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}

	for range 3 {
		MustOAuthError(t, e.tokenFrom(t, here, svc.ID, cc, wrong), http.StatusUnauthorized, "invalid_client")
	}
	t.Run("ErrLimited", func(t *testing.T) {
		MustLimited(t, e.tokenFrom(t, here, svc.ID, cc, wrong), "60")
		// Even the right secret is refused: the limit is on the client,
		// not on the guess. The refresh is not run (checked below).
		MustLimited(t, e.tokenFrom(t, here, svc.ID, refreshForm, basic(a.ClientID, aSecret)), "60")
		// From another address too: a botnet cannot spread the guesses.
		MustLimited(t, e.tokenFrom(t, there, svc.ID, cc, wrong), "60")
		// The other endpoints share the limit.
		MustLimited(t, e.Post(t, svc.ID, "introspect", url.Values{"token": {rt}}, basic(a.ClientID, aSecret)), "60")
		MustLimited(t, e.Post(t, svc.ID, "revoke", url.Values{"token": {rt}}, basic(a.ClientID, aSecret)), "60")
	})
	t.Run("OKOtherClient", func(t *testing.T) {
		MustTokenResponse(t, e.tokenFrom(t, here, svc.ID, cc, basic(b.ClientID, bSecret)))
		MustOAuthError(t, e.tokenFrom(t, here, svc.ID, cc, basic(b.ClientID, "x")), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("OKSameClientIDOtherService", func(t *testing.T) {
		// The key is (service, client_id): the same name elsewhere is
		// another client.
		other := MustService(t, e, tokend.ServiceInput{Name: ptr("other")})
		MustOAuthError(t, e.tokenFrom(t, here, other.ID, cc, wrong), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("OKAfterRefill", func(t *testing.T) {
		lclk.Advance(59 * time.Second)
		MustLimited(t, e.tokenFrom(t, here, svc.ID, cc, wrong), "1")
		lclk.Advance(time.Second)
		// The refresh token was not rotated while the client was limited,
		// so the core was not called.
		MustTokenResponse(t, e.tokenFrom(t, here, svc.ID, refreshForm, basic(a.ClientID, aSecret)))
	})
	t.Run("OKSuccessDoesNotCount", func(t *testing.T) {
		for range 10 {
			MustTokenResponse(t, e.tokenFrom(t, here, svc.ID, cc, basic(b.ClientID, bSecret)))
		}
	})
}

func TestRateLimitPerAddress(t *testing.T) {
	lclk := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	e := MustEnv(t, Options{
		ClientFailures:  Limit{Burst: 100, Every: time.Minute},
		AddressFailures: Limit{Burst: 4, Every: 30 * time.Second},
		Now:             lclk.Now,
	})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	here, there := http.DefaultClient, clientFrom(t, "127.0.0.2")
	cc := url.Values{"grant_type": {"client_credentials"}}
	// Spraying guesses over many client_ids, and a bad management key,
	// all count against the address.
	for i := range 3 {
		MustOAuthError(t, e.tokenFrom(t, here, svc.ID, cc, basic(fmt.Sprintf("made-up-%d", i), "x")), http.StatusUnauthorized, "invalid_client")
	}
	MustOAuthError(t, e.Post(t, svc.ID, "introspect", url.Values{"token": {"x"}}, bearer(tokend.NewSecret(tokend.KindManagementKey))), http.StatusUnauthorized, "invalid_token")
	t.Run("ErrLimited", func(t *testing.T) {
		MustLimited(t, e.tokenFrom(t, here, svc.ID, cc, basic(cl.ClientID, secret)), "30")
		MustLimited(t, e.Post(t, svc.ID, "introspect", url.Values{"token": {"x"}}, bearer(e.key)), "30")
	})
	t.Run("OKOtherAddress", func(t *testing.T) {
		MustTokenResponse(t, e.tokenFrom(t, there, svc.ID, cc, basic(cl.ClientID, secret)))
	})
	t.Run("OKForwardedForIgnored", func(t *testing.T) {
		r := e.tokenFrom(t, here, svc.ID, cc, func(r *http.Request) {
			basic(cl.ClientID, secret)(r)
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
		})
		MustLimited(t, r, "30")
	})
}
