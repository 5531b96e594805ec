package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

// TestBadInput sends every kind of bad request: each must answer 400 naming
// the field at fault, and leave the store exactly as it was.
func TestBadInput(t *testing.T) {
	f := MustFixture(t)
	e := f.e
	sa := fmt.Sprintf("/v1/services/%d", f.svc.ID)
	tok := f.mint(t, wire.TokenInput{})
	tokPath := fmt.Sprintf("%s/%d", f.base, tok.ID)
	cc := f.mint(t, wire.TokenInput{GrantType: "CLIENT_CREDENTIALS"})
	// A client that may not use PASSWORD, though the service supports it.
	MustClient(t, e, e.root, f.svc.ID, wire.ClientInput{Name: ptr("narrow"), ClientID: ptr("narrow-app"), GrantTypes: &[]string{"AUTHORIZATION_CODE"}, Scopes: &[]string{"openid"}})

	// Clients for the code rules: a public one (PKCE required) and one
	// without the authorization code grant.
	MustClient(t, e, e.root, f.svc.ID, wire.ClientInput{Name: ptr("mobile"), ClientID: ptr("mobile-app"), Type: ptr("PUBLIC"), RedirectURIs: &[]string{webRedirect}})
	MustClient(t, e, e.root, f.svc.ID, wire.ClientInput{Name: ptr("machine"), ClientID: ptr("machine-app"), GrantTypes: &[]string{"CLIENT_CREDENTIALS"}, RedirectURIs: &[]string{webRedirect}})
	MustUser(t, e, f.svc.ID, wire.UserInput{Username: "carol"})
	codes, users := sa+"/authorization-codes", sa+"/users"
	code := func(mod func(*wire.CodeInput)) wire.CodeInput {
		in := wire.CodeInput{Client: "web-app", Subject: "alice", Scopes: []string{"photos.read"}, RedirectURI: webRedirect, CodeChallenge: s256(verifier)}
		mod(&in)
		return in
	}
	user := func(mod func(*wire.UserInput)) wire.UserInput {
		in := wire.UserInput{Username: "dave", Password: ptr("long enough password")}
		mod(&in)
		return in
	}

	mint := func(mod func(*wire.TokenInput)) wire.TokenInput {
		in := wire.TokenInput{Client: "web-app", GrantType: "AUTHORIZATION_CODE", Subject: "alice", Scopes: []string{"photos.read"}}
		mod(&in)
		return in
	}
	huge := `{"client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice","acr":"` + strings.Repeat("a", 1<<20) + `"}`
	longSubject := strings.Repeat("s", tokend.MaxSubjectLen+1)

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		field  string
	}{
		// Minting.
		{"UnknownGrantType", "POST", f.base, mint(func(in *wire.TokenInput) { in.GrantType = "MAGIC" }), "grant_type"},
		{"GrantNotAllowedForClient", "POST", f.base, mint(func(in *wire.TokenInput) { in.Client, in.GrantType, in.Scopes = "narrow-app", "PASSWORD", nil }), "grant_type"},
		{"MissingGrantType", "POST", f.base, mint(func(in *wire.TokenInput) { in.GrantType = "" }), "grant_type"},
		{"ScopeNotSupported", "POST", f.base, mint(func(in *wire.TokenInput) { in.Scopes = []string{"photos.delete"} }), "scopes"},
		{"ScopeNotForClient", "POST", f.base, mint(func(in *wire.TokenInput) { in.Client = "narrow-app" }), "scopes"},
		{"MissingSubject", "POST", f.base, mint(func(in *wire.TokenInput) { in.Subject = "" }), "subject"},
		{"SubjectForClientCredentials", "POST", f.base, mint(func(in *wire.TokenInput) { in.GrantType = "CLIENT_CREDENTIALS" }), "subject"},
		{"SubjectTooLong", "POST", f.base, mint(func(in *wire.TokenInput) { in.Subject = longSubject }), "subject"},
		{"SubjectNonASCII", "POST", f.base, mint(func(in *wire.TokenInput) { in.Subject = "jöhn" }), "subject"},
		{"NegativeAccessTTL", "POST", f.base, mint(func(in *wire.TokenInput) { in.AccessTokenTTL = -1 }), "access_token_ttl"},
		{"NegativeRefreshTTL", "POST", f.base, mint(func(in *wire.TokenInput) { in.RefreshTokenTTL = -60 }), "refresh_token_ttl"},
		{"HugeTTL", "POST", f.base, mint(func(in *wire.TokenInput) { in.AccessTokenTTL = 1 << 62 }), "access_token_ttl"},
		{"MissingClient", "POST", f.base, mint(func(in *wire.TokenInput) { in.Client = "" }), "client"},
		{"RefreshForClientCredentials", "POST", f.base, mint(func(in *wire.TokenInput) {
			in.GrantType, in.Subject, in.RefreshToken = "CLIENT_CREDENTIALS", "", "legacy-refresh-0123456789"
		}), "refresh_token"},
		{"SuppliedValueBadChars", "POST", f.base, mint(func(in *wire.TokenInput) { in.AccessToken = "has spaces in it, 0123456789" }), "access_token"},
		{"SuppliedValueTooShort", "POST", f.base, mint(func(in *wire.TokenInput) { in.AccessToken = "short" }), "access_token"},
		{"BadDPoPThumbprint", "POST", f.base, mint(func(in *wire.TokenInput) { in.DPoPKeyThumbprint = "not a thumbprint!" }), "dpop_key_thumbprint"},
		{"BadAuthorizationDetails", "POST", f.base, mint(func(in *wire.TokenInput) { in.AuthorizationDetails = []byte(`{"type":"x"}`) }), "authorization_details"},

		// Body syntax.
		{"MalformedJSON", "POST", f.base, `{"client": "web-app",`, "body"},
		{"MalformedJSONChar", "POST", f.base, `{"client" "web-app"}`, "body"},
		{"EmptyBody", "POST", f.base, "", "body"},
		{"TwoValues", "POST", f.base, `{"client":"web-app"} {"client":"web-app"}`, "body"},
		{"UnknownField", "POST", f.base, `{"client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice","scope":"photos.read"}`, "scope"},
		{"FieldWrongCase", "POST", f.base, `{"Client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice"}`, "Client"},
		{"DuplicateField", "POST", f.base, `{"client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice","subject":"bob"}`, "subject"},
		{"WrongType", "POST", f.base, `{"client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice","scopes":"photos.read"}`, "scopes"},
		{"WrongTypeNumber", "POST", f.base, `{"client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice","access_token_ttl":"3600"}`, "access_token_ttl"},
		{"BadTime", "POST", f.base, `{"client":"web-app","grant_type":"AUTHORIZATION_CODE","subject":"alice","auth_time":"yesterday"}`, "auth_time"},
		{"BodyTooLarge", "POST", f.base, huge, "body"},
		{"NotAnObject", "POST", f.base, `["web-app"]`, "body"},

		// Token list query.
		{"PageSizeZero", "GET", f.base + "?page_size=0", nil, "page_size"},
		{"PageSizeTooBig", "GET", f.base + "?page_size=1001", nil, "page_size"},
		{"PageSizeNegative", "GET", f.base + "?page_size=-5", nil, "page_size"},
		{"PageSizeNotNumber", "GET", f.base + "?page_size=many", nil, "page_size"},
		{"PageTokenMalformed", "GET", f.base + "?page_token=garbage", nil, "page_token"},
		{"PageTokenTampered", "GET", f.base + "?page_token=AQEB", nil, "page_token"},
		{"OffsetNegative", "GET", f.base + "?offset=-1", nil, "offset"},
		{"OffsetNotNumber", "GET", f.base + "?offset=x", nil, "offset"},
		{"UnknownParam", "GET", f.base + "?subjet=alice", nil, "subjet"},
		{"RepeatedParam", "GET", f.base + "?subject=alice&subject=bob", nil, "subject"},
		{"EmptyParam", "GET", f.base + "?status=", nil, "status"},
		{"BadStatus", "GET", f.base + "?status=alive", nil, "status"},
		{"BadOrder", "GET", f.base + "?order=up", nil, "order"},
		{"BadOrderBy", "GET", f.base + "?order_by=subject", nil, "order_by"},
		{"BadGrantTypeFilter", "GET", f.base + "?grant_type=MAGIC", nil, "grant_type"},
		{"BadCreatedAfter", "GET", f.base + "?created_after=yesterday", nil, "created_after"},
		{"BadCreatedBefore", "GET", f.base + "?created_before=2024-13-01T00:00:00Z", nil, "created_before"},
		{"SubjectFilterTooLong", "GET", f.base + "?subject=" + longSubject, nil, "subject"},
		{"MalformedQuery", "GET", f.base + "?subject=%zz", nil, "query"},
		{"QueryOnRouteWithout", "GET", sa + "?verbose=1", nil, "verbose"},

		// Path parameters.
		{"SidNotNumeric", "GET", "/v1/services/photos/tokens", nil, "sid"},
		{"IDNotNumeric", "GET", f.base + "/first", nil, "id"},
		{"IDNegative", "DELETE", f.base + "/-1", nil, "id"},
		{"KidNotNumeric", "DELETE", "/v1/keys/root", nil, "kid"},
		{"SidTooBig", "GET", "/v1/services/99999999999999999999", nil, "sid"},

		// Other routes.
		{"ServiceNegativeTTL", "POST", "/v1/services", wire.ServiceInput{Name: ptr("x"), AccessTokenTTL: ptr[int64](-1)}, "access_token_ttl"},
		{"ServiceMissingName", "POST", "/v1/services", wire.ServiceInput{}, "name"},
		{"ServiceBadGrace", "PATCH", sa, wire.ServiceInput{RefreshTokenPolicy: &wire.RefreshPolicy{ReuseGrace: ptr[int64](301)}}, "refresh_token_policy.reuse_grace"},
		{"ServiceBadIssuer", "PATCH", sa, wire.ServiceInput{Issuer: ptr("ftp://x")}, "issuer"},
		{"ServicePolicyWrongType", "PATCH", sa, `{"refresh_token_policy":{"rotate":"yes"}}`, "refresh_token_policy.rotate"},
		{"ClientScopeNotSupported", "POST", sa + "/clients", wire.ClientInput{Name: ptr("x"), Scopes: &[]string{"admin"}}, "scopes"},
		{"ClientBadType", "POST", sa + "/clients", wire.ClientInput{Name: ptr("x"), Type: ptr("SECRET")}, "type"},
		{"ClientNumericClientID", "POST", sa + "/clients", wire.ClientInput{Name: ptr("x"), ClientID: ptr("12345")}, "client_id"},
		{"ClientPageSize", "GET", sa + "/clients?page_size=0", nil, "page_size"},
		{"ClientPageToken", "GET", sa + "/clients?page_token=%2A%2A", nil, "page_token"},
		{"KeyNegativeTTL", "POST", "/v1/keys", wire.KeyInput{Name: "k", Permissions: []string{"tokens.read"}, TTL: -1}, "ttl"},
		{"KeyUnknownPermission", "POST", "/v1/keys", wire.KeyInput{Name: "k", Permissions: []string{"tokens.delete"}}, "permissions"},
		{"KeyNoPermissions", "POST", sa + "/keys", wire.KeyInput{Name: "k"}, "permissions"},
		{"UpdateExpiryTooFar", "PATCH", tokPath, wire.TokenUpdate{ExpiresAt: ptr(time.Now().AddDate(200, 0, 0))}, "expires_at"},
		{"UpdateScopeNotSupported", "PATCH", tokPath, wire.TokenUpdate{Scopes: &[]string{"admin"}}, "scopes"},
		{"UpdateRefreshScopesWithoutRefresh", "PATCH", fmt.Sprintf("%s/%d", f.base, cc.ID), wire.TokenUpdate{RefreshScopes: &[]string{"openid"}}, "refresh_scopes"},
		{"LookupNothing", "POST", f.base + "/lookup", wire.TokenLookup{}, "token"},
		{"LookupBadHash", "POST", f.base + "/lookup", wire.TokenLookup{Hash: "abc"}, "hash"},
		{"LookupBoth", "POST", f.base + "/lookup", wire.TokenLookup{Token: tok.AccessToken, Hash: tok.AccessTokenHash}, "hash"},
		{"LookupAKey", "POST", f.base + "/lookup", wire.TokenLookup{Token: e.root}, "token"},
		{"RevokeNothing", "POST", f.base + "/revoke", wire.RevokeRequest{Reason: "x"}, "token"},
		{"RevokeOneAndMany", "POST", f.base + "/revoke", wire.RevokeRequest{ID: tok.ID, Subject: ptr("alice")}, "subject"},
		{"RevokeNegativeID", "POST", f.base + "/revoke", wire.RevokeRequest{ID: -4}, "id"},
		{"RevokeEmptySubject", "POST", f.base + "/revoke", wire.RevokeRequest{Subject: ptr("")}, "subject"},
		{"RevokeOneUnknownField", "POST", tokPath + "/revoke", `{"reason":"x","subject":"alice"}`, "subject"},
		{"RevokeOneReasonWrongType", "POST", tokPath + "/revoke", `{"reason":5}`, "reason"},
		{"ServiceBadCallbackURL", "PATCH", sa, wire.ServiceInput{PasswordCallbackURL: ptr("ftp://host/check")}, "password_callback_url"},
		{"ServiceCallbackNotAbsolute", "POST", "/v1/services", wire.ServiceInput{Name: ptr("x"), PasswordCallbackURL: ptr("/check")}, "password_callback_url"},
		{"ServicePlainPKCEWrongType", "PATCH", sa, `{"allow_plain_pkce":"yes"}`, "allow_plain_pkce"},

		// Authorization codes.
		{"CodeMissingClient", "POST", codes, code(func(in *wire.CodeInput) { in.Client = "" }), "client"},
		{"CodeClientWithoutGrant", "POST", codes, code(func(in *wire.CodeInput) { in.Client = "machine-app" }), "client"},
		{"CodeMissingSubject", "POST", codes, code(func(in *wire.CodeInput) { in.Subject = "" }), "subject"},
		{"CodeSubjectNonASCII", "POST", codes, code(func(in *wire.CodeInput) { in.Subject = "jöhn" }), "subject"},
		{"CodeScopeNotSupported", "POST", codes, code(func(in *wire.CodeInput) { in.Scopes = []string{"photos.delete"} }), "scopes"},
		{"CodeMissingRedirect", "POST", codes, code(func(in *wire.CodeInput) { in.RedirectURI = "" }), "redirect_uri"},
		{"CodeUnregisteredRedirect", "POST", codes, code(func(in *wire.CodeInput) { in.RedirectURI = webRedirect + "/evil" }), "redirect_uri"},
		{"CodeBadChallenge", "POST", codes, code(func(in *wire.CodeInput) { in.CodeChallenge = "too-short" }), "code_challenge"},
		{"CodeMethodWithoutChallenge", "POST", codes, code(func(in *wire.CodeInput) { in.CodeChallenge, in.CodeChallengeMethod = "", "S256" }), "code_challenge"},
		{"CodeUnknownMethod", "POST", codes, code(func(in *wire.CodeInput) { in.CodeChallengeMethod = "S512" }), "code_challenge_method"},
		{"CodePlainNotAllowed", "POST", codes, code(func(in *wire.CodeInput) { in.CodeChallenge, in.CodeChallengeMethod = verifier, "plain" }), "code_challenge_method"},
		{"CodePublicWithoutPKCE", "POST", codes, code(func(in *wire.CodeInput) { in.Client, in.CodeChallenge = "mobile-app", "" }), "code_challenge"},
		{"CodeBadRoles", "POST", codes, code(func(in *wire.CodeInput) { in.Roles = []string{""} }), "roles"},
		{"CodeBadAuthorizationDetails", "POST", codes, code(func(in *wire.CodeInput) { in.AuthorizationDetails = []byte(`{"type":"x"}`) }), "authorization_details"},
		{"CodeBadAuthTime", "POST", codes, `{"client":"web-app","subject":"alice","redirect_uri":"` + webRedirect + `","auth_time":"yesterday"}`, "auth_time"},
		{"CodeUnknownField", "POST", codes, `{"client":"web-app","subject":"alice","redirect_uri":"` + webRedirect + `","code":"tkc_mine"}`, "code"},
		{"CodeEmptyBody", "POST", codes, "", "body"},

		// Users.
		{"UserMissingUsername", "POST", users, user(func(in *wire.UserInput) { in.Username = "" }), "username"},
		{"UserUsernameNonASCII", "POST", users, user(func(in *wire.UserInput) { in.Username = "jöhn" }), "username"},
		{"UserUsernameDotDot", "POST", users, user(func(in *wire.UserInput) { in.Username = ".." }), "username"},
		{"UserUsernameTooLong", "POST", users, user(func(in *wire.UserInput) { in.Username = longSubject }), "username"},
		{"UserMissingPassword", "POST", users, user(func(in *wire.UserInput) { in.Password = nil }), "password"},
		{"UserShortPassword", "POST", users, user(func(in *wire.UserInput) { in.Password = ptr("short") }), "password"},
		{"UserLongPassword", "POST", users, user(func(in *wire.UserInput) { in.Password = ptr(strings.Repeat("p", tokend.MaxPasswordLen+1)) }), "password"},
		{"UserBadAccountID", "POST", users, user(func(in *wire.UserInput) { in.AccountID = ptr("acct 1") }), "account_id"},
		{"UserBadRoles", "POST", users, user(func(in *wire.UserInput) { in.Roles = &[]string{""} }), "roles"},
		{"UserPasswordWrongType", "POST", users, `{"username":"dave","password":12345678}`, "password"},
		{"UserUnknownField", "POST", users, `{"username":"dave","password":"long enough password","pasword":"x"}`, "pasword"},
		{"UserPasswordHashField", "POST", users, `{"username":"dave","password_hash":"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5"}`, "password_hash"},
		{"UserRename", "PATCH", users + "/carol", wire.UserInput{Username: "carla"}, "username"},
		{"UserUpdateShortPassword", "PATCH", users + "/carol", wire.UserInput{Password: ptr("short")}, "password"},
		{"UserUpdateBadRoles", "PATCH", users + "/carol", wire.UserInput{Roles: &[]string{"a b"}}, "roles"},
		{"UserPageSizeZero", "GET", users + "?page_size=0", nil, "page_size"},
		{"UserPageSizeTooBig", "GET", users + "?page_size=1001", nil, "page_size"},
		{"UserPageSizeNotNumber", "GET", users + "?page_size=ten", nil, "page_size"},
		{"UserPageToken", "GET", users + "?page_token=MTIz%3D", nil, "page_token"},
		{"UserListUnknownParam", "GET", users + "?username=carol", nil, "username"},
		{"UserGetQuery", "GET", users + "/carol?verbose=1", nil, "verbose"},
		{"UserSidNotNumeric", "GET", "/v1/services/photos/users/carol", nil, "sid"},

		{"GrantsSubjectNonASCII", "GET", sa + "/subjects/j%C3%B6hn/grants", nil, "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := MustSnapshot(t, e)
			e.MustError(t, tt.method, tt.path, e.root, tt.body, http.StatusBadRequest, "invalid", tt.field)
			MustUnchanged(t, e, before)
		})
	}
}

