package tokend_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

// oauthFixture is a service with every grant tokend's token endpoint
// serves, a confidential and a public client, and the built-in users table.
type oauthFixture struct {
	*fixture
	conf       *tokend.Client
	confSecret string
	pub        *tokend.Client
}

const redirect = "https://app.example/cb"

func MustOAuthFixture(tb testing.TB) *oauthFixture {
	tb.Helper()
	f := MustFixture(tb)
	pub, _, err := f.core.CreateClient(context.Background(), f.org, f.svc.ID, tokend.ClientInput{
		Name: ptr("spa"), Type: ptr(tokend.ClientPublic), RedirectURIs: &[]string{redirect},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &oauthFixture{fixture: f, conf: f.cl, confSecret: f.secret, pub: pub}
}

func (f *oauthFixture) exchange(tb testing.TB, cl *tokend.Client, req tokend.TokenRequest) (*tokend.IssuedToken, error) {
	tb.Helper()
	svc, err := f.core.CachedService(context.Background(), f.svc.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return f.core.Exchange(context.Background(), svc, cl, req)
}

func (f *oauthFixture) MustPasswordToken(tb testing.TB) *tokend.IssuedToken {
	tb.Helper()
	ctx := context.Background()
	if _, err := f.core.GetUser(ctx, f.org, f.svc.ID, "alice"); tokend.ErrorCode(err) == tokend.ENOTFOUND {
		if _, err := f.core.CreateUser(ctx, f.org, f.svc.ID, tokend.UserInput{Username: "alice", Password: ptr("correct horse"), Roles: &[]string{"admin"}}); err != nil {
			tb.Fatal(err)
		}
	}
	it, err := f.exchange(tb, f.conf, tokend.TokenRequest{GrantType: "password", Username: "alice", Password: "correct horse", Scope: "read write"})
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

func TestAuthenticateClient(t *testing.T) {
	f := MustOAuthFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		cred tokend.ClientCredentials
		code string
	}{
		{"OK", tokend.ClientCredentials{ClientID: f.conf.ClientID, Secret: f.confSecret}, ""},
		{"OKPublic", tokend.ClientCredentials{ClientID: f.pub.ClientID}, ""},
		{"ErrWrongSecret", tokend.ClientCredentials{ClientID: f.conf.ClientID, Secret: tokend.NewSecret(tokend.KindClientSecret)}, tokend.EUNAUTHORIZED},
		{"ErrMistypedSecret", tokend.ClientCredentials{ClientID: f.conf.ClientID, Secret: f.confSecret[:20] + "x" + f.confSecret[21:]}, tokend.EUNAUTHORIZED},
		{"ErrNoSecret", tokend.ClientCredentials{ClientID: f.conf.ClientID}, tokend.EUNAUTHORIZED},
		{"ErrUnknownClient", tokend.ClientCredentials{ClientID: "nobody", Secret: f.confSecret}, tokend.EUNAUTHORIZED},
		{"ErrPublicWithSecret", tokend.ClientCredentials{ClientID: f.pub.ClientID, Secret: f.confSecret}, tokend.EUNAUTHORIZED},
		{"ErrNoClientID", tokend.ClientCredentials{}, tokend.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.core.AuthenticateClient(ctx, f.svc.ID, tt.cred)
			wantCode(t, err, tt.code, "")
		})
	}
	t.Run("ErrUnknownService", func(t *testing.T) {
		_, _, err := f.core.AuthenticateClient(ctx, 42, tokend.ClientCredentials{ClientID: f.conf.ClientID, Secret: f.confSecret})
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
	t.Run("RotatedSecretStopsWorkingAtOnce", func(t *testing.T) {
		_, secret, err := f.core.RotateClientSecret(ctx, f.org, f.svc.ID, f.conf.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.core.AuthenticateClient(ctx, f.svc.ID, tokend.ClientCredentials{ClientID: f.conf.ClientID, Secret: f.confSecret})
		wantCode(t, err, tokend.EUNAUTHORIZED, "") // the cache must not keep the old secret alive
		if _, _, err := f.core.AuthenticateClient(ctx, f.svc.ID, tokend.ClientCredentials{ClientID: f.conf.ClientID, Secret: secret}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestExchangeErrors(t *testing.T) {
	f := MustOAuthFixture(t)
	tests := []struct {
		name  string
		cl    *tokend.Client
		req   tokend.TokenRequest
		code  string
		field string
	}{
		{"ErrNoGrantType", f.conf, tokend.TokenRequest{}, tokend.EINVALID, "grant_type"},
		{"ErrUnknownGrantType", f.conf, tokend.TokenRequest{GrantType: "magic"}, tokend.EUNSUPPORTED, "grant_type"},
		{"ErrImplicitAtTokenEndpoint", f.conf, tokend.TokenRequest{GrantType: "implicit"}, tokend.EUNSUPPORTED, "grant_type"},
		{"ErrPublicClientCredentials", f.pub, tokend.TokenRequest{GrantType: "client_credentials"}, tokend.EFORBIDDEN, ""},
		{"ErrScopeOutsideClient", f.conf, tokend.TokenRequest{GrantType: "client_credentials", Scope: "admin"}, tokend.EINVALID, "scope"},
		{"ErrScopeOutsideService", f.conf, tokend.TokenRequest{GrantType: "client_credentials", Scope: "root"}, tokend.EINVALID, "scope"},
		{"ErrNoRefreshToken", f.conf, tokend.TokenRequest{GrantType: "refresh_token"}, tokend.EINVALID, "refresh_token"},
		{"ErrMistypedRefreshToken", f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: "tkr_abc"}, tokend.EGRANT, ""},
		{"ErrUnknownRefreshToken", f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: tokend.NewSecret(tokend.KindRefreshToken)}, tokend.EGRANT, ""},
		{"ErrNoCode", f.conf, tokend.TokenRequest{GrantType: "authorization_code"}, tokend.EINVALID, "code"},
		{"ErrUnknownCode", f.conf, tokend.TokenRequest{GrantType: "authorization_code", Code: tokend.NewSecret(tokend.KindAuthorizationCode)}, tokend.EGRANT, ""},
		{"ErrNoUsername", f.conf, tokend.TokenRequest{GrantType: "password", Password: "x"}, tokend.EINVALID, "username"},
		{"ErrUnknownUser", f.conf, tokend.TokenRequest{GrantType: "password", Username: "nobody", Password: "whatever1"}, tokend.EGRANT, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.exchange(t, tt.cl, tt.req)
			wantCode(t, err, tt.code, tt.field)
		})
	}
	t.Run("ErrGrantNotAllowedForClient", func(t *testing.T) {
		ccOnly, _, err := f.core.CreateClient(context.Background(), f.org, f.svc.ID, tokend.ClientInput{
			Name: ptr("cc"), GrantTypes: &[]tokend.GrantType{tokend.GrantClientCredentials},
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.exchange(t, ccOnly, tokend.TokenRequest{GrantType: "password", Username: "a", Password: "b"})
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
}

func TestClientCredentialsGrant(t *testing.T) {
	f := MustOAuthFixture(t)
	it, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "client_credentials"})
	if err != nil {
		t.Fatal(err)
	}
	if it.RefreshToken != "" || it.Token.Subject != "" || !slices.Equal(it.Token.Scopes, f.conf.Scopes) {
		t.Fatalf("client credentials token: refresh %q, subject %q, scopes %v (want the client's scopes by default)", it.RefreshToken, it.Token.Subject, it.Token.Scopes)
	}
	it, err = f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "client_credentials", Scope: "read read"})
	if err != nil || !slices.Equal(it.Token.Scopes, []string{"read"}) {
		t.Fatalf("requested scope: %v, %v", it, err)
	}
}

func TestPasswordGrant(t *testing.T) {
	f := MustOAuthFixture(t)
	it := f.MustPasswordToken(t)
	if it.Token.Subject != "alice" || !slices.Equal(it.Token.Roles, []string{"admin"}) || it.RefreshToken == "" || it.Token.AuthTime.IsZero() {
		t.Fatalf("password token: %+v", it.Token)
	}
	_, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "password", Username: "alice", Password: "wrong horse"})
	wantCode(t, err, tokend.EGRANT, "")
	if _, err := f.core.CreateUser(context.Background(), f.org, f.svc.ID, tokend.UserInput{Username: "bob", Password: ptr("short")}); tokend.ErrorField(err) != "password" {
		t.Fatalf("short password: %v", err)
	}
	u, err := f.core.GetUser(context.Background(), f.org, f.svc.ID, "alice")
	if err != nil || strings.Contains(u.PasswordHash, "correct horse") || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("stored password hash %q, %v", u.PasswordHash, err)
	}
	// Deleting the user cuts off their tokens.
	if err := f.core.DeleteUser(context.Background(), f.org, f.svc.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.core.GetToken(context.Background(), f.org, f.svc.ID, it.Token.ID)
	if got.Status(f.clock.Now()) != tokend.StatusRevoked {
		t.Fatal("the deleted user's token is still live")
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	f := MustOAuthFixture(t)
	first := f.MustPasswordToken(t)
	f.clock.Advance(time.Minute)

	second, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken, Scope: "read"})
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	if second.Token.ID != first.Token.ID || !slices.Equal(second.Token.Scopes, []string{"read"}) || !slices.Equal(second.Token.EffectiveRefreshScopes(), []string{"read", "write"}) {
		t.Fatalf("after narrowing: scopes %v, refresh scopes %v", second.Token.Scopes, second.Token.EffectiveRefreshScopes())
	}
	if !second.Token.LastRefreshedAt.Equal(f.clock.Now()) {
		t.Fatalf("LastRefreshedAt = %v", second.Token.LastRefreshedAt)
	}
	// The narrowed token may widen back to what the grant carries, never beyond.
	_, err = f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: second.RefreshToken, Scope: "admin"})
	wantCode(t, err, tokend.EINVALID, "scope")
	// Another client cannot use it, and its attempt does not burn it.
	_, err = f.exchange(t, f.pub, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: second.RefreshToken})
	wantCode(t, err, tokend.EGRANT, "")
	third, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: second.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(third.Token.Scopes, []string{"read", "write"}) {
		t.Fatalf("refresh without scope restored %v, want the grant's scopes", third.Token.Scopes)
	}

	// Presenting a retired refresh token is reuse: the grant is revoked.
	_, err = f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
	wantCode(t, err, tokend.EGRANT, "")
	tok, _ := f.core.GetToken(context.Background(), f.org, f.svc.ID, first.Token.ID)
	if tok.Status(f.clock.Now()) != tokend.StatusRevoked || tok.RevokedReason != tokend.ReasonRefreshReuse {
		t.Fatalf("after reuse: status %s, reason %q", tok.Status(f.clock.Now()), tok.RevokedReason)
	}
	_, err = f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: third.RefreshToken})
	wantCode(t, err, tokend.EGRANT, "")
}

