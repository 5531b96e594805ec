package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
)

// introspectFixture is a service with a resource server (a confidential
// client that introspects) and an app holding a richly attributed token.
type introspectFixture struct {
	e         *env
	svc       *tokend.Service
	rs        *tokend.Client
	rsSecret  string
	app       *tokend.Client
	issued    *tokend.IssuedToken
	jkt, x5t  string
	createdAt time.Time
}

func MustIntrospectFixture(t *testing.T) *introspectFixture {
	t.Helper()
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	rs, rsSecret := MustClient(t, e, svc.ID, tokend.ClientInput{Name: ptr("resource server")})
	app, _ := MustClient(t, e, svc.ID, tokend.ClientInput{})
	f := &introspectFixture{e: e, svc: svc, rs: rs, rsSecret: rsSecret, app: app,
		jkt: tokend.HashSecret("dpop key").String(), x5t: tokend.HashSecret("cert").String(), createdAt: e.clock.Now()}
	var err error
	f.issued, err = e.core.CreateToken(context.Background(), e.root, svc.ID, tokend.TokenInput{
		Client: app.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "alice",
		Scopes: []string{"read", "write"}, AccountID: "acct-1", Roles: []string{"admin", "editor"},
		Resources: []string{"https://api.example/"}, DPoPThumbprint: f.jkt, CertThumbprint: f.x5t,
		Properties: []tokend.Property{
			{Key: "tenant", Value: "blue"},
			{Key: "sub", Value: "mallory"},                     // collides: left out
			{Key: "internal_note", Value: "vip", Hidden: true}, // hidden: left out
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *introspectFixture) asRS(t *testing.T, token string) result {
	t.Helper()
	return f.e.Post(t, f.svc.ID, "introspect", url.Values{"token": {token}}, basic(f.rs.ClientID, f.rsSecret))
}

func decodeIntrospection(t *testing.T, r result) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("introspect: %s", r)
	}
	MustNoStore(t, r)
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntrospection(t *testing.T) {
	f := MustIntrospectFixture(t)
	e, tok := f.e, f.issued.Token
	iat := float64(f.createdAt.Unix())
	t.Run("OKAccessToken", func(t *testing.T) {
		got := decodeIntrospection(t, f.asRS(t, f.issued.AccessToken))
		want := map[string]any{
			"active": true, "scope": "read write", "client_id": f.app.ClientID,
			"username": "alice", "sub": "alice", "token_type": "DPoP",
			"exp": iat + 3600, "iat": iat, "nbf": iat,
			"aud": []any{"https://api.example/"}, "iss": fmt.Sprintf("%s/oauth/%d", e.url, f.svc.ID),
			"jti": strconv.FormatInt(tok.ID, 10), "cnf": map[string]any{"jkt": f.jkt, "x5t#S256": f.x5t},
			"account_id": "acct-1", "roles": []any{"admin", "editor"}, "tenant": "blue",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("introspection\n got %v\nwant %v", got, want)
		}
	})
	t.Run("OKRefreshToken", func(t *testing.T) {
		got := decodeIntrospection(t, f.asRS(t, f.issued.RefreshToken))
		if got["token_type"] != "refresh_token" || got["exp"] != float64(tok.RefreshExpiresAt.Unix()) || got["jti"] != strconv.FormatInt(tok.ID, 10) {
			t.Fatalf("introspection = %v", got)
		}
	})
	t.Run("OKClientSecretPost", func(t *testing.T) {
		r := e.Post(t, f.svc.ID, "introspect", url.Values{"token": {f.issued.AccessToken}, "client_id": {f.rs.ClientID}, "client_secret": {f.rsSecret}}, nil)
		if got := decodeIntrospection(t, r); got["active"] != true {
			t.Fatalf("introspection = %v", got)
		}
	})
	t.Run("OKBearerToken", func(t *testing.T) {
		cc, err := e.core.CreateToken(context.Background(), e.root, f.svc.ID, tokend.TokenInput{
			Client: f.app.ClientID, GrantType: tokend.GrantClientCredentials, Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		got := decodeIntrospection(t, f.asRS(t, cc.AccessToken))
		if got["token_type"] != "Bearer" || got["sub"] != nil || got["cnf"] != nil || got["aud"] != nil {
			t.Fatalf("introspection = %v", got)
		}
	})
}

func TestIntrospectionInactive(t *testing.T) {
	f := MustIntrospectFixture(t)
	e := f.e
	ctx := context.Background()
	other := MustService(t, e, tokend.ServiceInput{Name: ptr("other")})
	ocl, _ := MustClient(t, e, other.ID, tokend.ClientInput{})
	otherTok, err := e.core.CreateToken(ctx, e.root, other.ID, tokend.TokenInput{Client: ocl.ClientID, GrantType: tokend.GrantClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	short, err := e.core.CreateToken(ctx, e.root, f.svc.ID, tokend.TokenInput{Client: f.app.ClientID, GrantType: tokend.GrantClientCredentials, AccessTokenTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := e.core.CreateToken(ctx, e.root, f.svc.ID, tokend.TokenInput{Client: f.app.ClientID, GrantType: tokend.GrantClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Post(t, f.svc.ID, "revoke", url.Values{"token": {revoked.AccessToken}}, basic(f.app.ClientID, mustSecret(t, e, f.svc.ID, f.app))); r.status != http.StatusOK {
		t.Fatalf("revoke: %s", r)
	}
	e.clock.Advance(2 * time.Minute)
	valid := f.issued.AccessToken
	for _, tc := range []struct{ name, token string }{
		{"Unknown", tokend.NewSecret(tokend.KindAccessToken)},
		{"UnknownForeign", "some-other-servers-token-value"},
		{"Expired", short.AccessToken},
		{"Revoked", revoked.AccessToken},
		{"Malformed", testutil.Mistype(valid)},
		{"OtherService", otherTok.AccessToken},
		{"ClientSecret", f.rsSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.asRS(t, tc.token)
			if r.status != http.StatusOK || string(r.body) != "{\"active\":false}\n" {
				t.Fatalf("got %s, want exactly {\"active\":false}", r)
			}
		})
	}
	t.Run("MalformedCostsNoQuery", func(t *testing.T) {
		before := e.store.lookups.Load()
		f.asRS(t, testutil.Mistype(valid))
		f.asRS(t, "tka_short")
		if n := e.store.lookups.Load() - before; n != 0 {
			t.Fatalf("a value failing its checksum cost %d token lookups", n)
		}
		f.asRS(t, tokend.NewSecret(tokend.KindAccessToken))
		if e.store.lookups.Load() == before {
			t.Fatal("the lookup counter does not count: the check above proves nothing")
		}
	})
	t.Run("StillActive", func(t *testing.T) {
		if got := decodeIntrospection(t, f.asRS(t, f.issued.RefreshToken)); got["active"] != true {
			t.Fatalf("the refresh token of an expired access token should still be active: %v", got)
		}
	})
}

// mustSecret gives a client a fresh secret and returns it.
func mustSecret(t *testing.T, e *env, sid int64, cl *tokend.Client) string {
	t.Helper()
	_, secret, err := e.core.RotateClientSecret(context.Background(), e.root, sid, cl.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestIntrospectionAuth(t *testing.T) {
	f := MustIntrospectFixture(t)
	e := f.e
	ctx := context.Background()
	other := MustService(t, e, tokend.ServiceInput{Name: ptr("other")})
	foreign, foreignSecret := MustClient(t, e, other.ID, tokend.ClientInput{})
	pub, _ := MustClient(t, e, f.svc.ID, tokend.ClientInput{Type: ptr(tokend.ClientPublic)})
	key := func(sid int64, perms ...tokend.Permission) string {
		_, raw, err := e.core.CreateKey(ctx, e.root, sid, tokend.KeyInput{Name: "k", Permissions: perms})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	form := url.Values{"token": {f.issued.AccessToken}}
	for _, tc := range []struct {
		name   string
		form   url.Values
		auth   func(*http.Request)
		status int
		code   string
	}{
		{"OKOrgKey", form, bearer(e.key), 200, ""},
		{"OKServiceKeyWithIntrospect", form, bearer(key(f.svc.ID, tokend.PermTokensIntrospect)), 200, ""},
		{"ErrNoCredentials", form, nil, 401, "invalid_client"},
		{"ErrWrongSecret", form, basic(f.rs.ClientID, tokend.NewSecret(tokend.KindClientSecret)), 401, "invalid_client"},
		{"ErrOtherServicesClient", form, basic(foreign.ClientID, foreignSecret), 401, "invalid_client"},
		{"ErrPublicClient", url.Values{"token": form["token"], "client_id": {pub.ClientID}}, nil, 401, "invalid_client"},
		{"ErrInvalidKey", form, bearer(tokend.NewSecret(tokend.KindManagementKey)), 401, "invalid_token"},
		{"ErrKeyWithoutIntrospect", form, bearer(key(f.svc.ID, tokend.PermTokensRead)), 401, "insufficient_scope"},
		{"ErrOtherServicesKey", form, bearer(key(other.ID, tokend.PermTokensIntrospect)), 401, "insufficient_scope"},
		{"ErrKeyAndClient", url.Values{"token": form["token"], "client_id": {f.rs.ClientID}}, bearer(e.key), 400, "invalid_request"},
		{"ErrNoToken", url.Values{}, basic(f.rs.ClientID, f.rsSecret), 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, f.svc.ID, "introspect", tc.form, tc.auth)
			if tc.status == 200 {
				if got := decodeIntrospection(t, r); got["active"] != true {
					t.Fatalf("introspection = %v", got)
				}
				return
			}
			b := MustOAuthError(t, r, tc.status, tc.code)
			if b.Description == "" {
				t.Fatalf("no error_description: %s", r)
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("401 without WWW-Authenticate: %s", r)
			}
		})
	}
}