// TestErrorTable checks the one mapping from domain codes to responses,
// including the codes a healthy test store never produces.
func TestErrorTable(t *testing.T) {
	a := New(nil, nil)
	tests := []struct {
		err       error
		status    int
		code      string
		message   string // substring
		field     string
		header    string
		headerVal string
	}{
		{tokend.Invalid("scopes", "bad scope"), 400, "invalid", "bad scope", "scopes", "", ""},
		// The OAuth side's codes: should one reach the management API, the
		// caller's request is at fault, not the server.
		{tokend.Errorf(tokend.EGRANT, "the code expired"), 400, "invalid_grant", "the code expired", "", "", ""},
		{tokend.Errorf(tokend.EUNSUPPORTED, "no such grant"), 400, "unsupported", "no such grant", "", "", ""},
		{tokend.Errorf(tokend.EUNAUTHORIZED, "no key"), 401, "unauthorized", "no key", "", "WWW-Authenticate", `Bearer realm="tokend"`},
		{tokend.Errorf(tokend.EFORBIDDEN, "nope"), 403, "forbidden", "nope", "", "", ""},
		{tokend.NotFound("token"), 404, "not_found", "token not found", "", "", ""},
		{&tokend.Error{Code: tokend.ECONFLICT, Field: "access_token", Message: "taken"}, 409, "conflict", "taken", "access_token", "", ""},
		{fmt.Errorf("store: %w", &tokend.Error{Code: tokend.EUNAVAILABLE, Message: "disk /var/db locked"}), 503, "unavailable", "retry", "", "Retry-After", "1"},
		{&tokend.Error{Code: tokend.EINTERNAL, Field: "x", Message: "invariant broken at row 7"}, 500, "internal", "internal error", "", "", ""},
		{errors.New("sql: connection refused to 10.0.0.1"), 500, "internal", "internal error", "", "", ""},
		{&tokend.Error{Code: "surprise", Message: "a code nobody mapped"}, 500, "internal", "internal error", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.renderError(w, httptest.NewRequest("GET", "/", nil), tt.err)
			var we wire.Error
			if err := jsonDecodeStrict(w.Body.Bytes(), &we); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if w.Code != tt.status || we.Error != tt.code || we.Field != tt.field || !strings.Contains(we.Message, tt.message) {
				t.Fatalf("%v → %d %+v, want %d %s %q field %q", tt.err, w.Code, we, tt.status, tt.code, tt.message, tt.field)
			}
			if tt.header != "" && w.Header().Get(tt.header) != tt.headerVal {
				t.Errorf("%s = %q, want %q", tt.header, w.Header().Get(tt.header), tt.headerVal)
			}
			for _, leak := range []string{"/var/db", "row 7", "10.0.0.1", "nobody mapped"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body leaks %q: %s", leak, w.Body)
				}
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestStoreFailure closes the store under a running server: the caller
// gets a 503 it may retry, never the driver's words.
func TestStoreFailure(t *testing.T) {
	e := MustEnv(t)
	e.store.Close()
	res := e.Do(t, "GET", "/v1/services", e.root, nil)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "1" {
		t.Fatalf("after closing the store: %s, Retry-After %q", res, res.header.Get("Retry-After"))
	}
	if strings.Contains(strings.ToLower(string(res.body)), "sql") {
		t.Errorf("body leaks the driver's error: %s", res.body)
	}
	if !strings.Contains(e.logs.String(), "request failed") {
		t.Errorf("the failure is not logged:\n%s", e.logs)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := MustFixture(t)
	res := f.e.Do(t, "PUT", f.base, f.e.root, "{}")
	if res.status != http.StatusMethodNotAllowed || !strings.Contains(res.header.Get("Allow"), "GET") {
		t.Fatalf("PUT on tokens: %s, Allow %q", res, res.header.Get("Allow"))
	}
}
