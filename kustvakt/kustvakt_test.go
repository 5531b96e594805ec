package kustvakt

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// listFixture holds alice's tokens of every kind the list tells apart.
type listFixture struct {
	*env
	pdfTok, rTok, superTok, bobTok, revokedTok, shortTok, accessOnly *tokend.IssuedToken
}

func mustListFixture(t *testing.T) *listFixture {
	e := MustEnv(t)
	f := &listFixture{env: e}
	now := e.clock.Now()
	f.pdfTok = e.Mint(t, e.pdf, "alice", tokend.TokenInput{AuthTime: now.Add(-76 * time.Millisecond)})
	e.clock.Advance(98 * time.Millisecond)
	f.rTok = e.Mint(t, e.r, "alice", tokend.TokenInput{AuthTime: e.clock.Now().Add(-46 * time.Millisecond), Scopes: []string{"search"}})
	e.clock.Advance(time.Millisecond)
	f.superTok = e.Mint(t, e.super, "alice", tokend.TokenInput{})
	f.bobTok = e.Mint(t, e.pdf, "bob", tokend.TokenInput{})
	f.revokedTok = e.Mint(t, e.pdf, "alice", tokend.TokenInput{})
	if _, err := e.core.RevokeTokens(t.Context(), e.org, e.svc.ID, tokend.RevokeRequest{TokenID: f.revokedTok.Token.ID}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Millisecond)
	f.shortTok = e.Mint(t, e.pdf, "alice", tokend.TokenInput{AccessTokenTTL: time.Minute})
	e.clock.Advance(time.Millisecond)
	f.accessOnly = e.Mint(t, e.r, "alice", tokend.TokenInput{NoRefreshToken: true})
	e.clock.Advance(2 * time.Minute)
	return f
}

func hashes(entries []tokenEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Token)
	}
	return out
}

