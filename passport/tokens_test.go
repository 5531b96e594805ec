package passport

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

func TestGetToken(t *testing.T) {
	e := MustEnv(t)
	getter := e.MustToken(t, ScopeGet)
	lister := e.MustToken(t, ScopeList)
	tok := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "alice", AccountID: "acct"})
	other, err := e.core.CreateService(t.Context(), e.org, tokend.ServiceInput{Name: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	cl, _, err := e.core.CreateClient(t.Context(), e.org, other.ID, tokend.ClientInput{Name: ptr("x")})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := e.core.CreateToken(t.Context(), e.org, other.ID, tokend.TokenInput{Client: cl.ClientID, GrantType: tokend.GrantClientCredentials})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		r := e.Do(t, "GET", "/v1/iam/oauth/tokens/"+id(tok), getter, "")
		var got tokenJSON
		r.decode(t, &got)
		if r.status != 200 || got.TokenID != id(tok) || got.UserID != "alice" || got.AccountID != "acct" || got.GrantFlow != "GRANT_FLOW_PASSWORD" || got.ClientID != e.app.ClientID {
			t.Fatalf("got %s", r)
		}
		if strings.Contains(string(r.body), tok.AccessToken) || strings.Contains(string(r.body), tok.Token.AccessHash.String()) {
			t.Fatal("the answer shows the token's value or hash")
		}
	})
	t.Run("OKServiceKey", func(t *testing.T) {
		r := e.Do(t, "GET", "/v1/iam/oauth/tokens/"+id(tok), e.MustKey(t, e.svc.ID, tokend.PermTokensRead), "")
		if r.status != 200 {
			t.Fatalf("got %s", r)
		}
	})
	for _, tt := range []struct {
		name, path, cred string
		status           int
		code             grpcCode
		want             string
	}{
		{"ErrUnknown", "/v1/iam/oauth/tokens/999999", getter, 404, codeNotFound, "not found"},
		{"ErrOtherServicesToken", "/v1/iam/oauth/tokens/" + id(foreign), getter, 404, codeNotFound, "not found"},
		{"ErrNotANumber", "/v1/iam/oauth/tokens/abc", getter, 400, codeInvalidArgument, paramTokenID},
		{"ErrZero", "/v1/iam/oauth/tokens/0", getter, 400, codeInvalidArgument, paramTokenID},
		{"ErrSigned", "/v1/iam/oauth/tokens/+1", getter, 400, codeInvalidArgument, paramTokenID},
		{"ErrQuery", "/v1/iam/oauth/tokens/" + id(tok) + "?view=full", getter, 400, codeInvalidArgument, "view"},
		{"ErrListScopeIsNotGetScope", "/v1/iam/oauth/tokens/" + id(tok), lister, 401, codeUnauthenticated, ScopeGet},
		{"ErrNoCredentials", "/v1/iam/oauth/tokens/" + id(tok), "", 401, codeUnauthenticated, "credentials"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Do(t, "GET", tt.path, tt.cred, "").wantError(t, tt.status, tt.code, tt.want)
		})
	}
}

func TestDeleteToken(t *testing.T) {
	e := MustEnv(t)
	deleter := e.MustToken(t, ScopeDelete)
	getter := e.MustToken(t, ScopeGet, ScopeList)
	reader := e.MustKey(t, e.svc.ID, tokend.PermTokensRead)
	tok := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "alice"})
	path := "/v1/iam/oauth/tokens/" + id(tok)

	before := e.state(t)
	for _, tt := range []struct {
		name, path, cred string
		status           int
		code             grpcCode
		want             string
	}{
		{"ErrWithoutDeleteScope", path, getter, 401, codeUnauthenticated, ScopeDelete},
		{"ErrKeyWithoutTokensWrite", path, reader, 403, codePermissionDenied, "tokens.write"},
		{"ErrUnknown", "/v1/iam/oauth/tokens/999999", deleter, 404, codeNotFound, "not found"},
		{"ErrNotANumber", "/v1/iam/oauth/tokens/x1", deleter, 400, codeInvalidArgument, paramTokenID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Do(t, "DELETE", tt.path, tt.cred, "").wantError(t, tt.status, tt.code, tt.want)
			e.wantUnchanged(t, before)
		})
	}
	t.Run("OK", func(t *testing.T) {
		r := e.Do(t, "DELETE", path, deleter, "")
		if r.status != 200 || strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("got %s", r)
		}
		var got tokenJSON
		e.Do(t, "GET", path, getter, "").decode(t, &got)
		if got.Status != "TOKEN_STATUS_REVOKED" || got.RevokedAt == nil {
			t.Fatalf("after DELETE: %+v", got)
		}
		// Revoked, not erased: the audit list still has it.
		found, err := e.core.GetToken(t.Context(), e.org, e.svc.ID, tok.Token.ID)
		if err != nil || found.RevokedAt.IsZero() {
			t.Fatalf("stored token: %+v, %v", found, err)
		}
	})
	t.Run("ErrAlreadyRevoked", func(t *testing.T) {
		mid := e.state(t)
		e.Do(t, "DELETE", path, deleter, "").wantError(t, 409, codeAlreadyExists, "already revoked")
		e.wantUnchanged(t, mid)
	})
	t.Run("OKServiceKeyWithTokensWrite", func(t *testing.T) {
		other := e.Mint(t, tokend.TokenInput{GrantType: tokend.GrantPassword, Subject: "bob"})
		r := e.Do(t, "DELETE", "/v1/iam/oauth/tokens/"+id(other), e.MustKey(t, e.svc.ID, tokend.PermTokensWrite), "")
		if r.status != 200 {
			t.Fatalf("got %s", r)
		}
	})
}

