package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fuzzenv"
)

// FuzzBodies sends arbitrary bodies and query strings to every route of
// the management API that reads a JSON body or a filter: whatever
// arrives, the answer is a success or an error in the API's shape, never
// a server error.
func FuzzBodies(f *testing.F) {
	e := fuzzenv.New(f)
	mux := http.NewServeMux()
	New(e.Core, slog.New(slog.DiscardHandler)).UseLimiter(e.NoLimits).Register(mux)
	sid := e.Service.ID
	routes := []struct{ method, path string }{
		{"POST", "/v1/services"},
		{"PATCH", fmt.Sprintf("/v1/services/%d", sid)},
		{"POST", fmt.Sprintf("/v1/services/%d/clients", sid)},
		{"PATCH", fmt.Sprintf("/v1/services/%d/clients/%s", sid, e.Client.ClientID)},
		{"POST", fmt.Sprintf("/v1/services/%d/keys", sid)},
		{"POST", fmt.Sprintf("/v1/services/%d/tokens", sid)},
		{"PATCH", fmt.Sprintf("/v1/services/%d/tokens/%d", sid, e.TokenID)},
		{"POST", fmt.Sprintf("/v1/services/%d/tokens/lookup", sid)},
		{"POST", fmt.Sprintf("/v1/services/%d/tokens/revoke", sid)},
		{"POST", fmt.Sprintf("/v1/services/%d/authorization-codes", sid)},
		{"POST", fmt.Sprintf("/v1/services/%d/users", sid)},
		{"PATCH", fmt.Sprintf("/v1/services/%d/users/alice", sid)},
		{"GET", fmt.Sprintf("/v1/services/%d/tokens", sid)},
		{"GET", "/v1/audit"},
		{"GET", fmt.Sprintf("/v1/services/%d/clients", sid)},
	}
	f.Add(uint8(0), "", `{"name":"photos","scopes_supported":["read"]}`)
	f.Add(uint8(2), "", `{"name":"app","type":"PUBLIC","redirect_uris":["https://a/cb"]}`)
	f.Add(uint8(4), "", `{"name":"k","permissions":["tokens.read"],"ttl":60}`)
	f.Add(uint8(5), "", `{"client":"`+e.Client.ClientID+`","grant_type":"AUTHORIZATION_CODE","subject":"bob","scopes":["read"],"properties":[{"key":"k","value":"v"}]}`)
	f.Add(uint8(6), "", `{"scopes":["read"],"access_token_expires_at":"2030-01-01T00:00:00Z","new_access_token":true}`)
	f.Add(uint8(7), "", `{"token":"`+e.AccessToken+`"}`)
	f.Add(uint8(8), "", `{"subject":"bob","reason":"x"}`)
	f.Add(uint8(9), "", `{"client":"`+e.Client.ClientID+`","subject":"a","redirect_uri":"https://a/cb","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}`)
	f.Add(uint8(10), "", `{"username":"carol","password":"long enough password","roles":["x"]}`)
	f.Add(uint8(12), "subject=alice&status=all&order_by=expires_at&order=asc&page_size=2&created_after=2020-01-01T00:00:00Z", "")
	f.Add(uint8(12), "page_token=AQEB&offset=-1", "")
	f.Add(uint8(13), "action=token.revoke&since=2020-01-01T00:00:00Z&page_size=3&order=asc", "")
	f.Add(uint8(14), "page_size=1&page_token=MTI", "")
	f.Fuzz(func(t *testing.T, which uint8, query, body string) {
		r := routes[int(which)%len(routes)]
		target := r.path
		if query != "" {
			target += "?" + query
		}
		if strings.ContainsAny(target, " \t\r\n#") {
			return // not a request line a client can send
		}
		var req *http.Request
		func() {
			defer func() {
				if recover() != nil {
					req = nil // httptest.NewRequest refuses it: so would a client
				}
			}()
			req = httptest.NewRequest(r.method, target, strings.NewReader(body))
		}()
		if req == nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+e.OrgKey)
		req.Header.Set("Content-Type", "application/json")
		rec := fuzzenv.Serve(t, mux, req)
		if rec.Code >= 400 && rec.Code != http.StatusNotFound && !strings.Contains(rec.Body.String(), `"message":"`) {
			t.Fatalf("%s %s: %d without a message: %s", r.method, target, rec.Code, rec.Body)
		}
	})
}
