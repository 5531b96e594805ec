package tokend_test

import (
	"context"
	"github.com/tokend/tokend/internal/testutil"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/passwd"
	"github.com/tokend/tokend/sqlite"
)

type fixture struct {
	core   *tokend.Core
	clock  *testutil.Clock
	org    *tokend.Principal // every permission, every service
	svc    *tokend.Service
	cl     *tokend.Client // confidential, all the service's grants, scopes read write
	secret string         // cl's client secret
}

func ptr[T any](v T) *T { return &v }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// MustFixture returns a core on a fresh SQLite store with one service and
// one confidential client.
func MustFixture(tb testing.TB) *fixture {
	tb.Helper()
	return mustObservedFixture(tb, nil)
}

// mustObservedFixture is MustFixture with a core that tells obs of token
// events.
func mustObservedFixture(tb testing.TB, obs tokend.Observer) *fixture {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "core.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	clk := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	core := tokend.New(store, tokend.Config{
		BaseURL: "https://auth.example.com/", Now: clk.Now,
		Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}}, // fast: tests, not security
		Observer:  obs,
	})
	raw, err := core.Bootstrap(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	org, err := core.AuthenticateKey(ctx, raw)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := core.CreateService(ctx, org, tokend.ServiceInput{
		Name:            ptr("photos"),
		ScopesSupported: &[]string{"read", "write", "admin"},
		GrantTypesSupported: &[]tokend.GrantType{
			tokend.GrantAuthorizationCode, tokend.GrantClientCredentials,
			tokend.GrantRefreshToken, tokend.GrantPassword, tokend.GrantImplicit,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	cl, secret, err := core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{
		Name: ptr("app"), Scopes: &[]string{"read", "write"}, RedirectURIs: &[]string{redirect},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{core: core, clock: clk, org: org, svc: svc, cl: cl, secret: secret}
}

// MustIssue mints a token for subject with the given scopes.
func (f *fixture) MustIssue(tb testing.TB, subject string, scopes ...string) *tokend.IssuedToken {
	tb.Helper()
	it, err := f.core.CreateToken(context.Background(), f.org, f.svc.ID, tokend.TokenInput{
		Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: subject, Scopes: scopes,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

func wantCode(tb testing.TB, err error, code, field string) {
	tb.Helper()
	if tokend.ErrorCode(err) != code || tokend.ErrorField(err) != field {
		tb.Fatalf("error = %v; want code %q field %q", err, code, field)
	}
}

func TestIssuerDerivedFromBaseURL(t *testing.T) {
	f := MustFixture(t)
	if got, want := f.core.IssuerOf(f.svc), "https://auth.example.com/oauth/"+formatInt(f.svc.ID); got != want {
		t.Fatalf("IssuerOf = %q, want %q", got, want)
	}
	s, err := f.core.UpdateService(context.Background(), f.org, f.svc.ID, tokend.ServiceInput{Issuer: ptr("https://id.example.com/tenant")})
	if err != nil || f.core.IssuerOf(s) != "https://id.example.com/tenant" {
		t.Fatalf("custom issuer: %v, %v", s, err)
	}
	_, err = f.core.UpdateService(context.Background(), f.org, f.svc.ID, tokend.ServiceInput{Issuer: ptr("https://id.example.com/?q=1")})
	wantCode(t, err, tokend.EINVALID, "issuer")
}

func TestCreateTokenRules(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	long := make([]byte, 101)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name  string
		in    tokend.TokenInput
		code  string
		field string
	}{
		{"ErrUnknownGrant", tokend.TokenInput{GrantType: "MAGIC", Subject: "john"}, tokend.EINVALID, "grant_type"},
		{"ErrGrantNotSupportedByService", tokend.TokenInput{GrantType: tokend.GrantCIBA, Subject: "john"}, tokend.EINVALID, "grant_type"},
		{"ErrMissingSubject", tokend.TokenInput{GrantType: tokend.GrantPassword}, tokend.EINVALID, "subject"},
		{"ErrSubjectForClientCredentials", tokend.TokenInput{GrantType: tokend.GrantClientCredentials, Subject: "john"}, tokend.EINVALID, "subject"},
		{"ErrSubjectTooLong", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: string(long)}, tokend.EINVALID, "subject"},
		{"ErrSubjectNotASCII", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "jürgen"}, tokend.EINVALID, "subject"},
		{"ErrScopeOutsideService", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", Scopes: []string{"delete"}}, tokend.EINVALID, "scopes"},
		{"ErrScopeOutsideClient", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", Scopes: []string{"admin"}}, tokend.EINVALID, "scopes"},
		{"ErrNegativeTTL", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", AccessTokenTTL: -time.Second}, tokend.EINVALID, "access_token_ttl"},
		{"ErrRefreshForClientCredentials", tokend.TokenInput{GrantType: tokend.GrantClientCredentials, RefreshToken: "E1zpVmVl9Vbq3zBHo3EkMA"}, tokend.EINVALID, "refresh_token"},
		{"ErrPersistentWithTTL", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", Persistent: true, AccessTokenTTL: time.Hour}, tokend.EINVALID, "access_token_ttl"},
		{"ErrSuppliedTooShort", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", AccessToken: "abc"}, tokend.EINVALID, "access_token"},
		{"ErrSuppliedWrongKind", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", AccessToken: tokend.NewSecret(tokend.KindRefreshToken)}, tokend.EINVALID, "access_token"},
		{"ErrPropertyDuplicate", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", Properties: []tokend.Property{{Key: "a"}, {Key: "a"}}}, tokend.EINVALID, "properties"},
		{"ErrRoleWithSpace", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", Roles: []string{"a b"}}, tokend.EINVALID, "roles"},
		{"ErrAuthorizationDetailsNotArray", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", AuthorizationDetails: []byte(`{"type":"x"}`)}, tokend.EINVALID, "authorization_details"},
		{"ErrResourceRelative", tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "john", Resources: []string{"/api"}}, tokend.EINVALID, "resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Client = f.cl.ClientID
			_, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tt.in)
			wantCode(t, err, tt.code, tt.field)
		})
	}
	list, err := f.core.ListTokens(ctx, f.org, f.svc.ID, tokend.TokenQuery{Status: tokend.StatusAll})
	if err != nil || list.TotalCount != 0 {
		t.Fatalf("rejected requests stored tokens: %d, %v", list.TotalCount, err)
	}
}

func TestCreateTokenOK(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	now := f.clock.Now()

	t.Run("AuthorizationCodeGetsRefresh", func(t *testing.T) {
		it := f.MustIssue(t, "john", "read")
		tok := it.Token
		if !tokend.WellFormed(it.AccessToken, tokend.KindAccessToken, false) || !tokend.WellFormed(it.RefreshToken, tokend.KindRefreshToken, false) {
			t.Fatalf("minted values %q, %q are not well-formed", it.AccessToken, it.RefreshToken)
		}
		if tok.AccessHash != tokend.HashSecret(it.AccessToken) || tok.RefreshHash != tokend.HashSecret(it.RefreshToken) {
			t.Fatal("stored hashes do not match the minted values")
		}
		if !tok.AccessExpiresAt.Equal(now.Add(f.svc.AccessTokenTTL)) || !tok.RefreshExpiresAt.Equal(now.Add(f.svc.RefreshTokenTTL)) {
			t.Fatalf("expiries %v, %v do not follow the service defaults", tok.AccessExpiresAt, tok.RefreshExpiresAt)
		}
		if tok.GrantID != tok.ID {
			t.Fatalf("GrantID = %d, want the token's own id %d", tok.GrantID, tok.ID)
		}
	})
	t.Run("ClientCredentialsHasNoRefreshNorSubject", func(t *testing.T) {
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
			Client: formatInt(f.cl.ID), GrantType: tokend.GrantClientCredentials, Scopes: []string{"read"}, AccessTokenTTL: 90 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if it.RefreshToken != "" || it.Token.HasRefresh() || it.Token.Subject != "" {
			t.Fatalf("client credentials token: %+v", it.Token)
		}
		if !it.Token.AccessExpiresAt.Equal(now.Add(90 * time.Second)) {
			t.Fatalf("AccessExpiresAt = %v", it.Token.AccessExpiresAt)
		}
	})
	t.Run("SuppliedValuesAreHashed", func(t *testing.T) {
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
			Client: f.cl.ClientID, GrantType: tokend.GrantPassword, Subject: "mig",
			AccessToken: "E1zpVmVl9Vbq3zBHo3EkMA", RefreshToken: "YwwpQj0vGRaVfV2-oI7huA",
		})
		if err != nil {
			t.Fatal(err)
		}
		if it.AccessToken != "" || it.RefreshToken != "" {
			t.Fatal("a supplied value was echoed back as if minted")
		}
		if it.Token.AccessHash != tokend.HashSecret("E1zpVmVl9Vbq3zBHo3EkMA") {
			t.Fatal("the supplied access token's hash was not stored")
		}
		_, err = f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
			Client: f.cl.ClientID, GrantType: tokend.GrantPassword, Subject: "mig", AccessToken: "E1zpVmVl9Vbq3zBHo3EkMA",
		})
		wantCode(t, err, tokend.ECONFLICT, "access_token")
	})
	t.Run("PersistentNeverExpires", func(t *testing.T) {
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
			Client: f.cl.ClientID, GrantType: tokend.GrantImplicit, Subject: "p", Persistent: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(1000 * 24 * time.Hour)
		defer f.clock.Advance(-1000 * 24 * time.Hour)
		if it.Token.Status(f.clock.Now()) != tokend.StatusActive || it.Token.HasRefresh() {
			t.Fatalf("persistent implicit token: status %s, refresh %v", it.Token.Status(f.clock.Now()), it.Token.HasRefresh())
		}
	})
}

func TestPermissions(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	key := func(sid int64, perms ...tokend.Permission) *tokend.Principal {
		_, raw, err := f.core.CreateKey(ctx, f.org, sid, tokend.KeyInput{Name: "k", Permissions: perms})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.core.AuthenticateKey(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	reader := key(f.svc.ID, tokend.PermTokensRead)
	otherAll := key(other.ID, tokend.PermAll)

	_, err = f.core.ListTokens(ctx, reader, f.svc.ID, tokend.TokenQuery{})
	wantCode(t, err, "", "")
	_, err = f.core.CreateToken(ctx, reader, f.svc.ID, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantPassword, Subject: "x"})
	wantCode(t, err, tokend.EFORBIDDEN, "")
	_, err = f.core.ListTokens(ctx, otherAll, f.svc.ID, tokend.TokenQuery{})
	wantCode(t, err, tokend.ENOTFOUND, "") // cross-tenant looks like absence
	_, err = f.core.GetClient(ctx, otherAll, f.svc.ID, f.cl.ClientID)
	wantCode(t, err, tokend.ENOTFOUND, "")
	// A client of one service is not found through another.
	_, err = f.core.GetClient(ctx, f.org, other.ID, formatInt(f.cl.ID))
	wantCode(t, err, tokend.ENOTFOUND, "")

	t.Run("ErrServiceKeyCannotCreateServices", func(t *testing.T) {
		_, err := f.core.CreateService(ctx, otherAll, tokend.ServiceInput{Name: ptr("x")})
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
	t.Run("ErrKeyCannotGrantMoreThanItHolds", func(t *testing.T) {
		writer := key(f.svc.ID, tokend.PermKeysWrite)
		_, _, err := f.core.CreateKey(ctx, writer, f.svc.ID, tokend.KeyInput{Name: "x", Permissions: []tokend.Permission{tokend.PermTokensWrite}})
		wantCode(t, err, tokend.EFORBIDDEN, "")
		_, _, err = f.core.CreateKey(ctx, writer, f.svc.ID, tokend.KeyInput{Name: "x", Permissions: []tokend.Permission{tokend.PermAll}})
		wantCode(t, err, tokend.EFORBIDDEN, "")
		_, _, err = f.core.CreateKey(ctx, writer, f.svc.ID, tokend.KeyInput{Name: "x", Permissions: []tokend.Permission{tokend.PermKeysWrite}})
		wantCode(t, err, "", "")
	})
	t.Run("ErrExpiredKey", func(t *testing.T) {
		_, raw, err := f.core.CreateKey(ctx, f.org, 0, tokend.KeyInput{Name: "short", Permissions: []tokend.Permission{tokend.PermAll}, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		defer f.clock.Advance(-time.Minute)
		_, err = f.core.AuthenticateKey(ctx, raw)
		wantCode(t, err, tokend.EUNAUTHORIZED, "")
	})
	t.Run("ErrMistypedKeyNeverReachesStore", func(t *testing.T) {
		_, err := f.core.AuthenticateKey(ctx, tokend.NewSecret(tokend.KindManagementKey)[:40]+"0000000000000")
		wantCode(t, err, tokend.EUNAUTHORIZED, "")
	})
	t.Run("BootstrapOnlyOnEmptyStore", func(t *testing.T) {
		raw, err := f.core.Bootstrap(ctx, "")
		if err != nil || raw != "" {
			t.Fatalf("Bootstrap on a store with keys = %q, %v; want nothing", raw, err)
		}
	})
}

func TestClientRules(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		in    tokend.ClientInput
		field string
	}{
		{"ErrNoName", tokend.ClientInput{}, "name"},
		{"ErrBadType", tokend.ClientInput{Name: ptr("x"), Type: ptr(tokend.ClientType("SECRET"))}, "type"},
		{"ErrPublicClientCredentials", tokend.ClientInput{Name: ptr("x"), Type: ptr(tokend.ClientPublic), GrantTypes: &[]tokend.GrantType{tokend.GrantClientCredentials}}, "grant_types"},
		{"ErrGrantNotInService", tokend.ClientInput{Name: ptr("x"), GrantTypes: &[]tokend.GrantType{tokend.GrantDeviceCode}}, "grant_types"},
		{"ErrScopeNotInService", tokend.ClientInput{Name: ptr("x"), Scopes: &[]string{"nope"}}, "scopes"},
		{"ErrRedirectWithFragment", tokend.ClientInput{Name: ptr("x"), RedirectURIs: &[]string{"https://a.example/cb#x"}}, "redirect_uris"},
		{"ErrRedirectRelative", tokend.ClientInput{Name: ptr("x"), RedirectURIs: &[]string{"/cb"}}, "redirect_uris"},
		{"ErrNumericClientID", tokend.ClientInput{Name: ptr("x"), ClientID: ptr("12345")}, "client_id"},
		{"ErrURLNotHTTP", tokend.ClientInput{Name: ptr("x"), URL: ptr("ftp://a.example")}, "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tt.in)
			wantCode(t, err, tokend.EINVALID, tt.field)
		})
	}

	t.Run("PublicClientDefaultsAndNoSecret", func(t *testing.T) {
		cl, secret, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tokend.ClientInput{Name: ptr("spa"), Type: ptr(tokend.ClientPublic)})
		if err != nil {
			t.Fatal(err)
		}
		if secret != "" || !cl.SecretHash.IsZero() || cl.AllowsGrant(tokend.GrantClientCredentials) {
			t.Fatalf("public client: secret %q, grants %v", secret, cl.GrantTypes)
		}
		if !slices.Equal(cl.Scopes, f.svc.ScopesSupported) {
			t.Fatalf("default scopes %v, want the service's %v", cl.Scopes, f.svc.ScopesSupported)
		}
		_, _, err = f.core.RotateClientSecret(ctx, f.org, f.svc.ID, cl.ClientID)
		wantCode(t, err, tokend.EINVALID, "client")
	})
	t.Run("RotateSecret", func(t *testing.T) {
		cl, secret, err := f.core.RotateClientSecret(ctx, f.org, f.svc.ID, f.cl.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if !tokend.WellFormed(secret, tokend.KindClientSecret, false) || cl.SecretHash != tokend.HashSecret(secret) || cl.SecretHash == f.cl.SecretHash {
			t.Fatal("rotation did not store the new secret's hash")
		}
	})
	t.Run("DeleteRevokesTokens", func(t *testing.T) {
		cl, _, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tokend.ClientInput{Name: ptr("doomed")})
		if err != nil {
			t.Fatal(err)
		}
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{Client: cl.ClientID, GrantType: tokend.GrantPassword, Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.core.DeleteClient(ctx, f.org, f.svc.ID, cl.ClientID); err != nil {
			t.Fatal(err)
		}
		tok, err := f.core.GetToken(ctx, f.org, f.svc.ID, it.Token.ID)
		if err != nil || tok.RevokedReason != tokend.ClientReason || tok.Status(f.clock.Now()) != tokend.StatusRevoked {
			t.Fatalf("token of a deleted client: %+v, %v", tok, err)
		}
		// Its tokens stay listable by the numeric id.
		list, err := f.core.ListTokens(ctx, f.org, f.svc.ID, tokend.TokenQuery{Client: ptr(formatInt(cl.ID)), Status: tokend.StatusRevoked})
		if err != nil || list.TotalCount != 1 {
			t.Fatalf("list by deleted client's id: %v, %v", list, err)
		}
	})
}

func TestUpdateTokenRules(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	it := f.MustIssue(t, "john", "read")
	id := it.Token.ID

	_, err := f.core.UpdateToken(ctx, f.org, f.svc.ID, id, tokend.TokenUpdate{Scopes: &[]string{"admin"}})
	wantCode(t, err, tokend.EINVALID, "scopes") // the client may not hold admin

	at := f.clock.Now().Add(5 * time.Minute)
	up, err := f.core.UpdateToken(ctx, f.org, f.svc.ID, id, tokend.TokenUpdate{
		Scopes: &[]string{"read", "write"}, AccessExpiresAt: &at, NewAccessToken: true,
		Properties: &[]tokend.Property{{Key: "k", Value: "v", Hidden: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(up.Token.Scopes, []string{"read", "write"}) || !up.Token.AccessExpiresAt.Equal(at) || len(up.Token.Properties) != 1 {
		t.Fatalf("update not applied: %+v", up.Token)
	}
	if up.AccessToken == "" || up.Token.AccessHash != tokend.HashSecret(up.AccessToken) {
		t.Fatal("new access token value not issued")
	}
	if _, err := f.core.FindToken(ctx, f.org, f.svc.ID, tokend.TokenRef{Value: it.AccessToken}); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatalf("the replaced access token still resolves: %v", err)
	}
	if got, err := f.core.FindToken(ctx, f.org, f.svc.ID, tokend.TokenRef{Value: it.RefreshToken}); err != nil || got.ID != id {
		t.Fatalf("the refresh token no longer resolves: %v", err)
	}

	_, err = f.core.UpdateToken(ctx, f.org, f.svc.ID, id, tokend.TokenUpdate{Persistent: ptr(false)})
	wantCode(t, err, tokend.EINVALID, "access_token_expires_at")

	n, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: id})
	if err != nil || n != 1 {
		t.Fatalf("revoke = %d, %v", n, err)
	}
	_, err = f.core.UpdateToken(ctx, f.org, f.svc.ID, id, tokend.TokenUpdate{Scopes: &[]string{"read"}})
	wantCode(t, err, tokend.ECONFLICT, "")
}

func TestRevokeRequests(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	a1 := f.MustIssue(t, "alice", "read")
	f.MustIssue(t, "alice", "write")
	f.MustIssue(t, "bob", "read")

	_, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{})
	wantCode(t, err, tokend.EINVALID, "token")
	_, err = f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: a1.Token.ID, Client: f.cl.ClientID})
	wantCode(t, err, tokend.EINVALID, "client")
	_, err = f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{Token: tokend.TokenRef{Hash: "nope"}})
	wantCode(t, err, tokend.EINVALID, "hash")

	// By refresh token value: the whole record goes, access token included.
	n, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{Token: tokend.TokenRef{Value: a1.RefreshToken}})
	if err != nil || n != 1 {
		t.Fatalf("revoke by refresh token = %d, %v", n, err)
	}
	tok, _ := f.core.FindToken(ctx, f.org, f.svc.ID, tokend.TokenRef{Hash: tokend.HashSecret(a1.AccessToken).String()})
	if tok.Status(f.clock.Now()) != tokend.StatusRevoked {
		t.Fatal("revoking the refresh token left the access token live")
	}
	// Revoking again counts nothing.
	n, err = f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: a1.Token.ID})
	if err != nil || n != 0 {
		t.Fatalf("second revoke = %d, %v; want 0", n, err)
	}
	grants, err := f.core.SubjectGrants(ctx, f.org, f.svc.ID, "alice")
	if err != nil || len(grants) != 1 || grants[0].TokenCount != 1 || !slices.Equal(grants[0].Scopes, []string{"write"}) {
		t.Fatalf("alice's grants after one revocation: %+v, %v", grants, err)
	}
	n, err = f.core.RevokeSubjectGrant(ctx, f.org, f.svc.ID, "alice", f.cl.ClientID)
	if err != nil || n != 1 {
		t.Fatalf("RevokeSubjectGrant = %d, %v", n, err)
	}
	n, err = f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{Client: f.cl.ClientID})
	if err != nil || n != 1 {
		t.Fatalf("revoke by client = %d, %v; want bob's one token", n, err)
	}
}

func TestListTokensQuery(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	for i := range 5 {
		f.MustIssue(t, "carol", "read")
		f.clock.Advance(time.Duration(i+1) * time.Second)
	}
	var seen []int64
	q := tokend.TokenQuery{Subject: ptr("carol"), PageSize: 2}
	for {
		page, err := f.core.ListTokens(ctx, f.org, f.svc.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 5 {
			t.Fatalf("TotalCount = %d, want 5", page.TotalCount)
		}
		for _, tok := range page.Tokens {
			seen = append(seen, tok.ID)
		}
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	if len(seen) != 5 || !slices.IsSorted(seen) {
		t.Fatalf("paged ids %v: want 5 ascending", seen)
	}
	bad := []struct {
		name  string
		q     tokend.TokenQuery
		field string
	}{
		{"ErrPageSize", tokend.TokenQuery{PageSize: 1001}, "page_size"},
		{"ErrNegativeOffset", tokend.TokenQuery{Offset: -1}, "offset"},
		{"ErrOffsetWithToken", tokend.TokenQuery{Offset: 1, PageToken: "x"}, "offset"},
		{"ErrStatus", tokend.TokenQuery{Status: "live"}, "status"},
		{"ErrOrderBy", tokend.TokenQuery{OrderBy: "subject"}, "order_by"},
		{"ErrGrantType", tokend.TokenQuery{GrantType: ptr(tokend.GrantType("nope"))}, "grant_type"},
		{"ErrPageToken", tokend.TokenQuery{PageToken: "garbage"}, "page_token"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.core.ListTokens(ctx, f.org, f.svc.ID, tt.q)
			wantCode(t, err, tokend.EINVALID, tt.field)
		})
	}
}