func TestRefreshGracePeriod(t *testing.T) {
	f := MustOAuthFixture(t)
	ctx := context.Background()
	if _, err := f.core.UpdateService(ctx, f.org, f.svc.ID, tokend.ServiceInput{RefreshReuseGrace: ptr(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	first := f.MustPasswordToken(t)
	second, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Second)
	again, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
	if err != nil {
		t.Fatalf("replay within the grace period: %v", err)
	}
	if again.AccessToken != second.AccessToken || again.RefreshToken != second.RefreshToken {
		t.Fatal("replay within the grace period did not return the same successor")
	}
	f.clock.Advance(30 * time.Second)
	_, err = f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
	wantCode(t, err, tokend.EGRANT, "")
	tok, _ := f.core.GetToken(ctx, f.org, f.svc.ID, first.Token.ID)
	if tok.RevokedReason != tokend.ReasonRefreshReuse {
		t.Fatalf("replay after the grace period: reason %q, want reuse", tok.RevokedReason)
	}
}

func TestRefreshWithoutRotation(t *testing.T) {
	f := MustOAuthFixture(t)
	if _, err := f.core.UpdateService(context.Background(), f.org, f.svc.ID, tokend.ServiceInput{RotateRefreshTokens: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	first := f.MustPasswordToken(t)
	for range 2 {
		next, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		if next.RefreshToken != first.RefreshToken || next.AccessToken == first.AccessToken {
			t.Fatal("without rotation the refresh token must stay and the access token change")
		}
	}
}

func TestRefreshExpired(t *testing.T) {
	f := MustOAuthFixture(t)
	first := f.MustPasswordToken(t)
	f.clock.Advance(f.svc.RefreshTokenTTL)
	_, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
	wantCode(t, err, tokend.EGRANT, "")
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestAuthorizationCodeGrant(t *testing.T) {
	f := MustOAuthFixture(t)
	ctx := context.Background()
	verifier := strings.Repeat("v", 43)
	mint := func(t *testing.T, cl *tokend.Client, in tokend.CodeInput) string {
		t.Helper()
		in.Client = cl.ClientID
		raw, _, err := f.core.CreateAuthorizationCode(ctx, f.org, f.svc.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	base := tokend.CodeInput{Subject: "carol", Scopes: []string{"read"}, RedirectURI: redirect, CodeChallenge: pkce(verifier)}

	t.Run("CreateErrors", func(t *testing.T) {
		for name, tc := range map[string]struct {
			cl    *tokend.Client
			in    tokend.CodeInput
			field string
		}{
			"ErrRedirectNotRegistered": {f.conf, tokend.CodeInput{Subject: "c", RedirectURI: "https://evil.example/cb"}, "redirect_uri"},
			"ErrNoRedirect":            {f.conf, tokend.CodeInput{Subject: "c"}, "redirect_uri"},
			"ErrPublicWithoutPKCE":     {f.pub, tokend.CodeInput{Subject: "c", RedirectURI: redirect}, "code_challenge"},
			"ErrPlainNotAllowed":       {f.pub, tokend.CodeInput{Subject: "c", RedirectURI: redirect, CodeChallenge: verifier, CodeChallengeMethod: "plain"}, "code_challenge_method"},
			"ErrBadChallenge":          {f.pub, tokend.CodeInput{Subject: "c", RedirectURI: redirect, CodeChallenge: "short"}, "code_challenge"},
			"ErrNoSubject":             {f.conf, tokend.CodeInput{RedirectURI: redirect}, "subject"},
			"ErrScope":                 {f.conf, tokend.CodeInput{Subject: "c", RedirectURI: redirect, Scopes: []string{"admin"}}, "scopes"},
		} {
			t.Run(name, func(t *testing.T) {
				tc.in.Client = tc.cl.ClientID
				_, _, err := f.core.CreateAuthorizationCode(ctx, f.org, f.svc.ID, tc.in)
				wantCode(t, err, tokend.EINVALID, tc.field)
			})
		}
	})
	t.Run("OKPublicClientWithPKCE", func(t *testing.T) {
		code := mint(t, f.pub, base)
		it, err := f.exchange(t, f.pub, tokend.TokenRequest{GrantType: "authorization_code", Code: code, RedirectURI: redirect, CodeVerifier: verifier})
		if err != nil {
			t.Fatal(err)
		}
		if it.Token.Subject != "carol" || !slices.Equal(it.Token.Scopes, []string{"read"}) || it.RefreshToken == "" {
			t.Fatalf("code token: %+v", it.Token)
		}
		// A second use fails and revokes what the first produced.
		_, err = f.exchange(t, f.pub, tokend.TokenRequest{GrantType: "authorization_code", Code: code, RedirectURI: redirect, CodeVerifier: verifier})
		wantCode(t, err, tokend.EGRANT, "")
		tok, _ := f.core.GetToken(ctx, f.org, f.svc.ID, it.Token.ID)
		if tok.RevokedReason != tokend.ReasonCodeReuse {
			t.Fatalf("first use's token after code reuse: reason %q", tok.RevokedReason)
		}
	})
	t.Run("RedeemErrors", func(t *testing.T) {
		for name, tc := range map[string]struct {
			cl      *tokend.Client
			req     tokend.TokenRequest
			advance time.Duration
			field   string
			code    string
		}{
			"ErrWrongVerifier":     {f.pub, tokend.TokenRequest{RedirectURI: redirect, CodeVerifier: strings.Repeat("w", 43)}, 0, "", tokend.EGRANT},
			"ErrNoVerifier":        {f.pub, tokend.TokenRequest{RedirectURI: redirect}, 0, "code_verifier", tokend.EINVALID},
			"ErrWrongRedirect":     {f.pub, tokend.TokenRequest{RedirectURI: "https://app.example/other", CodeVerifier: verifier}, 0, "", tokend.EGRANT},
			"ErrOtherClient":       {f.conf, tokend.TokenRequest{RedirectURI: redirect, CodeVerifier: verifier}, 0, "", tokend.EGRANT},
			"ErrExpired":           {f.pub, tokend.TokenRequest{RedirectURI: redirect, CodeVerifier: verifier}, tokend.AuthorizationCodeTTL, "", tokend.EGRANT},
			"ErrMalformedVerifier": {f.pub, tokend.TokenRequest{RedirectURI: redirect, CodeVerifier: "bad"}, 0, "code_verifier", tokend.EINVALID},
		} {
			t.Run(name, func(t *testing.T) {
				code := mint(t, f.pub, base)
				f.clock.Advance(tc.advance)
				defer f.clock.Advance(-tc.advance)
				tc.req.GrantType, tc.req.Code = "authorization_code", code
				_, err := f.exchange(t, tc.cl, tc.req)
				wantCode(t, err, tc.code, tc.field)
				if tc.advance == 0 {
					// A failed attempt does not consume the code.
					if _, err := f.exchange(t, f.pub, tokend.TokenRequest{GrantType: "authorization_code", Code: code, RedirectURI: redirect, CodeVerifier: verifier}); err != nil {
						t.Fatalf("the code no longer works after a failed attempt: %v", err)
					}
				}
			})
		}
	})
	t.Run("OKConfidentialWithoutPKCE", func(t *testing.T) {
		code := mint(t, f.conf, tokend.CodeInput{Subject: "dave", RedirectURI: redirect, AccountID: "acct-1", Roles: []string{"viewer"}})
		it, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "authorization_code", Code: code, RedirectURI: redirect})
		if err != nil {
			t.Fatal(err)
		}
		if it.Token.AccountID != "acct-1" || !slices.Equal(it.Token.Roles, []string{"viewer"}) {
			t.Fatalf("code attributes not carried: %+v", it.Token)
		}
		_, err = f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "authorization_code", Code: mint(t, f.conf, tokend.CodeInput{Subject: "d", RedirectURI: redirect}), RedirectURI: redirect, CodeVerifier: verifier})
		wantCode(t, err, tokend.EGRANT, "") // a verifier for a code without a challenge
	})
}

func TestIntrospectAndRevoke(t *testing.T) {
	f := MustOAuthFixture(t)
	ctx := context.Background()
	svc, _ := f.core.CachedService(ctx, f.svc.ID)
	it := f.MustPasswordToken(t)

	in, err := f.core.Introspect(ctx, svc, it.AccessToken, "")
	if err != nil || !in.Active || in.Refresh || in.Client == nil || in.Client.ClientID != f.conf.ClientID {
		t.Fatalf("access token: %+v, %v", in, err)
	}
	in, err = f.core.Introspect(ctx, svc, it.RefreshToken, "")
	if err != nil || !in.Active || !in.Refresh || !in.ExpiresAt.Equal(it.Token.RefreshExpiresAt) {
		t.Fatalf("refresh token: %+v, %v", in, err)
	}
	for name, value := range map[string]string{
		"Unknown":   tokend.NewSecret(tokend.KindAccessToken),
		"Malformed": it.AccessToken[:30],
		"Foreign":   "E1zpVmVl9Vbq3zBHo3EkMA",
		"Key":       tokend.NewSecret(tokend.KindManagementKey),
		"Empty":     "",
	} {
		t.Run("Inactive"+name, func(t *testing.T) {
			in, err := f.core.Introspect(ctx, svc, value, "")
			if err != nil || in.Active || in.Token != nil {
				t.Fatalf("Introspect(%s) = %+v, %v; want inactive with nothing else", name, in, err)
			}
		})
	}
	t.Run("InactiveInAnotherService", func(t *testing.T) {
		other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other")})
		if err != nil {
			t.Fatal(err)
		}
		if in, err := f.core.Introspect(ctx, other, it.AccessToken, ""); err != nil || in.Active {
			t.Fatalf("another service saw the token: %+v, %v", in, err)
		}
	})
	t.Run("RevokeByClient", func(t *testing.T) {
		if err := f.core.RevokeByClient(ctx, svc, f.pub, it.RefreshToken, "refresh_token"); tokend.ErrorCode(err) != tokend.EFORBIDDEN {
			t.Fatalf("another client revoked the token: %v", err)
		}
		if err := f.core.RevokeByClient(ctx, svc, f.conf, tokend.NewSecret(tokend.KindAccessToken), ""); err != nil {
			t.Fatalf("unknown token: %v", err)
		}
		// The hint is only a hint.
		if err := f.core.RevokeByClient(ctx, svc, f.conf, it.RefreshToken, "access_token"); err != nil {
			t.Fatal(err)
		}
		if in, _ := f.core.Introspect(ctx, svc, it.AccessToken, ""); in.Active {
			t.Fatal("revoking the refresh token left the access token active")
		}
		if err := f.core.RevokeByClient(ctx, svc, f.conf, it.RefreshToken, ""); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
	})
}

func TestServiceByIssuerPath(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	got, err := f.core.ServiceByIssuerPath(ctx, "/oauth/"+formatInt(f.svc.ID))
	if err != nil || got.ID != f.svc.ID {
		t.Fatalf("default issuer: %v, %v", got, err)
	}
	custom, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("c"), Issuer: ptr("https://id.example.com/tenants/acme")})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.core.ServiceByIssuerPath(ctx, "/tenants/acme/"); err != nil || got.ID != custom.ID {
		t.Fatalf("custom issuer: %v, %v", got, err)
	}
	// A service with a custom issuer is not found under its default path.
	if _, err := f.core.ServiceByIssuerPath(ctx, "/oauth/"+formatInt(custom.ID)); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatalf("custom-issuer service under its default path: %v", err)
	}
	for _, path := range []string{"/tenants/other", "/oauth/0123", "/oauth/", "/"} {
		if _, err := f.core.ServiceByIssuerPath(ctx, path); tokend.ErrorCode(err) != tokend.ENOTFOUND {
			t.Errorf("ServiceByIssuerPath(%q) = %v; want not found", path, err)
		}
	}
	_, err = f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("dup"), Issuer: ptr("https://other.example/tenants/acme")})
	wantCode(t, err, tokend.ECONFLICT, "issuer")
	_, err = f.core.UpdateService(ctx, f.org, f.svc.ID, tokend.ServiceInput{Issuer: ptr("https://id.example.com/oauth/77")})
	wantCode(t, err, tokend.EINVALID, "issuer")
	// Moving the issuer is seen at once by discovery.
	if _, err := f.core.UpdateService(ctx, f.org, custom.ID, tokend.ServiceInput{Issuer: ptr("https://id.example.com/tenants/acme2")}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.core.ServiceByIssuerPath(ctx, "/tenants/acme2"); err != nil || got.ID != custom.ID {
		t.Fatalf("moved issuer: %v, %v", got, err)
	}
}

