package authlete

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func TestIntrospection(t *testing.T) {
	e := MustEnv(t)
	der := []byte("the DER bytes of a client certificate")
	sum := sha256.Sum256(der)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	live := e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read"}, Properties: []tokend.Property{{Key: "plan", Value: "gold", Hidden: true}},
		AuthTime: e.clock.Now().Add(-time.Minute), ACR: "urn:acr:2", Resources: []string{"https://api.example/"}})
	bound := e.MustIssue(t, tokend.TokenInput{CertThumbprint: base64.RawURLEncoding.EncodeToString(sum[:])})
	dpop := e.MustIssue(t, tokend.TokenInput{DPoPThumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"})
	short := e.MustIssue(t, tokend.TokenInput{AccessTokenTTL: time.Minute})
	e.clock.Advance(2 * time.Minute)
	introspect := func(t *testing.T, body obj, code, action string) obj {
		t.Helper()
		o := e.MustResult(t, "POST", e.path("auth/introspection"), e.root, body, code)
		if o.str("action") != action {
			t.Fatalf("action %q, want %q: %v", o.str("action"), action, o)
		}
		return o
	}

	t.Run("OKUsable", func(t *testing.T) {
		o := introspect(t, obj{"token": live.AccessToken, "scopes": []string{"read"}, "subject": "john"}, "A301101", "OK")
		tok := live.Token
		if !o.boolean("usable") || !o.boolean("existent") || !o.boolean("sufficient") || !o.boolean("refreshable") ||
			o.num("clientId") != e.cl.ID || o.str("clientIdAlias") != e.cl.ClientID || o.str("subject") != "john" ||
			o.num("expiresAt") != tok.AccessExpiresAt.UnixMilli() || !slices.Equal(o.strs("scopes"), []string{"read"}) ||
			o.str("grantType") != "AUTHORIZATION_CODE" || o.str("acr") != "urn:acr:2" || o.num("authTime") != tok.AuthTime.Unix() ||
			o.str("grantId") != strconv.FormatInt(tok.GrantID, 10) || !slices.Equal(o.strs("resources"), tok.Resources) {
			t.Fatalf("introspection %v", o)
		}
		if p := o.objs("properties"); len(p) != 1 || !p[0].boolean("hidden") {
			t.Fatalf("the resource server's back end sees every property: %v", p)
		}
		if o["responseContent"] != nil {
			t.Fatalf("OK needs no challenge: %v", o)
		}
	})
	outcomes := []struct {
		name         string
		body         obj
		code, action string
		bearerError  string
		existent     bool
	}{
		{"Missing", obj{}, "A301601", "BAD_REQUEST", "invalid_request", false},
		{"Unknown", obj{"token": "never-issued-token"}, "A301602", "UNAUTHORIZED", "invalid_token", false},
		{"Expired", obj{"token": short.AccessToken}, "A301603", "UNAUTHORIZED", "invalid_token", true},
		{"CertificateNotPresented", obj{"token": bound.AccessToken}, "A301604", "UNAUTHORIZED", "invalid_token", true},
		{"DPoPNotChecked", obj{"token": dpop.AccessToken}, "A301605", "UNAUTHORIZED", "invalid_token", true},
		{"InsufficientScope", obj{"token": live.AccessToken, "scopes": []string{"read", "write"}}, "A301606", "FORBIDDEN", "insufficient_scope", true},
		{"OtherSubject", obj{"token": live.AccessToken, "subject": "ann"}, "A301607", "FORBIDDEN", "insufficient_scope", true},
	}
	for _, tt := range outcomes {
		t.Run(tt.name, func(t *testing.T) {
			o := introspect(t, tt.body, tt.code, tt.action)
			if !strings.HasPrefix(o.str("responseContent"), `Bearer error="`+tt.bearerError+`",error_description="[`+tt.code+"] ") {
				t.Fatalf("responseContent %q", o.str("responseContent"))
			}
			if o.boolean("existent") != tt.existent || (tt.action != "FORBIDDEN" && o.boolean("usable")) {
				t.Fatalf("existent %v usable %v: %v", o.boolean("existent"), o.boolean("usable"), o)
			}
		})
	}
	t.Run("ScopeChallengeNamesTheScopes", func(t *testing.T) {
		o := introspect(t, obj{"token": live.AccessToken, "scopes": []string{"read", "write"}}, "A301606", "FORBIDDEN")
		if !strings.HasSuffix(o.str("responseContent"), `,scope="read write"`) || o.boolean("sufficient") {
			t.Fatalf("responseContent %q", o.str("responseContent"))
		}
	})
	t.Run("OKWithTheBoundCertificate", func(t *testing.T) {
		introspect(t, obj{"token": bound.AccessToken, "clientCertificate": certPEM}, "A301101", "OK")
	})
	refusals := []struct {
		name        string
		body        obj
		code, field string
	}{
		{"ErrDPoPProof", obj{"token": live.AccessToken, "dpop": "eyJ..."}, "A301203", "dpop"},
		{"ErrResources", obj{"token": live.AccessToken, "resources": []string{"https://x/"}}, "A301203", "resources"},
		{"ErrHeaders", obj{"token": live.AccessToken, "headers": []obj{{"key": "a", "value": "b"}}}, "A301203", "headers"},
		{"ErrCertificateNotPEM", obj{"token": live.AccessToken, "clientCertificate": "not pem"}, "A301201", "clientCertificate"},
		{"ErrBadScope", obj{"token": live.AccessToken, "scopes": []string{"a b"}}, "A301201", "scopes"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			o := e.MustError(t, "POST", e.path("auth/introspection"), e.root, tt.body, 400, tt.code, tt.field)
			if o.str("action") != "INTERNAL_SERVER_ERROR" {
				t.Fatalf("action %q", o.str("action"))
			}
		})
	}
	t.Run("ErrKeyWithoutIntrospect", func(t *testing.T) {
		key := e.MustKey(t, e.svc.ID, tokend.PermTokensRead, tokend.PermTokensWrite)
		e.MustError(t, "POST", e.path("auth/introspection"), key, obj{"token": live.AccessToken}, 403, "A301403", "")
	})
}

