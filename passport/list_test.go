package passport

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func id(it *tokend.IssuedToken) string { return strconv.FormatInt(it.Token.ID, 10) }

func TestListBadParameters(t *testing.T) {
	e := MustEnv(t)
	tok := e.MustToken(t, ScopeList)
	before := e.state(t)
	tests := []struct {
		name, query, field string
	}{
		{"ErrPageSizeZero", "page_params.page_size=0", paramPageSize},
		{"ErrPageSizeOverBound", "page_params.page_size=101", paramPageSize},
		{"ErrPageSizeNotANumber", "page_params.page_size=ten", paramPageSize},
		{"ErrPageSizeNegative", "page_params.page_size=-5", paramPageSize},
		{"ErrPageNumberZero", "page_params.page_number=0", paramPageNumber},
		{"ErrPageNumberOverBound", "page_params.page_number=10001", paramPageNumber},
		{"ErrPageNumberNotANumber", "page_params.page_number=1.5", paramPageNumber},
		{"ErrSecondsBeforeYearOne", "page_params.first_request_timestamp.seconds=-62135596801", paramSeconds},
		{"ErrSecondsAfterYear9999", "page_params.first_request_timestamp.seconds=253402300800", paramSeconds},
		{"ErrSecondsNotANumber", "page_params.first_request_timestamp.seconds=now", paramSeconds},
		{"ErrNanosNegative", "page_params.first_request_timestamp.seconds=1&page_params.first_request_timestamp.nanos=-1", paramNanos},
		{"ErrNanosOverASecond", "page_params.first_request_timestamp.seconds=1&page_params.first_request_timestamp.nanos=1000000000", paramNanos},
		{"ErrNanosNotANumber", "page_params.first_request_timestamp.seconds=1&page_params.first_request_timestamp.nanos=x", paramNanos},
		{"ErrNanosWithoutSeconds", "page_params.first_request_timestamp.nanos=5", paramSeconds},
		{"ErrOrderKey", "order_params.order_key=token_id", paramOrderKey},
		{"ErrOrderKeyCoreName", "order_params.order_key=last_refreshed_at", paramOrderKey},
		{"ErrOrderDirection", "order_params.order_direction=asc", paramOrderDir},
		{"ErrGrantFlow", "grant_flow=GRANT_FLOW_IMPLICIT", paramGrantFlow},
		{"ErrGrantFlowUnspecified", "grant_flow=GRANT_FLOW_ENUM_UNSPECIFIED", paramGrantFlow},
		{"ErrUserIDEmpty", "user_id=", paramUserID},
		{"ErrUserIDTooLong", "user_id=" + strings.Repeat("u", 101), paramUserID},
		{"ErrAccountIDWithSpace", "account_id=a+b", paramAccountID},
		{"ErrRoleTooLong", "role=" + strings.Repeat("r", 101), paramRole},
		{"ErrUnknownParameter", "page_size=10", "page_size"},
		{"ErrRepeated", "role=a&role=b", paramRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, "GET", "/v1/iam/oauth/tokens?"+tt.query, tok, "")
			r.wantError(t, http.StatusBadRequest, codeInvalidArgument, tt.field)
			if !strings.Contains(string(r.body), `"field":"`+tt.field+`"`) {
				t.Fatalf("no field violation naming %s: %s", tt.field, r)
			}
		})
	}
	e.wantUnchanged(t, before)
}

