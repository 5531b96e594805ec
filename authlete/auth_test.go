package authlete

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

// routes is every route with a body it would accept, for the checks every
// route must pass the same way.
func (e *env) routes(tb testing.TB) []struct {
	api, method, path string
	body              any
} {
	tb.Helper()
	it := e.MustIssue(tb, tokend.TokenInput{Scopes: []string{"read"}})
	cid := e.cl.ID
	type r = struct {
		api, method, path string
		body              any
	}
	return []r{
		{apiTokenList, "GET", "auth/token/get/list", nil},
		{apiTokenCreate, "POST", "auth/token/create", obj{"grantType": "AUTHORIZATION_CODE", "clientId": cid, "subject": "ann"}},
		{apiTokenBatch, "POST", "auth/token/create/batch", []obj{{"grantType": "AUTHORIZATION_CODE", "clientId": cid, "subject": "ann", "accessToken": "batch-access-value-1"}}},
		{apiTokenBatchStatus, "GET", "auth/token/create/batch/status/nope", nil},
		{apiTokenUpdate, "POST", "auth/token/update", obj{"accessToken": it.AccessToken, "scopes": []string{"write"}}},
		{apiTokenDelete, "DELETE", "auth/token/delete/" + it.AccessToken, nil},
		{apiTokenRevoke, "POST", "auth/token/revoke", obj{"accessTokenIdentifier": it.AccessToken}},
		{apiAuthList, "GET", "client/authorization/get/list/john?subject=john", nil},
		{apiAuthList, "POST", "client/authorization/get/list", obj{"subject": "john"}},
		{apiAuthUpdate, "POST", fmt.Sprintf("client/authorization/update/%d", cid), obj{"subject": "john", "scopes": []string{"write"}}},
		{apiAuthDelete, "DELETE", fmt.Sprintf("client/authorization/delete/%d/john?subject=john", cid), nil},
		{apiAuthDelete, "POST", fmt.Sprintf("client/authorization/delete/%d", cid), obj{"subject": "john"}},
		{apiScopesGet, "GET", fmt.Sprintf("client/granted_scopes/get/%d/john?subject=john", cid), nil},
		{apiScopesGet, "POST", fmt.Sprintf("client/granted_scopes/get/%d", cid), obj{"subject": "john"}},
		{apiScopesDelete, "DELETE", fmt.Sprintf("client/granted_scopes/delete/%d/john?subject=john", cid), nil},
		{apiScopesDelete, "POST", fmt.Sprintf("client/granted_scopes/delete/%d", cid), obj{"subject": "john"}},
		{apiIntrospection, "POST", "auth/introspection", obj{"token": it.AccessToken}},
		{apiStandardIntrospection, "POST", "auth/introspection/standard", obj{"parameters": "token=" + it.AccessToken}},
		{apiRevocation, "POST", "auth/revocation", obj{"parameters": "token=" + it.AccessToken, "clientId": e.cl.ClientID, "clientSecret": e.secret}},
		{apiToken, "POST", "auth/token", obj{"parameters": "grant_type=client_credentials", "clientId": e.cl.ClientID, "clientSecret": e.secret}},
	}
}

// TestEveryRouteRefuses checks, route by route, the refusals that come
// before a route's own work: each in Authlete's error shape, with the
// route's result code, and changing nothing.
func TestEveryRouteRefuses(t *testing.T) {
	e := MustEnv(t)
	other := e.MustService(t, "other")
	otherKey := e.MustKey(t, other.ID, tokend.PermAll)
	noPerm := e.MustKey(t, e.svc.ID, tokend.PermClientsRead)
	for _, rt := range e.routes(t) {
		name := rt.method + " " + strings.SplitN(rt.path, "?", 2)[0]
		t.Run(name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			code := func(suffix string) string { return "A" + rt.api + suffix }
			t.Run("ErrNoKey", func(t *testing.T) {
				out := e.MustError(t, rt.method, e.path("%s", rt.path), "", rt.body, http.StatusUnauthorized, code("401"), "")
				res := e.Do(t, rt.method, e.path("%s", rt.path), "", rt.body)
				if res.header.Get("WWW-Authenticate") == "" {
					t.Fatalf("401 without a challenge: %v", out)
				}
			})
			t.Run("ErrUnknownKey", func(t *testing.T) {
				e.MustError(t, rt.method, e.path("%s", rt.path), "tkk_not-a-key", rt.body, http.StatusUnauthorized, code("401"), "")
			})
			t.Run("ErrKeyWithoutPermission", func(t *testing.T) {
				e.MustError(t, rt.method, e.path("%s", rt.path), noPerm, rt.body, http.StatusForbidden, code("403"), "")
			})
			t.Run("ErrAnotherServicesKey", func(t *testing.T) {
				e.MustError(t, rt.method, e.path("%s", rt.path), otherKey, rt.body, http.StatusNotFound, code("301"), "")
			})
			t.Run("ErrUnknownService", func(t *testing.T) {
				path := fmt.Sprintf("/api/%d/%s", other.ID+1, rt.path)
				e.MustError(t, rt.method, path, e.root, rt.body, http.StatusNotFound, code("301"), "")
			})
			t.Run("ErrServiceNotANumber", func(t *testing.T) {
				e.MustError(t, rt.method, "/api/photos/"+rt.path, e.root, rt.body, http.StatusNotFound, code("301"), "")
			})
			t.Run("ErrUnknownQueryParameter", func(t *testing.T) {
				sep := "?"
				if strings.Contains(rt.path, "?") {
					sep = "&"
				}
				e.MustError(t, rt.method, e.path("%s%sfilter=x", rt.path, sep), e.root, rt.body, http.StatusBadRequest, code("201"), "filter")
			})
			e.MustUnchanged(t, before)
		})
	}
}

func TestErrorShapes(t *testing.T) {
	e := MustEnv(t)
	t.Run("MalformedBodyIs400", func(t *testing.T) {
		out := e.MustError(t, "POST", e.path("auth/token/create"), e.root, `{"grantType":`, http.StatusBadRequest, "A102201", "body")
		if out.str("action") != "BAD_REQUEST" {
			t.Fatalf("create's errors carry action BAD_REQUEST: %v", out)
		}
	})
	t.Run("UnknownFieldIs400", func(t *testing.T) {
		e.MustError(t, "POST", e.path("auth/token/create"), e.root, `{"grantType":"PASSWORD","colour":"red"}`, http.StatusBadRequest, "A102201", "colour")
	})
	t.Run("ProtocolHelpersSayInternalServerErrorWhenTheCallIsWrong", func(t *testing.T) {
		out := e.MustError(t, "POST", e.path("auth/introspection"), e.root, `[]`, http.StatusBadRequest, "A301201", "body")
		if out.str("action") != "INTERNAL_SERVER_ERROR" {
			t.Fatalf("action %q, want INTERNAL_SERVER_ERROR", out.str("action"))
		}
	})
	t.Run("OrganizationAndServiceKeysBothWork", func(t *testing.T) {
		for _, key := range []string{e.root, e.MustKey(t, 0, tokend.PermTokensRead), e.MustKey(t, e.svc.ID, tokend.PermTokensRead)} {
			e.MustResult(t, "GET", e.path("auth/token/get/list"), key, nil, "A101101")
		}
	})
	t.Run("WrongSchemeIs401", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.url+e.path("auth/token/get/list"), nil)
		req.Header.Set("Authorization", "Basic "+e.root)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("Basic scheme: %d, want 401", res.StatusCode)
		}
	})
}
