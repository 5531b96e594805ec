package tokend_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// sessionFixture adds a first-party client, a second client and a user
// with a password to the core fixture.
type sessionFixture struct {
	*fixture
	super       *tokend.Client
	superSecret string
	other       *tokend.Client
}

func MustSessionFixture(tb testing.TB) *sessionFixture {
	tb.Helper()
	f := MustFixture(tb)
	ctx := context.Background()
	super, secret, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tokend.ClientInput{Name: ptr("portal"), FirstParty: ptr(true), Scopes: &[]string{"read"}})
	if err != nil {
		tb.Fatal(err)
	}
	other, _, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tokend.ClientInput{Name: ptr("exporter"), Scopes: &[]string{"read", "write"}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.core.CreateUser(ctx, f.org, f.svc.ID, tokend.UserInput{Username: "alice", Password: ptr("correct horse")}); err != nil {
		tb.Fatal(err)
	}
	return &sessionFixture{fixture: f, super: super, superSecret: secret, other: other}
}

func (f *sessionFixture) superCred() tokend.ClientCredentials {
	return tokend.ClientCredentials{ClientID: f.super.ClientID, Secret: f.superSecret}
}

// mint issues a token for subject through client cl.
func (f *sessionFixture) mint(tb testing.TB, cl *tokend.Client, subject string, in tokend.TokenInput) *tokend.IssuedToken {
	tb.Helper()
	in.Client, in.Subject = cl.ClientID, subject
	if in.GrantType == "" {
		in.GrantType = tokend.GrantAuthorizationCode
	}
	if in.Scopes == nil {
		in.Scopes = []string{"read"}
	}
	it, err := f.core.CreateToken(context.Background(), f.org, f.svc.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

func (f *sessionFixture) mustSession(tb testing.TB) *tokend.UserSession {
	tb.Helper()
	s, err := f.core.OpenUserSession(context.Background(), f.superCred(), tokend.UserCredentials{Username: "alice", Password: "correct horse"})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestOpenUserSession(t *testing.T) {
	f := MustSessionFixture(t)
	ctx := context.Background()
	aliceToken := f.mint(t, f.super, "alice", tokend.TokenInput{})
	clientToken, err := f.core.Exchange(ctx, f.svc, f.cl, tokend.TokenRequest{GrantType: "client_credentials", Scope: "read"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other"), ScopesSupported: &[]string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	foreignCl, _, err := f.core.CreateClient(ctx, f.org, other.ID, tokend.ClientInput{Name: ptr("x")})
	if err != nil {
		t.Fatal(err)
	}
	foreignToken, err := f.core.CreateToken(ctx, f.org, other.ID, tokend.TokenInput{Client: foreignCl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	pub := tokend.ClientPublic
	publicSuper, _, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tokend.ClientInput{Name: ptr("spa"), Type: &pub, FirstParty: ptr(true),
		GrantTypes: &[]tokend.GrantType{tokend.GrantAuthorizationCode}})
	if err != nil {
		t.Fatal(err)
	}
	password := func(u, p string) tokend.UserCredentials { return tokend.UserCredentials{Username: u, Password: p} }
	tests := []struct {
		name      string
		client    tokend.ClientCredentials
		user      tokend.UserCredentials
		wantCode  string
		wantField string
	}{
		{"OKPassword", f.superCred(), password("alice", "correct horse"), "", ""},
		{"OKAccessToken", f.superCred(), tokend.UserCredentials{AccessToken: aliceToken.AccessToken}, "", ""},
		{"ErrClientSecret", tokend.ClientCredentials{ClientID: f.super.ClientID, Secret: f.secret}, password("alice", "correct horse"), tokend.EUNAUTHORIZED, "client"},
		{"ErrClientMissing", tokend.ClientCredentials{}, password("alice", "correct horse"), tokend.EUNAUTHORIZED, "client"},
		{"ErrNotFirstParty", tokend.ClientCredentials{ClientID: f.cl.ClientID, Secret: f.secret}, password("alice", "correct horse"), tokend.EFORBIDDEN, ""},
		{"ErrPublicFirstParty", tokend.ClientCredentials{ClientID: publicSuper.ClientID}, password("alice", "correct horse"), tokend.EFORBIDDEN, ""},
		{"ErrWrongPassword", f.superCred(), password("alice", "wrong horse"), tokend.EUNAUTHORIZED, "user"},
		{"ErrUnknownUser", f.superCred(), password("mallory", "correct horse"), tokend.EUNAUTHORIZED, "user"},
		{"ErrPasswordMissing", f.superCred(), password("alice", ""), tokend.EUNAUTHORIZED, "user"},
		{"ErrNoUserCredentials", f.superCred(), tokend.UserCredentials{}, tokend.EUNAUTHORIZED, "user"},
		{"ErrBoth", f.superCred(), tokend.UserCredentials{AccessToken: aliceToken.AccessToken, Username: "alice", Password: "correct horse"}, tokend.EINVALID, "user"},
		{"ErrClientCredentialsToken", f.superCred(), tokend.UserCredentials{AccessToken: clientToken.AccessToken}, tokend.EUNAUTHORIZED, "user"},
		{"ErrOtherServicesToken", f.superCred(), tokend.UserCredentials{AccessToken: foreignToken.AccessToken}, tokend.EUNAUTHORIZED, "user"},
		{"ErrRefreshTokenAsBearer", f.superCred(), tokend.UserCredentials{AccessToken: aliceToken.RefreshToken}, tokend.EUNAUTHORIZED, "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := f.core.OpenUserSession(ctx, tt.client, tt.user)
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode, tt.wantField)
				return
			}
			if err != nil || s.Subject() != "alice" || s.Client().ID != f.super.ID || s.Service().ID != f.svc.ID {
				t.Fatalf("OpenUserSession = %+v, %v", s, err)
			}
		})
	}
}

func TestListUserTokens(t *testing.T) {
	f := MustSessionFixture(t)
	ctx := context.Background()
	s := f.mustSession(t)
	a1 := f.mint(t, f.cl, "alice", tokend.TokenInput{AuthTime: f.clock.Now()})
	f.clock.Advance(time.Second)
	a2 := f.mint(t, f.other, "alice", tokend.TokenInput{Scopes: []string{"read", "write"}})
	f.clock.Advance(time.Second)
	f.mint(t, f.super, "alice", tokend.TokenInput{})                                        // the super client's own
	f.mint(t, f.cl, "bob", tokend.TokenInput{})                                             // another user's
	noRefresh := f.mint(t, f.cl, "alice", tokend.TokenInput{NoRefreshToken: true})          // access only
	shortAccess := f.mint(t, f.cl, "alice", tokend.TokenInput{AccessTokenTTL: time.Minute}) // refresh outlives access
	revoked := f.mint(t, f.cl, "alice", tokend.TokenInput{})
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)

	ids := func(ts []*tokend.UserToken) []int64 {
		var out []int64
		for _, t := range ts {
			out = append(out, t.Token.ID)
		}
		return out
	}
	t.Run("OKAccessTokens", func(t *testing.T) {
		got, err := f.core.ListUserTokens(ctx, s, false, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{noRefresh.Token.ID, a2.Token.ID, a1.Token.ID}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("access tokens = %v, want %v (newest first; no super client's, bob's, expired or revoked)", ids(got), want)
		}
		if got[2].Hash != a1.Token.AccessHash || got[2].Client.ID != f.cl.ID || !got[2].ExpiresAt.Equal(a1.Token.AccessExpiresAt) || !got[2].IssuedAt.Equal(a1.Token.CreatedAt) {
			t.Fatalf("entry = %+v", got[2])
		}
	})
	t.Run("OKRefreshTokens", func(t *testing.T) {
		got, err := f.core.ListUserTokens(ctx, s, true, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{shortAccess.Token.ID, a2.Token.ID, a1.Token.ID}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("refresh tokens = %v, want %v", ids(got), want)
		}
		if got[0].Hash != shortAccess.Token.RefreshHash || !got[0].ExpiresAt.Equal(shortAccess.Token.RefreshExpiresAt) {
			t.Fatalf("entry = %+v", got[0])
		}
	})
	t.Run("OKClientFilter", func(t *testing.T) {
		got, err := f.core.ListUserTokens(ctx, s, false, f.other.ClientID)
		if err != nil || !slices.Equal(ids(got), []int64{a2.Token.ID}) {
			t.Fatalf("filtered = %v, %v", ids(got), err)
		}
	})
	t.Run("OKOwnClientFilterIsEmpty", func(t *testing.T) {
		got, err := f.core.ListUserTokens(ctx, s, false, f.super.ClientID)
		if err != nil || len(got) != 0 {
			t.Fatalf("the super client's own = %v, %v", ids(got), err)
		}
	})
	t.Run("ErrUnknownClient", func(t *testing.T) {
		_, err := f.core.ListUserTokens(ctx, s, false, "nobody")
		wantCode(t, err, tokend.EINVALID, "client")
	})
}

func TestRevokeUserTokens(t *testing.T) {
	f := MustSessionFixture(t)
	ctx := context.Background()
	s := f.mustSession(t)
	byValue := f.mint(t, f.cl, "alice", tokend.TokenInput{})
	byHash := f.mint(t, f.cl, "alice", tokend.TokenInput{})
	byRefreshHash := f.mint(t, f.other, "alice", tokend.TokenInput{})
	bobs := f.mint(t, f.cl, "bob", tokend.TokenInput{})
	status := func(id int64) tokend.TokenStatus {
		tok, err := f.core.GetToken(ctx, f.org, f.svc.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Status(f.clock.Now())
	}
	for _, tt := range []struct {
		name string
		ref  string
		id   int64
	}{
		{"OKByValue", byValue.AccessToken, byValue.Token.ID},
		{"OKByAccessHash", byHash.Token.AccessHash.String(), byHash.Token.ID},
		{"OKByRefreshHash", byRefreshHash.Token.RefreshHash.String(), byRefreshHash.Token.ID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.core.RevokeUserToken(ctx, s, tt.ref); err != nil {
				t.Fatal(err)
			}
			if st := status(tt.id); st != tokend.StatusRevoked {
				t.Fatalf("status = %s", st)
			}
			if err := f.core.RevokeUserToken(ctx, s, tt.ref); err != nil {
				t.Fatalf("again: %v, want no error for an already revoked token", err)
			}
		})
	}
	for _, tt := range []struct{ name, ref string }{
		{"ErrAnotherUsersToken", bobs.AccessToken},
		{"ErrAnotherUsersHash", bobs.Token.AccessHash.String()},
		{"ErrUnknown", "no-such-token-value-anywhere"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, f.core.RevokeUserToken(ctx, s, tt.ref), tokend.EINVALID, "token")
			if st := status(bobs.Token.ID); st != tokend.StatusActive {
				t.Fatalf("bob's token is %s", st)
			}
		})
	}
	t.Run("ErrMissing", func(t *testing.T) {
		wantCode(t, f.core.RevokeUserToken(ctx, s, ""), tokend.EINVALID, "token")
	})

	t.Run("RevokeUserClient", func(t *testing.T) {
		keep := f.mint(t, f.other, "alice", tokend.TokenInput{})
		gone1 := f.mint(t, f.cl, "alice", tokend.TokenInput{})
		gone2 := f.mint(t, f.cl, "alice", tokend.TokenInput{})
		_, err := f.core.RevokeUserClient(ctx, s, "nobody")
		wantCode(t, err, tokend.EINVALID, "client")
		_, err = f.core.RevokeUserClient(ctx, s, "")
		wantCode(t, err, tokend.EINVALID, "client")
		n, err := f.core.RevokeUserClient(ctx, s, f.cl.ClientID)
		if err != nil || n != 2 {
			t.Fatalf("RevokeUserClient = %d, %v; want 2", n, err)
		}
		if status(gone1.Token.ID) != tokend.StatusRevoked || status(gone2.Token.ID) != tokend.StatusRevoked {
			t.Fatal("the client's tokens are still live")
		}
		if status(keep.Token.ID) != tokend.StatusActive || status(bobs.Token.ID) != tokend.StatusActive {
			t.Fatal("another client's or another user's token was revoked")
		}
	})
}