func TestListCredentials(t *testing.T) {
	e := MustEnv(t)
	ctx := t.Context()
	listing := e.MustToken(t, ScopeList)
	getOnly := e.MustToken(t, ScopeGet)
	revoked := e.MustToken(t, ScopeList)
	if _, err := e.core.RevokeTokens(ctx, e.org, e.svc.ID, tokend.RevokeRequest{Token: tokend.TokenRef{Value: revoked}}); err != nil {
		t.Fatal(err)
	}
	short := e.Mint(t, tokend.TokenInput{Client: e.auditor.ClientID, GrantType: tokend.GrantClientCredentials, Scopes: []string{ScopeList}, AccessTokenTTL: time.Minute})
	user := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "alice"})
	other, err := e.core.CreateService(ctx, e.org, tokend.ServiceInput{Name: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)

	tests := []struct {
		name, cred string
		raw        string // the whole Authorization header, when set
		status     int
		code       grpcCode
		challenge  string // part of WWW-Authenticate
	}{
		{"OKAccessTokenWithScope", listing, "", 200, 0, ""},
		{"OKServiceKeyWithTokensRead", e.MustKey(t, e.svc.ID, tokend.PermTokensRead), "", 200, 0, ""},
		{"ErrNoCredentials", "", "", 401, codeUnauthenticated, `Bearer realm="tokend"`},
		{"ErrBasicScheme", "", "Basic YTpi", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrUnknownToken", "tka_unknown", "", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrWithoutScope", getOnly, "", 401, codeUnauthenticated, `error="insufficient_scope", scope="iam.oauth.tokens.list.get"`},
		{"ErrRevoked", revoked, "", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrExpired", short.AccessToken, "", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrRefreshTokenValue", user.RefreshToken, "", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrClientSecret", e.secret, "", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrUnknownKey", tokend.NewSecret(tokend.KindManagementKey), "", 401, codeUnauthenticated, `error="invalid_token"`},
		{"ErrKeyWithoutTokensRead", e.MustKey(t, e.svc.ID, tokend.PermTokensWrite), "", 403, codePermissionDenied, ""},
		{"ErrOrganizationKey", e.MustKey(t, 0, tokend.PermTokensRead), "", 403, codePermissionDenied, ""},
		{"ErrKeyOfAnotherServiceWithoutTokensRead", e.MustKey(t, other.ID, tokend.PermClientsRead), "", 403, codePermissionDenied, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/v1/iam/oauth/tokens", nil)
			switch {
			case tt.raw != "":
				req.Header.Set("Authorization", tt.raw)
			case tt.cred != "":
				req.Header.Set("Authorization", "Bearer "+tt.cred)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.challenge != "" && !strings.Contains(res.Header.Get("WWW-Authenticate"), tt.challenge) {
				t.Fatalf("WWW-Authenticate %q, want it to hold %q", res.Header.Get("WWW-Authenticate"), tt.challenge)
			}
		})
	}
	t.Run("ErrTwoAuthorizationHeaders", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.url+"/v1/iam/oauth/tokens", nil)
		req.Header.Add("Authorization", "Bearer "+listing)
		req.Header.Add("Authorization", "Bearer "+listing)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("status %d, want 400", res.StatusCode)
		}
	})
	t.Run("OtherServicesTokensAreNotListed", func(t *testing.T) {
		cl, _, err := e.core.CreateClient(ctx, e.org, other.ID, tokend.ClientInput{Name: ptr("x")})
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := e.core.CreateToken(ctx, e.org, other.ID, tokend.TokenInput{Client: cl.ClientID, GrantType: tokend.GrantClientCredentials})
		if err != nil {
			t.Fatal(err)
		}
		l := e.MustList(t, listing, "page_params.page_size=100")
		if slices.Contains(ids(l), id(foreign)) {
			t.Fatal("another service's token is listed")
		}
	})
}

// filterFixture mints one token of each kind the filters tell apart.
type filterFixture struct {
	e                                         *env
	cred                                      string
	clientCred, password, login, setup, other *tokend.IssuedToken
	aliceAdmin                                *tokend.IssuedToken
}

func mustFilterFixture(t *testing.T) *filterFixture {
	e := MustEnv(t)
	f := &filterFixture{e: e, cred: e.MustKey(t, e.svc.ID, tokend.PermTokensRead)}
	f.clientCred = e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantClientCredentials, AccountID: "acct-1", Roles: []string{"service"}})
	f.password = e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "alice", AccountID: "acct-1", Roles: []string{"viewer"}})
	f.login = e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "bob", AccountID: "acct-2", Roles: []string{"viewer", "admin"}})
	f.setup = e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPreAuthorizedCode, Subject: "carol", AccountID: "acct-2"})
	f.other = e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantDeviceCode, Subject: "alice"})
	f.aliceAdmin = e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "alice", Roles: []string{"admin"}})
	e.clock.Advance(tokend.SnapshotSettle) // a new list's snapshot is a second back
	return f
}