func TestIssueToken(t *testing.T) {
	e := MustEnv(t)
	body := func(fields map[string]string) string {
		b, _ := json.Marshal(fields)
		return string(b)
	}
	ok := map[string]string{"client_id": e.auditor.ClientID, "client_secret": e.secret, "grant_type": "client_credentials", "scope": ScopeList + " " + ScopeGet}

	t.Run("OKAndTheTokenLists", func(t *testing.T) {
		r := e.Do(t, "POST", "/v1/iam/oauth/tokens", "", body(ok))
		var got issueResponse
		r.decode(t, &got)
		if r.status != 200 || got.AccessToken == "" || got.TokenType != "Bearer" || got.ExpiresIn == nil || *got.ExpiresIn != 3600 ||
			got.Scope != ScopeList+" "+ScopeGet || got.TokenID == "" || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("got %s", r)
		}
		e.clock.Advance(tokend.SnapshotSettle)
		l := e.MustList(t, got.AccessToken, "")
		if len(l.Tokens) != 1 || l.Tokens[0].TokenID != got.TokenID || l.Tokens[0].GrantFlow != "GRANT_FLOW_CLIENT_CREDENTIALS" || l.Tokens[0].ClientID != e.auditor.ClientID {
			t.Fatalf("the new token lists %+v", l.Tokens)
		}
		if r := e.Do(t, "GET", "/v1/iam/oauth/tokens/"+got.TokenID, got.AccessToken, ""); r.status != 200 {
			t.Fatalf("GET with the new token: %s", r)
		}
	})
	t.Run("OKDefaultScopeIsTheClients", func(t *testing.T) {
		in := map[string]string{"client_id": e.auditor.ClientID, "client_secret": e.secret, "grant_type": "client_credentials"}
		var got issueResponse
		e.Do(t, "POST", "/v1/iam/oauth/tokens", "", body(in)).decode(t, &got)
		if len(strings.Fields(got.Scope)) != len(allScopes) {
			t.Fatalf("scope = %q", got.Scope)
		}
	})

	with := func(k, v string) string {
		m := map[string]string{}
		for key, val := range ok {
			m[key] = val
		}
		if v == "\x00" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return body(m)
	}
	noCC, noCCSecret, err := e.core.CreateClient(t.Context(), e.org, e.svc.ID, tokend.ClientInput{Name: ptr("web"), GrantTypes: &[]tokend.GrantType{tokend.GrantAuthorizationCode}})
	if err != nil {
		t.Fatal(err)
	}
	before := e.state(t)
	for _, tt := range []struct {
		name, body string
		status     int
		code       grpcCode
		want       string
	}{
		{"ErrWrongSecret", with("client_secret", tokend.NewSecret(tokend.KindClientSecret)), 401, codeUnauthenticated, "client authentication failed"},
		{"ErrUnknownClient", with("client_id", "nobody"), 401, codeUnauthenticated, "client authentication failed"},
		{"ErrMissingClientID", with("client_id", "\x00"), 400, codeInvalidArgument, "client_id"},
		{"ErrMissingSecret", with("client_secret", "\x00"), 400, codeInvalidArgument, "client_secret"},
		{"ErrMissingGrantType", with("grant_type", "\x00"), 400, codeInvalidArgument, "grant_type"},
		{"ErrPasswordGrant", with("grant_type", "password"), 400, codeInvalidArgument, "grant_type"},
		{"ErrScopeNotAllowed", with("scope", "admin"), 400, codeInvalidArgument, "scope"},
		{"ErrUnknownField", `{"client_id":"a","client_secret":"b","grant_type":"client_credentials","audience":"x"}`, 400, codeInvalidArgument, "audience"},
		{"ErrNotJSON", `client_id=a`, 400, codeInvalidArgument, "body"},
		{"ErrEmptyBody", ``, 400, codeInvalidArgument, "body"},
		{"ErrClientMayNotUseClientCredentials", body(map[string]string{"client_id": noCC.ClientID, "client_secret": noCCSecret, "grant_type": "client_credentials"}), 403, codePermissionDenied, "client_credentials"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.Do(t, "POST", "/v1/iam/oauth/tokens", "", tt.body).wantError(t, tt.status, tt.code, tt.want)
		})
	}
	e.wantUnchanged(t, before)
	t.Run("ErrQueryString", func(t *testing.T) {
		e.Do(t, "POST", "/v1/iam/oauth/tokens?client_secret=x", "", body(ok)).wantError(t, 400, codeInvalidArgument, "client_secret")
	})
	t.Run("SameClientIDInTwoServicesTheSecretDecides", func(t *testing.T) {
		other, err := e.core.CreateService(t.Context(), e.org, tokend.ServiceInput{Name: ptr("other"), ScopesSupported: &[]string{"x"}})
		if err != nil {
			t.Fatal(err)
		}
		twin, twinSecret, err := e.core.CreateClient(t.Context(), e.org, other.ID, tokend.ClientInput{ClientID: &e.auditor.ClientID, Name: ptr("twin")})
		if err != nil {
			t.Fatal(err)
		}
		var got issueResponse
		e.Do(t, "POST", "/v1/iam/oauth/tokens", "", body(map[string]string{"client_id": twin.ClientID, "client_secret": twinSecret, "grant_type": "client_credentials"})).decode(t, &got)
		tokID, _ := strconv.ParseInt(got.TokenID, 10, 64)
		if _, err := e.core.GetToken(t.Context(), e.org, other.ID, tokID); err != nil || got.Scope != "x" {
			t.Fatalf("the twin's token is not in its service: %+v, %v", got, err)
		}
	})
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := MustEnv(t)
	if r := e.Do(t, "PUT", "/v1/iam/oauth/tokens", "", ""); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %s", r)
	}
}