func TestTokenList(t *testing.T) {
	f := mustListFixture(t)
	access := func(its ...*tokend.IssuedToken) []string {
		out := []string{}
		for _, it := range its {
			out = append(out, it.Token.AccessHash.String())
		}
		return out
	}
	refresh := func(its ...*tokend.IssuedToken) []string {
		out := []string{}
		for _, it := range its {
			out = append(out, it.Token.RefreshHash.String())
		}
		return out
	}
	bearer := "Bearer " + f.superTok.AccessToken
	tests := []struct {
		name, auth, tokenType string
		extra                 []string
		want                  []string
	}{
		{"AccessTokensBasic", aliceBasic, "access_token", nil, access(f.accessOnly, f.rTok, f.pdfTok)},
		{"AccessTokensBearer", bearer, "access_token", nil, access(f.accessOnly, f.rTok, f.pdfTok)},
		{"RefreshTokens", aliceBasic, "refresh_token", nil, refresh(f.shortTok, f.rTok, f.pdfTok)},
		{"ClientFilter", aliceBasic, "access_token", []string{"client_id", f.pdf.ClientID}, access(f.pdfTok)},
		{"ClientFilterRefresh", bearer, "refresh_token", []string{"client_id", f.r.ClientID}, refresh(f.rTok)},
		{"SuperClientsOwnAreNeverListed", aliceBasic, "access_token", []string{"client_id", f.super.ClientID}, []string{}},
		{"AnotherUser", basic("bob", alicePassword), "access_token", nil, access(f.bobTok)},
		{"UnknownFieldsIgnored", aliceBasic, "access_token", []string{"lang", "de"}, access(f.accessOnly, f.rTok, f.pdfTok)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.MustList(t, tt.auth, tt.tokenType, tt.extra...)
			if !slices.Equal(hashes(got), tt.want) {
				t.Fatalf("listed %v, want %v", hashes(got), tt.want)
			}
		})
	}

	t.Run("EntryAsTheSeedShowsIt", func(t *testing.T) {
		got := f.MustList(t, aliceBasic, "access_token", "client_id", f.pdf.ClientID)[0]
		want := tokenEntry{
			Token: f.pdfTok.Token.AccessHash.String(), CreatedDate: "2019-11-21T09:58:44.277Z[UTC]",
			ExpiresIn: 3600 - 120 - 1, UserAuthenticationTime: ptr("2019-11-21T09:58:44.201Z[UTC]"),
			Scope: []string{"match_info", "search"}, Scopes: []string{"match_info", "search"},
			ClientID: f.pdf.ClientID, ClientName: "EasyPDF Exporter",
			ClientDescription: "EasyPDF is a tool for exporting data to PDF.", ClientURL: "https://www.easypdf.org/",
		}
		if !equalEntry(got, want) {
			t.Fatalf("entry\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("ExpiresInIsANumber", func(t *testing.T) {
		r := f.Post(t, "/api/v1.0/oauth2/token/list", aliceBasic, f.superForm("token_type", "refresh_token", "client_id", f.pdf.ClientID))
		var raw []map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &raw); err != nil || len(raw) != 2 {
			t.Fatalf("%s: %v", r, err)
		}
		if got := string(raw[1]["expires_in"]); got != "31535879" {
			t.Fatalf("expires_in = %s, want the number 31535879 (a year less 2 min 0.1 s)", got)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatal("a list of a user's tokens may be cached")
		}
	})
	t.Run("DatesInTheServicesTimeZone", func(t *testing.T) {
		if _, err := f.core.UpdateService(t.Context(), f.org, f.svc.ID, tokend.ServiceInput{TimeZone: ptr("Europe/Berlin")}); err != nil {
			t.Fatal(err)
		}
		got := f.MustList(t, aliceBasic, "access_token", "client_id", f.pdf.ClientID)[0]
		if got.CreatedDate != "2019-11-21T10:58:44.277+01:00[Europe/Berlin]" || *got.UserAuthenticationTime != "2019-11-21T10:58:44.201+01:00[Europe/Berlin]" {
			t.Fatalf("dates %q, %q", got.CreatedDate, *got.UserAuthenticationTime)
		}
	})
	t.Run("UnknownAuthTimeIsNull", func(t *testing.T) {
		got := f.MustList(t, aliceBasic, "access_token", "client_id", f.r.ClientID)
		if got[0].UserAuthenticationTime != nil {
			t.Fatalf("the access-only token has no auth time, got %q", *got[0].UserAuthenticationTime)
		}
	})
	t.Run("RefreshedTokenShowsItsNewValue", func(t *testing.T) {
		issued, err := f.core.Exchange(t.Context(), f.svc, f.pdf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: f.pdfTok.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		got := f.MustList(t, aliceBasic, "refresh_token", "client_id", f.pdf.ClientID)
		var found bool
		for _, entry := range got {
			found = found || entry.Token == issued.Token.RefreshHash.String()
			if entry.Token == f.pdfTok.Token.RefreshHash.String() {
				t.Fatal("the rotated-away refresh token is still listed")
			}
		}
		if !found {
			t.Fatalf("the new refresh token is not listed: %v", hashes(got))
		}
	})
}

func equalEntry(a, b tokenEntry) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestTokenListRefused(t *testing.T) {
	f := mustListFixture(t)
	e := f.env
	plainSecret := tokend.NewSecret(tokend.KindClientSecret)
	_, plainClientSecret := e.mustClient(t, tokend.ClientInput{Name: ptr("not super"), ClientID: ptr("plain")})
	pub := tokend.ClientPublic
	e.mustClient(t, tokend.ClientInput{Name: ptr("public super"), ClientID: ptr("spa"), Type: &pub, FirstParty: ptr(true),
		GrantTypes: &[]tokend.GrantType{tokend.GrantAuthorizationCode}})
	ccTok, err := e.core.Exchange(t.Context(), e.svc, e.pdf, tokend.TokenRequest{GrantType: "client_credentials"})
	if err != nil {
		t.Fatal(err)
	}
	form := func(kv ...string) url.Values {
		return e.superForm(append([]string{"token_type", "access_token"}, kv...)...)
	}
	before := e.state(t)
	tests := []struct {
		name, auth string
		form       url.Values
		status     int
		code, want string
		challenge  string
	}{
		{"ErrTokenTypeMissing", aliceBasic, e.superForm(), 400, "invalid_request", "token_type", ""},
		{"ErrTokenTypeOther", aliceBasic, e.superForm("token_type", "id_token"), 400, "invalid_request", "token_type", ""},
		{"ErrTokenTypeWithoutAuthentication", "", url.Values{"token_type": {"bearer"}}, 400, "invalid_request", "token_type", ""},
		{"ErrUnknownClientFilter", aliceBasic, form("client_id", "nobody"), 400, "invalid_request", "client_id", ""},
		{"ErrSuperSecretWrong", aliceBasic, form("super_client_secret", plainSecret), 401, "invalid_client", "client authentication failed", `Basic realm="Kustvakt"`},
		{"ErrSuperSecretMissing", aliceBasic, url.Values{"super_client_id": {e.super.ClientID}, "token_type": {"access_token"}}, 401, "invalid_client", "client authentication failed", `Basic`},
		{"ErrSuperClientMissing", aliceBasic, url.Values{"token_type": {"access_token"}}, 401, "invalid_client", "required", `Basic`},
		{"ErrUnknownSuperClient", aliceBasic, form("super_client_id", "nobody"), 401, "invalid_client", "client authentication failed", `Basic`},
		{"ErrNotFirstParty", aliceBasic, form("super_client_id", "plain", "super_client_secret", plainClientSecret), 401, "unauthorized_client", "first-party", `Basic`},
		{"ErrPublicFirstParty", aliceBasic, form("super_client_id", "spa", "super_client_secret", ""), 401, "unauthorized_client", "PUBLIC", `Basic`},
		{"ErrWrongPassword", basic("alice", "wrong horse battery"), form(), 401, "invalid_grant", "invalid username or password", `Basic realm="Kustvakt"`},
		{"ErrUnknownUser", basic("mallory", alicePassword), form(), 401, "invalid_grant", "invalid username or password", `Basic`},
		{"ErrMalformedBasic", "Basic !!!", form(), 401, "invalid_grant", "malformed", `Basic`},
		{"ErrNoUserCredentials", "", form(), 401, "invalid_grant", "credentials are required", `Bearer realm="Kustvakt"`},
		{"ErrOtherScheme", "Digest x", form(), 401, "invalid_grant", "Authorization", `Basic`},
		{"ErrUnknownBearer", "Bearer tka_nope", form(), 401, "invalid_token", "invalid access token", `error="invalid_token"`},
		{"ErrRevokedBearer", "Bearer " + f.revokedTok.AccessToken, form(), 401, "invalid_token", "revoked", `error="invalid_token"`},
		{"ErrExpiredBearer", "Bearer " + f.shortTok.AccessToken, form(), 401, "invalid_token", "expired", `error="invalid_token"`},
		{"ErrRefreshTokenAsBearer", "Bearer " + f.pdfTok.RefreshToken, form(), 401, "invalid_token", "invalid access token", `error="invalid_token"`},
		{"ErrClientCredentialsBearer", "Bearer " + ccTok.AccessToken, form(), 401, "invalid_token", "not a user", `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Post(t, "/api/v1.0/oauth2/token/list", tt.auth, tt.form)
			r.wantError(t, tt.status, tt.code, tt.want)
			if !strings.Contains(r.header.Get("WWW-Authenticate"), tt.challenge) {
				t.Fatalf("WWW-Authenticate %q, want %q", r.header.Get("WWW-Authenticate"), tt.challenge)
			}
		})
	}
	for _, tt := range []struct {
		name, contentType, query, body, want string
	}{
		{"ErrJSONBody", "application/json", "", `{"token_type":"access_token"}`, "Content-Type"},
		{"ErrNoContentType", "", "", "token_type=access_token", "Content-Type"},
		{"ErrQueryString", "application/x-www-form-urlencoded", "?super_client_secret=x", "token_type=access_token", "query"},
		{"ErrRepeatedParameter", "application/x-www-form-urlencoded", "", "token_type=access_token&token_type=refresh_token", "token_type"},
		{"ErrBadEncoding", "application/x-www-form-urlencoded", "", "token_type=%zz", "body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.url+"/api/v1.0/oauth2/token/list"+tt.query, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", aliceBasic)
			do(t, req).wantError(t, 400, "invalid_request", tt.want)
		})
	}
	t.Run("ErrGetIsNotAllowed", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.url+"/api/v1.0/oauth2/token/list", nil)
		if r := do(t, req); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET: %s", r)
		}
	})
	e.wantUnchanged(t, before)
}

func TestRevokeSuper(t *testing.T) {
	f := mustListFixture(t)
	e := f.env
	path := "/api/v1.0/oauth2/revoke/super"
	t.Run("OKByTheHashTheListShows", func(t *testing.T) {
		listed := e.MustList(t, aliceBasic, "refresh_token", "client_id", e.r.ClientID)[0].Token
		r := e.Post(t, path, aliceBasic, e.superForm("token", listed))
		if r.status != 200 || !e.revoked(t, f.rTok.Token.ID) {
			t.Fatalf("got %s", r)
		}
		for _, entry := range e.MustList(t, aliceBasic, "access_token") {
			if entry.Token == f.rTok.Token.AccessHash.String() {
				t.Fatal("revoking the refresh token left its access token listed")
			}
		}
		if r := e.Post(t, path, aliceBasic, e.superForm("token", listed)); r.status != 200 {
			t.Fatalf("again: %s, want 200 for an already revoked token", r)
		}
	})
	t.Run("OKByValueWithBearer", func(t *testing.T) {
		r := e.Post(t, path, "Bearer "+f.superTok.AccessToken, e.superForm("token", f.accessOnly.AccessToken))
		if r.status != 200 || !e.revoked(t, f.accessOnly.Token.ID) {
			t.Fatalf("got %s", r)
		}
	})
	before := e.state(t)
	for _, tt := range []struct {
		name, auth string
		form       url.Values
		status     int
		code, want string
	}{
		{"ErrAnotherUsersToken", aliceBasic, e.superForm("token", f.bobTok.Token.AccessHash.String()), 400, "invalid_request", "none of the user's tokens"},
		{"ErrAnotherUsersValue", aliceBasic, e.superForm("token", f.bobTok.AccessToken), 400, "invalid_request", "none of the user's tokens"},
		{"ErrUnknown", aliceBasic, e.superForm("token", "what-is-this"), 400, "invalid_request", "none of the user's tokens"},
		{"ErrTokenMissing", aliceBasic, e.superForm(), 400, "invalid_request", "token"},
		{"ErrUserNotAuthenticated", basic("alice", "nope nope nope"), e.superForm("token", f.pdfTok.AccessToken), 401, "invalid_grant", "password"},
		{"ErrSuperNotAuthenticated", aliceBasic, url.Values{"super_client_id": {e.pdf.ClientID}, "super_client_secret": {e.pdfSecret}, "token": {f.pdfTok.AccessToken}}, 401, "unauthorized_client", "first-party"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Post(t, path, tt.auth, tt.form).wantError(t, tt.status, tt.code, tt.want)
			e.wantUnchanged(t, before)
		})
	}
}

func TestRevokeSuperAll(t *testing.T) {
	f := mustListFixture(t)
	e := f.env
	path := "/api/v1.0/oauth2/revoke/super/all"
	before := e.state(t)
	for _, tt := range []struct {
		name, auth string
		form       url.Values
		status     int
		code, want string
	}{
		{"ErrClientMissing", aliceBasic, e.superForm(), 400, "invalid_request", "client_id"},
		{"ErrUnknownClient", aliceBasic, e.superForm("client_id", "nobody"), 400, "invalid_request", "client_id"},
		{"ErrUserNotAuthenticated", "", e.superForm("client_id", e.pdf.ClientID), 401, "invalid_grant", "credentials"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Post(t, path, tt.auth, tt.form).wantError(t, tt.status, tt.code, tt.want)
			e.wantUnchanged(t, before)
		})
	}
	t.Run("OK", func(t *testing.T) {
		r := e.Post(t, path, aliceBasic, e.superForm("client_id", e.pdf.ClientID))
		if r.status != 200 {
			t.Fatalf("got %s", r)
		}
		for _, it := range []*tokend.IssuedToken{f.pdfTok, f.shortTok} {
			if !e.revoked(t, it.Token.ID) {
				t.Fatalf("alice's pdf token %d is live", it.Token.ID)
			}
		}
		for _, it := range []*tokend.IssuedToken{f.bobTok, f.rTok, f.superTok} {
			if e.revoked(t, it.Token.ID) {
				t.Fatalf("token %d of another user or client was revoked", it.Token.ID)
			}
		}
		if got := e.MustList(t, aliceBasic, "refresh_token", "client_id", e.pdf.ClientID); len(got) != 0 {
			t.Fatalf("still listed: %v", hashes(got))
		}
	})
}

func TestClientList(t *testing.T) {
	f := mustListFixture(t)
	e := f.env
	path := "/api/v1.0/oauth2/client/list"
	r := e.Post(t, path, aliceBasic, e.superForm("filter_by", "authorized_only"))
	var got []map[string]string
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("%s: %v", r, err)
	}
	// Newest first: r's access-only token is alice's newest.
	want := []map[string]string{
		{"client_id": e.r.ClientID, "client_name": "R statistical computing tool", "client_type": "CONFIDENTIAL", "client_description": "", "client_url": "https://www.r-project.org/"},
		{"client_id": e.pdf.ClientID, "client_name": "EasyPDF Exporter", "client_type": "CONFIDENTIAL", "client_description": "EasyPDF is a tool for exporting data to PDF.", "client_url": "https://www.easypdf.org/"},
	}
	if gj, wj := mustJSON(t, got), mustJSON(t, want); gj != wj {
		t.Fatalf("clients\n got %s\nwant %s", gj, wj)
	}
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"ErrFilterMissing", e.superForm(), "filter_by"},
		{"ErrOwnedOnly", e.superForm("filter_by", "owned_only"), "filter_by"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Post(t, path, aliceBasic, tt.form).wantError(t, 400, "invalid_request", tt.want)
		})
	}
	t.Run("ErrWrongSuperSecret", func(t *testing.T) {
		e.Post(t, path, aliceBasic, e.superForm("filter_by", "authorized_only", "super_client_secret", e.pdfSecret)).wantError(t, 401, "invalid_client", "client authentication failed")
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRevoke(t *testing.T) {
	f := mustListFixture(t)
	e := f.env
	path := "/api/v1.0/oauth2/revoke"
	pdfCreds := func(kv ...string) url.Values {
		v := url.Values{"client_id": {e.pdf.ClientID}, "client_secret": {e.pdfSecret}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	before := e.state(t)
	for _, tt := range []struct {
		name, auth string
		form       url.Values
		status     int
		code, want string
	}{
		{"ErrAnotherClientsToken", "", pdfCreds("token", f.rTok.AccessToken), 400, "unauthorized_client", "not issued to this client"},
		{"ErrAnotherClientsHash", "", pdfCreds("token", f.rTok.Token.AccessHash.String()), 400, "unauthorized_client", "not issued to this client"},
		{"ErrTokenMissing", "", pdfCreds(), 400, "invalid_request", "token"},
		{"ErrWrongSecret", "", pdfCreds("token", f.pdfTok.AccessToken, "client_secret", e.superSecret), 401, "invalid_client", "client authentication failed"},
		{"ErrNoClient", "", url.Values{"token": {f.pdfTok.AccessToken}}, 401, "invalid_client", "required"},
		{"ErrTwoMethods", basic(e.pdf.ClientID, e.pdfSecret), pdfCreds("token", f.pdfTok.AccessToken), 400, "invalid_request", "client_secret"},
		{"ErrBearerScheme", "Bearer " + f.superTok.AccessToken, url.Values{"token": {f.pdfTok.AccessToken}}, 401, "invalid_client", "scheme"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Post(t, path, tt.auth, tt.form).wantError(t, tt.status, tt.code, tt.want)
			e.wantUnchanged(t, before)
		})
	}
	t.Run("OKUnknownTokenChangesNothing", func(t *testing.T) {
		if r := e.Post(t, path, "", pdfCreds("token", "never-issued-anywhere")); r.status != 200 {
			t.Fatalf("got %s", r)
		}
		e.wantUnchanged(t, before)
	})
	t.Run("OKByValueInTheForm", func(t *testing.T) {
		r := e.Post(t, path, "", pdfCreds("token", f.pdfTok.RefreshToken, "token_type", "refresh_token"))
		if r.status != 200 || !e.revoked(t, f.pdfTok.Token.ID) {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("OKByHashWithBasic", func(t *testing.T) {
		r := e.Post(t, path, basic(e.pdf.ClientID, e.pdfSecret), url.Values{"token": {f.shortTok.Token.AccessHash.String()}})
		if r.status != 200 || !e.revoked(t, f.shortTok.Token.ID) {
			t.Fatalf("got %s", r)
		}
	})
}

func TestJavaZoned(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	ny, _ := time.LoadLocation("America/New_York")
	amsterdam1937 := time.FixedZone("", 1*3600+19*60+32) // historical LMT-style offsets carry seconds
	at := func(h, m, s, ns int) time.Time { return time.Date(2019, 11, 21, h, m, s, ns, time.UTC) }
	tests := []struct {
		name string
		t    time.Time
		loc  *time.Location
		zone string
		want string
	}{
		{"SeedExample", at(9, 58, 44, 277_000_000), berlin, "Europe/Berlin", "2019-11-21T10:58:44.277+01:00[Europe/Berlin]"},
		{"UTC", at(9, 58, 44, 277_000_000), time.UTC, "UTC", "2019-11-21T09:58:44.277Z[UTC]"},
		{"WholeSeconds", at(9, 58, 44, 0), time.UTC, "UTC", "2019-11-21T09:58:44Z[UTC]"},
		{"WholeMinutes", at(9, 58, 0, 0), time.UTC, "UTC", "2019-11-21T09:58Z[UTC]"},
		{"FractionOfAMinute", at(9, 58, 0, 5_000_000), time.UTC, "UTC", "2019-11-21T09:58:00.005Z[UTC]"},
		{"Microseconds", at(9, 58, 1, 5_000), time.UTC, "UTC", "2019-11-21T09:58:01.000005Z[UTC]"},
		{"Nanoseconds", at(9, 58, 1, 5), time.UTC, "UTC", "2019-11-21T09:58:01.000000005Z[UTC]"},
		{"NegativeOffset", at(9, 58, 44, 0), ny, "America/New_York", "2019-11-21T04:58:44-05:00[America/New_York]"},
		{"HalfHourOffset", at(9, 58, 44, 0), kolkata, "Asia/Kolkata", "2019-11-21T15:28:44+05:30[Asia/Kolkata]"},
		{"SummerTime", time.Date(2019, 7, 1, 12, 0, 0, 0, time.UTC), berlin, "Europe/Berlin", "2019-07-01T14:00+02:00[Europe/Berlin]"},
		{"OffsetWithSeconds", at(9, 0, 0, 0), amsterdam1937, "Europe/Amsterdam", "2019-11-21T10:19:32+01:19:32[Europe/Amsterdam]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := javaZoned(tt.t, tt.loc, tt.zone); got != tt.want {
				t.Fatalf("javaZoned = %q, want %q", got, tt.want)
			}
		})
	}
}