func TestListFilters(t *testing.T) {
	f := mustFilterFixture(t)
	tests := []struct {
		name, query string
		want        []*tokend.IssuedToken // newest first
	}{
		{"AccountID", "account_id=acct-1", []*tokend.IssuedToken{f.password, f.clientCred}},
		{"AccountIDUnknown", "account_id=acct-9", nil},
		{"UserID", "user_id=alice", []*tokend.IssuedToken{f.aliceAdmin, f.other, f.password}},
		{"GrantFlowClientCredentials", "grant_flow=GRANT_FLOW_CLIENT_CREDENTIALS", []*tokend.IssuedToken{f.clientCred}},
		{"GrantFlowPassword", "grant_flow=GRANT_FLOW_PASSWORD", []*tokend.IssuedToken{f.password}},
		{"GrantFlowLogin", "grant_flow=GRANT_FLOW_LOGIN", []*tokend.IssuedToken{f.aliceAdmin, f.login}},
		{"GrantFlowEntitySetup", "grant_flow=GRANT_FLOW_ENTITY_SETUP", []*tokend.IssuedToken{f.setup}},
		{"Role", "role=admin", []*tokend.IssuedToken{f.aliceAdmin, f.login}},
		{"AllTogether", "account_id=acct-2&user_id=bob&grant_flow=GRANT_FLOW_LOGIN&role=viewer", []*tokend.IssuedToken{f.login}},
		{"NoMatch", "user_id=alice&role=service", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := f.e.MustList(t, f.cred, tt.query)
			want := []string{}
			for _, it := range tt.want {
				want = append(want, id(it))
			}
			if got := ids(l); !slices.Equal(got, want) {
				t.Fatalf("?%s listed %v, want %v", tt.query, got, want)
			}
			if l.Pagination.TotalElements != len(want) {
				t.Fatalf("total_elements = %d, want %d", l.Pagination.TotalElements, len(want))
			}
		})
	}
}

func TestListRendersTokens(t *testing.T) {
	f := mustFilterFixture(t)
	e := f.e
	if _, err := e.core.RevokeTokens(t.Context(), e.org, e.svc.ID, tokend.RevokeRequest{TokenID: f.setup.Token.ID}); err != nil {
		t.Fatal(err)
	}
	r := e.Do(t, "GET", "/v1/iam/oauth/tokens?page_params.page_size=100", f.cred, "")
	for _, it := range []*tokend.IssuedToken{f.clientCred, f.password, f.login} {
		for _, secret := range []string{it.AccessToken, it.RefreshToken, it.Token.AccessHash.String()} {
			if secret != "" && strings.Contains(string(r.body), secret) {
				t.Fatal("the list shows a token's value or hash")
			}
		}
	}
	var l listResponse
	r.decode(t, &l)
	byID := map[string]tokenJSON{}
	for _, tok := range l.Tokens {
		byID[tok.TokenID] = tok
	}
	login := byID[id(f.login)]
	if login.GrantFlow != "GRANT_FLOW_LOGIN" || login.GrantType != "AUTHORIZATION_CODE" || login.UserID != "bob" ||
		login.AccountID != "acct-2" || !slices.Equal(login.Roles, []string{"viewer", "admin"}) || !slices.Equal(login.Scopes, []string{"read"}) ||
		login.ClientID != e.app.ClientID || login.Status != "TOKEN_STATUS_ACTIVE" || !login.CreatedAt.Equal(f.login.Token.CreatedAt) ||
		login.ExpiresAt == nil || !login.ExpiresAt.Equal(f.login.Token.ExpiresAt()) || login.UpdatedAt != nil || login.RevokedAt != nil {
		t.Fatalf("login token = %+v", login)
	}
	if cc := byID[id(f.clientCred)]; cc.GrantFlow != "GRANT_FLOW_CLIENT_CREDENTIALS" || cc.UserID != "" || cc.Roles == nil {
		t.Fatalf("client credentials token = %+v", cc)
	}
	if setup := byID[id(f.setup)]; setup.GrantFlow != "GRANT_FLOW_ENTITY_SETUP" || setup.Status != "TOKEN_STATUS_REVOKED" || setup.RevokedAt == nil {
		t.Fatalf("revoked setup token = %+v", setup)
	}
	if other := byID[id(f.other)]; other.GrantFlow != "GRANT_FLOW_ENUM_UNSPECIFIED" || other.GrantType != "DEVICE_CODE" {
		t.Fatalf("device code token = %+v", other)
	}
	e.clock.Advance(365 * 24 * time.Hour)
	l = e.MustList(t, f.cred, "user_id=bob")
	if l.Tokens[0].Status != "TOKEN_STATUS_EXPIRED" {
		t.Fatalf("a year later: %+v", l.Tokens[0])
	}
}

