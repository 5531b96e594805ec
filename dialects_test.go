package tokend_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
)

// The core rules the Passport and Kustvakt dialects stand on.

// mustKey makes a management key of service sid (0: the organization)
// and returns its raw value.
func (f *fixture) mustKey(tb testing.TB, sid int64, perms ...tokend.Permission) string {
	tb.Helper()
	k, raw, err := f.core.CreateKey(context.Background(), f.org, sid, tokend.KeyInput{Name: "k", Permissions: perms})
	if err != nil || k == nil {
		tb.Fatalf("CreateKey: %v", err)
	}
	return raw
}

// mustClientCredentialsToken gets a token from the token endpoint's rules.
func (f *fixture) mustClientCredentialsToken(tb testing.TB, scope string) *tokend.IssuedToken {
	tb.Helper()
	it, err := f.core.Exchange(context.Background(), f.svc, f.cl, tokend.TokenRequest{GrantType: "client_credentials", Scope: scope})
	if err != nil {
		tb.Fatalf("Exchange: %v", err)
	}
	return it
}

func TestAuthenticateBearer(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	live := f.MustIssue(t, "alice", "read")
	revoked := f.MustIssue(t, "alice", "read")
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	bound, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode,
		Subject: "alice", Scopes: []string{"read"}, DPoPThumbprint: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
	if err != nil {
		t.Fatal(err)
	}
	short, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode,
		Subject: "alice", Scopes: []string{"read"}, AccessTokenTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute) // short has expired, live has not
	tests := []struct {
		name, raw, scope string
		sid              int64
		wantField        string // "" with wantErr false: success
		wantErr          bool
	}{
		{"OK", live.AccessToken, "read", f.svc.ID, "", false},
		{"OKAnyService", live.AccessToken, "read", 0, "", false},
		{"OKNoScopeAsked", live.AccessToken, "", 0, "", false},
		{"ErrMissing", "", "", 0, "", true},
		{"ErrMistyped", testutil.Mistype(live.AccessToken), "", 0, "", true},
		{"ErrUnknownForeignValue", "some-foreign-token-value-123", "", 0, "", true},
		{"ErrRefreshTokenValue", live.RefreshToken, "", 0, "", true},
		{"ErrClientSecret", f.secret, "", 0, "", true},
		{"ErrRevoked", revoked.AccessToken, "", 0, "", true},
		{"ErrExpired", short.AccessToken, "", 0, "", true},
		{"ErrOtherService", live.AccessToken, "", other.ID, "", true},
		{"ErrBoundToKey", bound.AccessToken, "", 0, "", true},
		{"ErrScopeMissing", live.AccessToken, "write", 0, "scope", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, tok, err := f.core.AuthenticateBearer(ctx, tt.sid, tt.raw, tt.scope)
			if !tt.wantErr {
				if err != nil || svc.ID != f.svc.ID || tok.ID != live.Token.ID {
					t.Fatalf("AuthenticateBearer = %v, %v, %v", svc, tok, err)
				}
				return
			}
			wantCode(t, err, tokend.EUNAUTHORIZED, tt.wantField)
		})
	}
}

func TestAuthenticateScoped(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	tok := f.MustIssue(t, "alice", "read")
	serviceReader := f.mustKey(t, f.svc.ID, tokend.PermTokensRead)
	serviceWriter := f.mustKey(t, f.svc.ID, tokend.PermTokensWrite)
	orgReader := f.mustKey(t, 0, tokend.PermTokensRead)
	tests := []struct {
		name, raw, scope string
		wantCode         string
	}{
		{"OKAccessToken", tok.AccessToken, "read", ""},
		{"OKServiceKey", serviceReader, "read", ""},
		{"ErrAccessTokenWithoutScope", tok.AccessToken, "write", tokend.EUNAUTHORIZED},
		{"ErrKeyWithoutPermission", serviceWriter, "read", tokend.EFORBIDDEN},
		{"ErrOrganizationKey", orgReader, "read", tokend.EFORBIDDEN},
		{"ErrUnknownKey", tokend.NewSecret(tokend.KindManagementKey), "read", tokend.EUNAUTHORIZED},
		{"ErrUnknownForeign", "neither-a-token-nor-a-key", "read", tokend.EUNAUTHORIZED},
		{"ErrMissing", "", "read", tokend.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, sid, err := f.core.AuthenticateScoped(ctx, tt.raw, tt.scope, tokend.PermTokensRead)
			if tt.wantCode != "" {
				if tokend.ErrorCode(err) != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil || sid != f.svc.ID || !p.Can(tokend.PermTokensRead) {
				t.Fatalf("AuthenticateScoped = %+v, %d, %v", p, sid, err)
			}
			if p.Can(tokend.PermTokensWrite) && tt.raw == tok.AccessToken {
				t.Fatal("an access token got more than the permission asked for")
			}
		})
	}
}

