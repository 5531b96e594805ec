package oauth

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tokend/tokend"
)

func TestRevocation(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	app, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	other, otherSecret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	pub, _ := MustClient(t, e, svc.ID, tokend.ClientInput{Type: ptr(tokend.ClientPublic)})
	MustUser(t, e, svc.ID, "alice")
	ctx := context.Background()
	login := func(t *testing.T, id, sec string) *oauth2.Token {
		t.Helper()
		tok, err := e.oauthConfig(svc.ID, id, sec, oauth2.AuthStyleInHeader, "read").PasswordCredentialsToken(ctx, "alice", userPassword)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	revoke := func(t *testing.T, token, hint string, auth func(*http.Request), extra ...string) result {
		t.Helper()
		f := url.Values{"token": {token}}
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		for i := 0; i < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return e.Post(t, svc.ID, "revoke", f, auth)
	}
	mustOK := func(t *testing.T, r result) {
		t.Helper()
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Fatalf("got %s, want 200 with an empty body", r)
		}
		MustNoStore(t, r)
	}

	t.Run("OKAccessTokenRevokesRefresh", func(t *testing.T) {
		tok := login(t, app.ClientID, secret)
		mustOK(t, revoke(t, tok.AccessToken, "access_token", basic(app.ClientID, secret)))
		e.MustActive(t, svc.ID, tok.AccessToken, false)
		e.MustActive(t, svc.ID, tok.RefreshToken, false)
		t.Run("OKAgain", func(t *testing.T) {
			mustOK(t, revoke(t, tok.AccessToken, "", basic(app.ClientID, secret)))
		})
	})
	t.Run("OKRefreshTokenRevokesAccess", func(t *testing.T) {
		tok := login(t, app.ClientID, secret)
		mustOK(t, revoke(t, tok.RefreshToken, "refresh_token", nil, "client_id", app.ClientID, "client_secret", secret))
		e.MustActive(t, svc.ID, tok.AccessToken, false)
		_, err := refresh(e.oauthConfig(svc.ID, app.ClientID, secret, oauth2.AuthStyleInHeader), tok.RefreshToken)
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("OKUnsupportedHint", func(t *testing.T) {
		tok := login(t, app.ClientID, secret)
		mustOK(t, revoke(t, tok.AccessToken, "saml_assertion", basic(app.ClientID, secret)))
		e.MustActive(t, svc.ID, tok.AccessToken, false)
	})
	t.Run("OKUnknown", func(t *testing.T) {
		mustOK(t, revoke(t, tokend.NewSecret(tokend.KindAccessToken), "", basic(app.ClientID, secret)))
		mustOK(t, revoke(t, "not-even-a-tokend-value", "", basic(app.ClientID, secret)))
	})
	t.Run("OKPublicClient", func(t *testing.T) {
		tok := login(t, pub.ClientID, "")
		mustOK(t, revoke(t, tok.RefreshToken, "", nil, "client_id", pub.ClientID))
		e.MustActive(t, svc.ID, tok.AccessToken, false)
	})
	t.Run("OKOtherServicesTokenUntouched", func(t *testing.T) {
		osvc := MustService(t, e, tokend.ServiceInput{Name: ptr("other")})
		ocl, _ := MustClient(t, e, osvc.ID, tokend.ClientInput{})
		ot, err := e.core.CreateToken(ctx, e.root, osvc.ID, tokend.TokenInput{Client: ocl.ClientID, GrantType: tokend.GrantClientCredentials})
		if err != nil {
			t.Fatal(err)
		}
		mustOK(t, revoke(t, ot.AccessToken, "", basic(app.ClientID, secret)))
		e.MustActive(t, osvc.ID, ot.AccessToken, true)
	})
	t.Run("ErrOtherClientsToken", func(t *testing.T) {
		tok := login(t, app.ClientID, secret)
		MustOAuthError(t, revoke(t, tok.AccessToken, "", basic(other.ClientID, otherSecret)), http.StatusBadRequest, "unauthorized_client")
		e.MustActive(t, svc.ID, tok.AccessToken, true)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		MustOAuthError(t, e.Post(t, svc.ID, "revoke", url.Values{}, basic(app.ClientID, secret)), http.StatusBadRequest, "invalid_request")
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		tok := login(t, app.ClientID, secret)
		MustOAuthError(t, revoke(t, tok.AccessToken, "", basic(app.ClientID, tokend.NewSecret(tokend.KindClientSecret))), http.StatusUnauthorized, "invalid_client")
		e.MustActive(t, svc.ID, tok.AccessToken, true)
	})
	t.Run("ErrNoClient", func(t *testing.T) {
		tok := login(t, app.ClientID, secret)
		MustOAuthError(t, revoke(t, tok.AccessToken, "", nil), http.StatusUnauthorized, "invalid_client")
		e.MustActive(t, svc.ID, tok.AccessToken, true)
	})
}