func TestListOrder(t *testing.T) {
	e := MustEnv(t)
	cred := e.MustKey(t, e.svc.ID, tokend.PermTokensRead)
	// Created a, b, c in that order; expiring c, a, b; refreshed b then a, c never.
	a := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "u", AccessTokenTTL: time.Hour, RefreshTokenTTL: 2 * time.Hour})
	e.clock.Advance(time.Second)
	b := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "u", AccessTokenTTL: time.Hour, RefreshTokenTTL: 3 * time.Hour})
	e.clock.Advance(time.Second)
	c := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "u", AccessTokenTTL: time.Hour, RefreshTokenTTL: time.Hour})
	for _, it := range []*tokend.IssuedToken{b, a} {
		e.clock.Advance(time.Second)
		req := tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: it.RefreshToken}
		if _, err := e.core.Exchange(t.Context(), e.svc, e.app, req); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(tokend.SnapshotSettle)
	// The refreshes rotated the refresh tokens with fresh lifetimes of 30
	// days (the service's), so expiry now follows the refresh order: b, a;
	// c kept its own.
	tests := []struct {
		query string
		want  []*tokend.IssuedToken
	}{
		{"", []*tokend.IssuedToken{c, b, a}},
		{"order_params.order_direction=ORDER_DIRECTION_ENUM_UNSPECIFIED", []*tokend.IssuedToken{c, b, a}},
		{"order_params.order_key=created_at", []*tokend.IssuedToken{c, b, a}},
		{"order_params.order_key=created_at&order_params.order_direction=DESC", []*tokend.IssuedToken{c, b, a}},
		{"order_params.order_key=created_at&order_params.order_direction=ASC", []*tokend.IssuedToken{a, b, c}},
		{"order_params.order_direction=ASC", []*tokend.IssuedToken{a, b, c}},
		{"order_params.order_key=expires_at&order_params.order_direction=ASC", []*tokend.IssuedToken{c, b, a}},
		{"order_params.order_key=expires_at&order_params.order_direction=DESC", []*tokend.IssuedToken{a, b, c}},
		{"order_params.order_key=expires_at", []*tokend.IssuedToken{a, b, c}},
		{"order_params.order_key=updated_at&order_params.order_direction=ASC", []*tokend.IssuedToken{c, b, a}},
		{"order_params.order_key=updated_at&order_params.order_direction=DESC", []*tokend.IssuedToken{a, b, c}},
	}
	for _, tt := range tests {
		t.Run("Order"+strings.NewReplacer("order_params.", "", "&", "+", "=", "_").Replace(tt.query), func(t *testing.T) {
			l := e.MustList(t, cred, "user_id=u&"+tt.query)
			var want []string
			for _, it := range tt.want {
				want = append(want, id(it))
			}
			if got := ids(l); !slices.Equal(got, want) {
				t.Fatalf("?%s listed %v, want %v (a=%s b=%s c=%s)", tt.query, got, want, id(a), id(b), id(c))
			}
		})
	}
	l := e.MustList(t, cred, "user_id=u&order_params.order_key=updated_at&order_params.order_direction=DESC")
	if l.Tokens[0].UpdatedAt == nil || !l.Tokens[0].UpdatedAt.After(l.Tokens[1].CreatedAt) || l.Tokens[2].UpdatedAt != nil {
		t.Fatalf("updated_at = %v, %v, %v", l.Tokens[0].UpdatedAt, l.Tokens[1].UpdatedAt, l.Tokens[2].UpdatedAt)
	}
}