func TestUserClients(t *testing.T) {
	f := MustSessionFixture(t)
	ctx := context.Background()
	s := f.mustSession(t)
	f.mint(t, f.cl, "alice", tokend.TokenInput{})
	f.clock.Advance(time.Second)
	f.mint(t, f.other, "alice", tokend.TokenInput{})
	f.mint(t, f.super, "alice", tokend.TokenInput{})
	grants, err := f.core.UserClients(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, g := range grants {
		got = append(got, g.Client.ID)
	}
	if want := []int64{f.other.ID, f.cl.ID}; !slices.Equal(got, want) {
		t.Fatalf("clients = %v, want %v (newest first, without the super client)", got, want)
	}
}

func TestRevokeByClientValueOrHash(t *testing.T) {
	f := MustSessionFixture(t)
	ctx := context.Background()
	mine := f.mint(t, f.cl, "alice", tokend.TokenInput{})
	theirs := f.mint(t, f.other, "alice", tokend.TokenInput{})
	wantCode(t, f.core.RevokeByClientValueOrHash(ctx, f.svc, f.cl, theirs.Token.AccessHash.String(), ""), tokend.EFORBIDDEN, "")
	wantCode(t, f.core.RevokeByClientValueOrHash(ctx, f.svc, f.cl, "", ""), tokend.EINVALID, "token")
	if err := f.core.RevokeByClientValueOrHash(ctx, f.svc, f.cl, "unknown-value-of-nothing", ""); err != nil {
		t.Fatalf("unknown token: %v, want none (RFC 7009)", err)
	}
	if err := f.core.RevokeByClientValueOrHash(ctx, f.svc, f.cl, mine.Token.RefreshHash.String(), "refresh_token"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{mine.Token.ID, theirs.Token.ID} {
		tok, _ := f.core.GetToken(ctx, f.org, f.svc.ID, id)
		if revoked := !tok.RevokedAt.IsZero(); revoked != (id == mine.Token.ID) {
			t.Fatalf("token %d revoked = %v", id, revoked)
		}
	}
}