func TestStandardIntrospection(t *testing.T) {
	e := MustEnv(t)
	it := e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read"}, Properties: []tokend.Property{{Key: "plan", Value: "gold"}, {Key: "secret", Value: "s", Hidden: true}}})
	std := func(t *testing.T, body obj) (obj, map[string]any) {
		t.Helper()
		o := e.MustResult(t, "POST", e.path("auth/introspection/standard"), e.root, body, "A302101")
		var content map[string]any
		if err := json.Unmarshal([]byte(o.str("responseContent")), &content); err != nil || o.str("action") != "OK" {
			t.Fatalf("responseContent %q (action %q): %v", o.str("responseContent"), o.str("action"), err)
		}
		return o, content
	}
	t.Run("OKActive", func(t *testing.T) {
		_, c := std(t, obj{"parameters": "token=" + url.QueryEscape(it.AccessToken)})
		if c["active"] != true || c["scope"] != "read" || c["client_id"] != e.cl.ClientID || c["sub"] != "john" || c["plan"] != "gold" || c["secret"] != nil {
			t.Fatalf("RFC 7662 answer %v", c)
		}
	})
	t.Run("OKHiddenPropertiesWhenAsked", func(t *testing.T) {
		_, c := std(t, obj{"parameters": "token=" + url.QueryEscape(it.AccessToken), "withHiddenProperties": true})
		if c["secret"] != "s" {
			t.Fatalf("withHiddenProperties: %v", c)
		}
	})
	t.Run("OKRefreshTokenWithHint", func(t *testing.T) {
		_, c := std(t, obj{"parameters": "token=" + url.QueryEscape(it.RefreshToken) + "&token_type_hint=refresh_token"})
		if c["active"] != true || c["token_type"] != "refresh_token" {
			t.Fatalf("refresh token: %v", c)
		}
	})
	t.Run("OKInactive", func(t *testing.T) {
		o, c := std(t, obj{"parameters": "token=nope-not-a-token"})
		if len(c) != 1 || c["active"] != false || !strings.Contains(o.str("resultMessage"), "not active") {
			t.Fatalf("inactive: %v %v", o, c)
		}
	})
	for _, tt := range []struct{ name, params string }{{"BadRequestNoToken", "token_type_hint=access_token"}, {"BadRequestRepeated", "token=a&token=b"}} {
		t.Run(tt.name, func(t *testing.T) {
			o := e.MustResult(t, "POST", e.path("auth/introspection/standard"), e.root, obj{"parameters": tt.params}, "A302612")
			if o.str("action") != "BAD_REQUEST" || !strings.Contains(o.str("responseContent"), `"error":"invalid_request"`) {
				t.Fatalf("%v", o)
			}
		})
	}
	t.Run("ErrJWTResponse", func(t *testing.T) {
		e.MustError(t, "POST", e.path("auth/introspection/standard"), e.root,
			obj{"parameters": "token=x", "httpAcceptHeader": "application/token-introspection+jwt"}, 400, "A302203", "httpAcceptHeader")
	})
}