func TestListPages(t *testing.T) {
	e := MustEnv(t)
	cred := e.MustKey(t, e.svc.ID, tokend.PermTokensRead)
	var all []string // newest first
	for range 5 {
		all = append([]string{id(e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantAuthorizationCode, Subject: "u"}))}, all...)
		e.clock.Advance(time.Millisecond)
	}
	e.clock.Advance(tokend.SnapshotSettle)
	tests := []struct {
		name, query         string
		want                []string
		totalPages, current int
		size                int
	}{
		{"DefaultSizeIs10", "", all, 1, 1, 10},
		{"First", "page_params.page_size=2", all[0:2], 3, 1, 2},
		{"FirstByNumber", "page_params.page_size=2&page_params.page_number=1", all[0:2], 3, 1, 2},
		{"Middle", "page_params.page_size=2&page_params.page_number=2", all[2:4], 3, 2, 2},
		{"LastPartial", "page_params.page_size=2&page_params.page_number=3", all[4:5], 3, 3, 2},
		{"PastTheEndIsEmpty", "page_params.page_size=2&page_params.page_number=4", []string{}, 3, 4, 2},
		{"ExactFit", "page_params.page_size=5", all, 1, 1, 5},
		{"ExactFitNextIsEmpty", "page_params.page_size=5&page_params.page_number=2", []string{}, 1, 2, 5},
		{"SizeOne", "page_params.page_size=1&page_params.page_number=5", all[4:5], 5, 5, 1},
		{"MaxSize", "page_params.page_size=100", all, 1, 1, 100},
		{"MaxPageNumber", "page_params.page_number=10000", []string{}, 1, 10000, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := e.MustList(t, cred, "user_id=u&"+tt.query)
			p := l.Pagination
			if got := ids(l); !slices.Equal(got, tt.want) || p.TotalElements != 5 || p.TotalPages != tt.totalPages || p.CurrentPage != tt.current || p.PageSize != tt.size {
				t.Fatalf("?%s: %v %+v; want %v, 5 elements, %d pages, page %d of size %d", tt.query, got, p, tt.want, tt.totalPages, tt.current, tt.size)
			}
		})
	}
	t.Run("EmptyListHasNoPages", func(t *testing.T) {
		l := e.MustList(t, cred, "user_id=nobody")
		if len(l.Tokens) != 0 || l.Pagination.TotalElements != 0 || l.Pagination.TotalPages != 0 || l.Pagination.CurrentPage != 1 {
			t.Fatalf("empty list: %+v", l.Pagination)
		}
	})
}