// fakeCallback answers password checks the way a host application would.
type fakeCallback struct{ user *tokend.VerifiedUser }

func (c fakeCallback) VerifyPassword(ctx context.Context, url, username, password string) (*tokend.VerifiedUser, error) {
	if password != "right password" {
		return nil, tokend.Errorf(tokend.EGRANT, "rejected by the host")
	}
	return c.user, nil
}

func TestPasswordCallbackAnswers(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		user *tokend.VerifiedUser
		code string
	}{
		{"OK", &tokend.VerifiedUser{Subject: "erin", AccountID: "acct-9", Roles: []string{"ops"}}, ""},
		{"ErrNoAnswer", nil, tokend.EUNAVAILABLE},
		{"ErrBadSubject", &tokend.VerifiedUser{Subject: ""}, tokend.EUNAVAILABLE},
		{"ErrBadAccount", &tokend.VerifiedUser{Subject: "erin", AccountID: "a b"}, tokend.EUNAVAILABLE},
		{"ErrBadRoles", &tokend.VerifiedUser{Subject: "erin", Roles: []string{"has space"}}, tokend.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cb.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			core := tokend.New(store, tokend.Config{BaseURL: "https://a.example", Callback: fakeCallback{tt.user}})
			org := &tokend.Principal{Permissions: []tokend.Permission{tokend.PermAll}} // an organization key
			svc, err := core.CreateService(ctx, org, tokend.ServiceInput{Name: ptr("cb"), PasswordCallbackURL: ptr("http://127.0.0.1:1/check"),
				GrantTypesSupported: &[]tokend.GrantType{tokend.GrantPassword}})
			if err != nil {
				t.Fatal(err)
			}
			cl, _, err := core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("app")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = core.Exchange(ctx, svc, cl, tokend.TokenRequest{GrantType: "password", Username: "erin", Password: "wrong password"})
			wantCode(t, err, tokend.EGRANT, "")
			it, err := core.Exchange(ctx, svc, cl, tokend.TokenRequest{GrantType: "password", Username: "erin", Password: "right password"})
			wantCode(t, err, tt.code, "")
			if err == nil && (it.Token.AccountID != "acct-9" || !slices.Equal(it.Token.Roles, []string{"ops"})) {
				t.Fatalf("the host's account and roles were not carried: %+v", it.Token)
			}
		})
	}
}