func TestRevocation(t *testing.T) {
	e := MustEnv(t)
	revoke := func(t *testing.T, body obj, code, action string) obj {
		t.Helper()
		o := e.MustResult(t, "POST", e.path("auth/revocation"), e.root, body, code)
		if o.str("action") != action {
			t.Fatalf("action %q, want %q: %v", o.str("action"), action, o)
		}
		return o
	}
	t.Run("OKWithCredentialsFromTheFrontEnd", func(t *testing.T) {
		it := e.MustIssue(t, tokend.TokenInput{})
		o := revoke(t, obj{"parameters": "token=" + url.QueryEscape(it.RefreshToken) + "&token_type_hint=refresh_token",
			"clientId": e.cl.ClientID, "clientSecret": e.secret}, "A303101", "OK")
		if o["responseContent"] != nil || e.MustToken(t, it.Token.ID).RevokedAt.IsZero() {
			t.Fatalf("revocation %v: token still live", o)
		}
	})
	t.Run("OKClientSecretPost", func(t *testing.T) {
		it := e.MustIssue(t, tokend.TokenInput{})
		revoke(t, obj{"parameters": url.Values{"token": {it.AccessToken}, "client_id": {e.cl.ClientID}, "client_secret": {e.secret}}.Encode()}, "A303101", "OK")
		if e.MustToken(t, it.Token.ID).RevokedAt.IsZero() {
			t.Fatal("not revoked")
		}
	})
	t.Run("OKUnknownToken", func(t *testing.T) {
		revoke(t, obj{"parameters": "token=never-issued", "clientId": e.cl.ClientID, "clientSecret": e.secret}, "A303101", "OK")
	})
	it := e.MustIssue(t, tokend.TokenInput{})
	outcomes := []struct {
		name, code, action, oauthError string
		body                           obj
	}{
		{"InvalidClientWrongSecret", "A303611", "INVALID_CLIENT", "invalid_client", obj{"parameters": "token=" + it.AccessToken, "clientId": e.cl.ClientID, "clientSecret": "tks_wrong"}},
		{"InvalidClientNone", "A303611", "INVALID_CLIENT", "invalid_client", obj{"parameters": "token=" + it.AccessToken}},
		{"AnotherClientsToken", "A303612", "BAD_REQUEST", "unauthorized_client", obj{"parameters": "token=" + it.AccessToken, "clientId": e.pub.ClientID}},
		{"NoToken", "A303612", "BAD_REQUEST", "invalid_request", obj{"parameters": "", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
		{"TwoSecrets", "A303612", "BAD_REQUEST", "invalid_request", obj{"parameters": "token=x&client_secret=" + e.secret, "clientId": e.cl.ClientID, "clientSecret": e.secret}},
		{"TwoClientIDs", "A303612", "BAD_REQUEST", "invalid_request", obj{"parameters": "token=x&client_id=other", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
	}
	for _, tt := range outcomes {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			o := revoke(t, tt.body, tt.code, tt.action)
			var c map[string]string
			if err := json.Unmarshal([]byte(o.str("responseContent")), &c); err != nil || c["error"] != tt.oauthError || c["error_description"] == "" {
				t.Fatalf("responseContent %q, want error %s", o.str("responseContent"), tt.oauthError)
			}
			e.MustUnchanged(t, before)
		})
	}
	t.Run("ErrCertificateAuth", func(t *testing.T) {
		e.MustError(t, "POST", e.path("auth/revocation"), e.root, obj{"parameters": "token=x", "clientCertificate": "-----BEGIN"}, 400, "A303203", "clientCertificate")
	})
}

func TestTokenEndpoint(t *testing.T) {
	e := MustEnv(t)
	token := func(t *testing.T, body obj, code, action string) obj {
		t.Helper()
		o := e.MustResult(t, "POST", e.path("auth/token"), e.root, body, code)
		if o.str("action") != action {
			t.Fatalf("action %q, want %q: %v", o.str("action"), action, o)
		}
		return o
	}
	content := func(t *testing.T, o obj) map[string]any {
		t.Helper()
		var c map[string]any
		if err := json.Unmarshal([]byte(o.str("responseContent")), &c); err != nil {
			t.Fatalf("responseContent %q: %v", o.str("responseContent"), err)
		}
		return c
	}
	t.Run("OKClientCredentials", func(t *testing.T) {
		o := token(t, obj{"parameters": "grant_type=client_credentials&scope=read", "clientId": e.cl.ClientID, "clientSecret": e.secret}, "A304101", "OK")
		c := content(t, o)
		if c["access_token"] != o.str("accessToken") || c["token_type"] != "Bearer" || c["expires_in"] != 3600.0 || c["scope"] != "read" || c["refresh_token"] != nil {
			t.Fatalf("RFC 6749 body %v", c)
		}
		if o.str("grantType") != "CLIENT_CREDENTIALS" || o.num("clientId") != e.cl.ID || o.str("clientIdAlias") != e.cl.ClientID ||
			o.num("accessTokenDuration") != 3600 || o.num("accessTokenExpiresAt") != e.clock.Now().Add(time.Hour).UnixMilli() {
			t.Fatalf("response %v", o)
		}
		tok, err := e.core.FindToken(t.Context(), e.org, e.svc.ID, tokend.TokenRef{Value: o.str("accessToken")})
		if err != nil || tok.GrantType != tokend.GrantClientCredentials {
			t.Fatalf("the token answered is not stored: %v", err)
		}
	})
	t.Run("OKRefreshRotates", func(t *testing.T) {
		it := e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read", "write"}})
		o := token(t, obj{"parameters": url.Values{"grant_type": {"refresh_token"}, "refresh_token": {it.RefreshToken}, "scope": {"read"}}.Encode(),
			"clientId": e.cl.ClientID, "clientSecret": e.secret}, "A304101", "OK")
		c := content(t, o)
		if c["refresh_token"] == it.RefreshToken || c["refresh_token"] == nil || c["scope"] != "read" || o.str("grantType") != "REFRESH_TOKEN" ||
			o.str("subject") != "john" || !slices.Equal(o.strs("refreshTokenScopes"), []string{"read", "write"}) {
			t.Fatalf("refresh %v / %v", o, c)
		}
		// The old refresh token is reuse now: the grant is revoked.
		o = token(t, obj{"parameters": "grant_type=refresh_token&refresh_token=" + url.QueryEscape(it.RefreshToken),
			"clientId": e.cl.ClientID, "clientSecret": e.secret}, "A304612", "BAD_REQUEST")
		if content(t, o)["error"] != "invalid_grant" || e.MustToken(t, it.Token.ID).RevokedAt.IsZero() {
			t.Fatalf("reuse: %v", o)
		}
	})
	t.Run("OKPasswordCheckedByTokend", func(t *testing.T) {
		if _, err := e.core.CreateUser(t.Context(), e.org, e.svc.ID, tokend.UserInput{Username: "bob", Password: ptr("correct horse battery")}); err != nil {
			t.Fatal(err)
		}
		o := token(t, obj{"parameters": "grant_type=password&username=bob&password=correct+horse+battery", "clientId": e.cl.ClientID, "clientSecret": e.secret}, "A304101", "OK")
		if o.str("subject") != "bob" || o.str("grantType") != "PASSWORD" {
			t.Fatalf("password %v", o)
		}
		o = token(t, obj{"parameters": "grant_type=password&username=bob&password=wrong-password", "clientId": e.cl.ClientID, "clientSecret": e.secret}, "A304612", "BAD_REQUEST")
		if content(t, o)["error"] != "invalid_grant" {
			t.Fatalf("wrong password: %v", o)
		}
	})
	outcomes := []struct {
		name, code, action, oauthError string
		body                           obj
	}{
		{"InvalidClient", "A304611", "INVALID_CLIENT", "invalid_client", obj{"parameters": "grant_type=client_credentials", "clientId": e.cl.ClientID, "clientSecret": "tks_nope"}},
		{"UnsupportedGrant", "A304612", "BAD_REQUEST", "unsupported_grant_type", obj{"parameters": "grant_type=urn:ietf:params:oauth:grant-type:device_code", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
		{"InvalidScope", "A304612", "BAD_REQUEST", "invalid_scope", obj{"parameters": "grant_type=client_credentials&scope=admin", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
		{"PublicClientCannotUseClientCredentials", "A304612", "BAD_REQUEST", "unauthorized_client", obj{"parameters": "grant_type=client_credentials", "clientId": e.pub.ClientID}},
		{"UnknownCode", "A304612", "BAD_REQUEST", "invalid_grant", obj{"parameters": "grant_type=authorization_code&code=tkc_nope&redirect_uri=https://x/", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
		{"NoGrantType", "A304612", "BAD_REQUEST", "invalid_request", obj{"parameters": "scope=read", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
	}
	for _, tt := range outcomes {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			o := token(t, tt.body, tt.code, tt.action)
			if c := content(t, o); c["error"] != tt.oauthError {
				t.Fatalf("error %v, want %s", c["error"], tt.oauthError)
			}
			e.MustUnchanged(t, before)
		})
	}
	refusals := []struct {
		name        string
		body        obj
		code, field string
	}{
		{"ErrDPoP", obj{"parameters": "grant_type=client_credentials", "dpop": "eyJ"}, "A304203", "dpop"},
		{"ErrDurations", obj{"parameters": "grant_type=client_credentials", "accessTokenDuration": 60}, "A304203", "accessTokenDuration"},
		{"ErrJWTClaims", obj{"parameters": "grant_type=client_credentials", "jwtAtClaims": "{}"}, "A304203", "jwtAtClaims"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			e.MustError(t, "POST", e.path("auth/token"), e.root, tt.body, 400, tt.code, tt.field)
			e.MustUnchanged(t, before)
		})
	}
}