func TestListSnapshot(t *testing.T) {
	e := MustEnv(t)
	cred := e.MustToken(t, ScopeList)
	e.clock.Advance(500*time.Millisecond + 123*time.Microsecond) // the snapshot's nanos are not zero
	var before []string
	for range 3 {
		e.clock.Advance(time.Second)
		before = append([]string{id(e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "u"}))}, before...)
	}
	e.clock.Advance(tokend.SnapshotSettle) // the newest token is exactly at the snapshot: in
	first := e.MustList(t, cred, "page_params.page_size=2")
	snap := first.Pagination.FirstRequestTimestamp
	want := e.clock.Now().Truncate(time.Millisecond).Add(-tokend.SnapshotSettle)
	if snap.Seconds != want.Unix() || snap.Nanos != int32(want.Nanosecond()) {
		t.Fatalf("first_request_timestamp = %+v, want %v, a second before now", snap, want)
	}
	total := first.Pagination.TotalElements // the three, and the listing token
	if total != 4 || !slices.Equal(ids(first), before[:2]) {
		t.Fatalf("first page %v of %d", ids(first), total)
	}

	// Between the pages: tokens are issued, at once and later, and the
	// listed ones are revoked.
	for range 4 {
		e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "u"})
		e.clock.Advance(time.Second)
	}
	if _, err := e.core.RevokeTokens(t.Context(), e.org, e.svc.ID, tokend.RevokeRequest{Client: e.app.ClientID}); err != nil {
		t.Fatal(err)
	}
	at := fmt.Sprintf("page_params.first_request_timestamp.seconds=%d&page_params.first_request_timestamp.nanos=%d", snap.Seconds, snap.Nanos)

	second := e.MustList(t, cred, "page_params.page_size=2&page_params.page_number=2&"+at)
	wantSecond := []string{before[2], strconv.FormatInt(mustTokenID(t, e, cred), 10)}
	if !slices.Equal(ids(second), wantSecond) || second.Pagination.TotalElements != total || second.Pagination.FirstRequestTimestamp != snap {
		t.Fatalf("second page %v of %d (snapshot %+v); want %v of %d", ids(second), second.Pagination.TotalElements, second.Pagination.FirstRequestTimestamp, wantSecond, total)
	}
	third := e.MustList(t, cred, "page_params.page_size=2&page_params.page_number=3&"+at)
	if len(third.Tokens) != 0 || third.Pagination.TotalPages != 2 {
		t.Fatalf("third page %v, %+v; want none of 2 pages", ids(third), third.Pagination)
	}
	again := e.MustList(t, cred, "page_params.page_size=2&"+at)
	if !slices.Equal(ids(again), ids(first)) || again.Pagination.TotalElements != total {
		t.Fatalf("first page again: %v of %d; want %v of %d", ids(again), again.Pagination.TotalElements, ids(first), total)
	}
	for _, tok := range again.Tokens {
		if tok.Status != "TOKEN_STATUS_REVOKED" {
			t.Fatalf("a token revoked since keeps its place but shows %s", tok.Status)
		}
	}
	fresh := e.MustList(t, cred, "page_params.page_size=100")
	if fresh.Pagination.TotalElements != total+4 {
		t.Fatalf("a new snapshot counts %d, want %d", fresh.Pagination.TotalElements, total+4)
	}
	t.Run("SecondsAloneMeansNanosZero", func(t *testing.T) {
		l := e.MustList(t, cred, fmt.Sprintf("page_params.first_request_timestamp.seconds=%d", snap.Seconds))
		if l.Pagination.FirstRequestTimestamp.Nanos != 0 || l.Pagination.TotalElements != total-1 {
			t.Fatalf("%+v; want %d (the newest token is half a second after)", l.Pagination, total-1)
		}
	})
	t.Run("YearOneListsNothing", func(t *testing.T) {
		l := e.MustList(t, cred, "page_params.first_request_timestamp.seconds=-62135596800")
		if l.Pagination.TotalElements != 0 || l.Pagination.FirstRequestTimestamp.Seconds != -62135596800 {
			t.Fatalf("%+v", l.Pagination)
		}
	})
	t.Run("FarFutureListsEverything", func(t *testing.T) {
		l := e.MustList(t, cred, "page_params.first_request_timestamp.seconds=253402300799&page_params.first_request_timestamp.nanos=999999999")
		if l.Pagination.TotalElements != total+4 {
			t.Fatalf("%+v", l.Pagination)
		}
	})
}

// mustTokenID finds the id of the token whose value is raw.
func mustTokenID(t *testing.T, e *env, raw string) int64 {
	t.Helper()
	tok, err := e.core.FindToken(t.Context(), e.org, e.svc.ID, tokend.TokenRef{Value: raw})
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}