func TestAuthenticateClientAnywhere(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other"), ScopesSupported: &[]string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	// The same client_id in two services; the secret tells them apart.
	twinA, secretA, err := f.core.CreateClient(ctx, f.org, f.svc.ID, tokend.ClientInput{ClientID: ptr("twin"), Name: ptr("a")})
	if err != nil {
		t.Fatal(err)
	}
	twinB, secretB, err := f.core.CreateClient(ctx, f.org, other.ID, tokend.ClientInput{ClientID: ptr("twin"), Name: ptr("b")})
	if err != nil {
		t.Fatal(err)
	}
	pubType := tokend.ClientPublic
	for _, sid := range []int64{f.svc.ID, other.ID} {
		if _, _, err := f.core.CreateClient(ctx, f.org, sid, tokend.ClientInput{ClientID: ptr("spa"), Name: ptr("spa"), Type: &pubType,
			GrantTypes: &[]tokend.GrantType{tokend.GrantAuthorizationCode}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		cred     tokend.ClientCredentials
		wantSvc  int64
		wantID   int64
		wantFail bool
	}{
		{"OK", tokend.ClientCredentials{ClientID: f.cl.ClientID, Secret: f.secret}, f.svc.ID, f.cl.ID, false},
		{"OKTwinInFirstService", tokend.ClientCredentials{ClientID: "twin", Secret: secretA}, f.svc.ID, twinA.ID, false},
		{"OKTwinInSecondService", tokend.ClientCredentials{ClientID: "twin", Secret: secretB}, other.ID, twinB.ID, false},
		{"ErrWrongSecret", tokend.ClientCredentials{ClientID: f.cl.ClientID, Secret: secretA}, 0, 0, true},
		{"ErrNoSecret", tokend.ClientCredentials{ClientID: f.cl.ClientID}, 0, 0, true},
		{"ErrMistypedSecret", tokend.ClientCredentials{ClientID: f.cl.ClientID, Secret: "tks_nope"}, 0, 0, true},
		{"ErrUnknownClient", tokend.ClientCredentials{ClientID: "nobody", Secret: f.secret}, 0, 0, true},
		{"ErrMissingClient", tokend.ClientCredentials{}, 0, 0, true},
		{"ErrPublicTwinsCannotBeToldApart", tokend.ClientCredentials{ClientID: "spa"}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, cl, err := f.core.AuthenticateClientAnywhere(ctx, tt.cred)
			if tt.wantFail {
				wantCode(t, err, tokend.EUNAUTHORIZED, "")
				return
			}
			if err != nil || svc.ID != tt.wantSvc || cl.ID != tt.wantID {
				t.Fatalf("AuthenticateClientAnywhere = %v, %v, %v", svc, cl, err)
			}
		})
	}
}

func TestListTokensSnapshot(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	var ids []int64
	for range 5 {
		ids = append(ids, f.MustIssue(t, "alice", "read").Token.ID)
		f.clock.Advance(time.Second)
	}
	first, err := f.core.ListTokensSnapshot(ctx, f.org, f.svc.ID, tokend.SnapshotQuery{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != 5 || first.TotalPages != 3 || first.PageNumber != 1 || len(first.Tokens) != 2 || first.Tokens[0].ID != ids[4] {
		t.Fatalf("first page = %+v", first)
	}
	if want := f.clock.Now().Add(-tokend.SnapshotSettle); !first.Snapshot.Equal(want) {
		t.Fatalf("snapshot = %v, want %v (a second before now)", first.Snapshot, want)
	}
	// Issued after the snapshot: not listed.
	f.MustIssue(t, "alice", "read")
	f.clock.Advance(time.Second)
	f.MustIssue(t, "alice", "read")
	revoked := ids[0]
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked}); err != nil {
		t.Fatal(err)
	}
	snap := first.Snapshot
	last, err := f.core.ListTokensSnapshot(ctx, f.org, f.svc.ID, tokend.SnapshotQuery{PageSize: 2, PageNumber: 3, Snapshot: &snap})
	if err != nil {
		t.Fatal(err)
	}
	if last.Total != 5 || len(last.Tokens) != 1 || last.Tokens[0].ID != revoked || last.Tokens[0].RevokedAt.IsZero() {
		t.Fatalf("last page = %+v (the revoked token keeps its place, with its status)", last)
	}
	// The boundary: a token created at the snapshot's instant is in, one
	// created a millisecond after it is not.
	fifth, err := f.core.GetToken(ctx, f.org, f.svc.ID, ids[4])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{fifth.CreatedAt, 5}, {fifth.CreatedAt.Add(time.Millisecond - 1), 5}, {fifth.CreatedAt.Add(-time.Millisecond), 4}} {
		page, err := f.core.ListTokensSnapshot(ctx, f.org, f.svc.ID, tokend.SnapshotQuery{Snapshot: &c.at})
		if err != nil || page.Total != c.want {
			t.Fatalf("snapshot %v (fifth token created %v): total %d, %v; want %d", c.at, fifth.CreatedAt, page.Total, err, c.want)
		}
	}

	for _, tt := range []struct {
		name  string
		q     tokend.SnapshotQuery
		field string
	}{
		{"ErrPageSizeTooBig", tokend.SnapshotQuery{PageSize: tokend.MaxSnapshotPageSize + 1}, "page_size"},
		{"ErrPageSizeNegative", tokend.SnapshotQuery{PageSize: -1}, "page_size"},
		{"ErrPageNumberTooBig", tokend.SnapshotQuery{PageNumber: tokend.MaxSnapshotPageNumber + 1}, "page_number"},
		{"ErrPageNumberNegative", tokend.SnapshotQuery{PageNumber: -1}, "page_number"},
		{"ErrOrderKey", tokend.SnapshotQuery{OrderBy: "updated_at"}, "order_by"},
		{"ErrSubject", tokend.SnapshotQuery{Subject: ptr("")}, "subject"},
		{"ErrGrantType", tokend.SnapshotQuery{GrantType: ptr(tokend.GrantType("LOGIN"))}, "grant_type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.core.ListTokensSnapshot(ctx, f.org, f.svc.ID, tt.q)
			wantCode(t, err, tokend.EINVALID, tt.field)
		})
	}
	t.Run("ErrNeedsTokensRead", func(t *testing.T) {
		p := &tokend.Principal{ServiceID: f.svc.ID, Permissions: []tokend.Permission{tokend.PermTokensWrite}}
		_, err := f.core.ListTokensSnapshot(ctx, p, f.svc.ID, tokend.SnapshotQuery{})
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
	t.Run("OKBeyondTheLastPageIsEmpty", func(t *testing.T) {
		page, err := f.core.ListTokensSnapshot(ctx, f.org, f.svc.ID, tokend.SnapshotQuery{PageSize: 2, PageNumber: 4, Snapshot: &snap})
		if err != nil || len(page.Tokens) != 0 || page.Total != 5 || page.PageNumber != 4 {
			t.Fatalf("page 4 = %+v, %v", page, err)
		}
	})
	t.Run("OKYearOneIsASnapshotNotNow", func(t *testing.T) {
		at := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		page, err := f.core.ListTokensSnapshot(ctx, f.org, f.svc.ID, tokend.SnapshotQuery{Snapshot: &at})
		if err != nil || page.Total != 0 || !page.Snapshot.Equal(at) {
			t.Fatalf("page = %+v, %v", page, err)
		}
	})
}

func TestRevokeToken(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	tok := f.MustIssue(t, "alice", "read")
	got, err := f.core.RevokeToken(ctx, f.org, f.svc.ID, tok.Token.ID, "")
	if err != nil || got.RevokedAt.IsZero() || got.RevokedReason != "revoked" {
		t.Fatalf("RevokeToken = %+v, %v", got, err)
	}
	_, err = f.core.RevokeToken(ctx, f.org, f.svc.ID, tok.Token.ID, "")
	wantCode(t, err, tokend.ECONFLICT, "")
	_, err = f.core.RevokeToken(ctx, f.org, f.svc.ID, tok.Token.ID+100, "")
	wantCode(t, err, tokend.ENOTFOUND, "")
	reader := &tokend.Principal{ServiceID: f.svc.ID, Permissions: []tokend.Permission{tokend.PermTokensRead}}
	live := f.MustIssue(t, "alice", "read")
	_, err = f.core.RevokeToken(ctx, reader, f.svc.ID, live.Token.ID, "")
	wantCode(t, err, tokend.EFORBIDDEN, "")
	if after, _ := f.core.GetToken(ctx, f.org, f.svc.ID, live.Token.ID); !after.RevokedAt.IsZero() {
		t.Fatal("a refused revocation revoked the token")
	}
}

func TestServiceTimeZone(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	if f.svc.TimeZone != "" || f.svc.Location() != time.UTC || f.svc.LocationName() != "UTC" {
		t.Fatalf("default zone = %q, %v", f.svc.TimeZone, f.svc.Location())
	}
	svc, err := f.core.UpdateService(ctx, f.org, f.svc.ID, tokend.ServiceInput{TimeZone: ptr("Europe/Berlin")})
	if err != nil || svc.LocationName() != "Europe/Berlin" {
		t.Fatalf("UpdateService = %+v, %v", svc, err)
	}
	for _, bad := range []string{"Local", "Mars/Olympus", "../etc/passwd", "Europe/Berlin " + string(make([]byte, 80))} {
		_, err := f.core.UpdateService(ctx, f.org, f.svc.ID, tokend.ServiceInput{TimeZone: ptr(bad)})
		wantCode(t, err, tokend.EINVALID, "time_zone")
	}
	stored, _ := f.core.GetService(ctx, f.org, f.svc.ID)
	if stored.TimeZone != "Europe/Berlin" {
		t.Fatalf("a refused update changed the zone to %q", stored.TimeZone)
	}
	svc, err = f.core.UpdateService(ctx, f.org, f.svc.ID, tokend.ServiceInput{TimeZone: ptr("")})
	if err != nil || svc.TimeZone != "" || svc.Location() != time.UTC {
		t.Fatalf("reset to UTC: %+v, %v", svc, err)
	}
}
