package authlete

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fuzzenv"
)

// FuzzRequests sends arbitrary query strings and bodies to the Authlete
// routes: the token list's query parameters, and every JSON body (token
// create, update, revoke and batch, the protocol helpers). The answer is a
// result or an error with a resultCode, never a server error.
func FuzzRequests(f *testing.F) {
	e := fuzzenv.New(f)
	mux := http.NewServeMux()
	New(e.Core, slog.New(slog.DiscardHandler)).UseLimiter(e.NoLimits).Register(mux)
	base := fmt.Sprintf("/api/%d/", e.Service.ID)
	routes := []struct{ method, path string }{
		{"GET", "auth/token/get/list"},
		{"POST", "auth/token/create"},
		{"POST", "auth/token/update"},
		{"POST", "auth/token/revoke"},
		{"POST", "auth/token/create/batch"},
		{"POST", "auth/introspection"},
		{"POST", "auth/introspection/standard"},
		{"POST", "auth/revocation"},
		{"POST", "auth/token"},
		{"GET", "client/authorization/get/list/alice"},
		{"POST", "client/authorization/get/list"},
	}
	f.Add(uint8(0), "subject=alice&start=0&end=5&tokenStatus=ALL&clientIdentifier="+e.Client.ClientID, "")
	f.Add(uint8(0), "start=-1&end=99999999999999999999", "")
	f.Add(uint8(1), "", fmt.Sprintf(`{"grantType":"AUTHORIZATION_CODE","clientId":%d,"subject":"bob","scopes":["read"],"accessTokenDuration":60,"properties":[{"key":"a","value":"b","hidden":true}]}`, e.Client.ID))
	f.Add(uint8(2), "", `{"accessToken":"`+e.AccessToken+`","scopes":["read"],"accessTokenExpiresAt":1999999999000}`)
	f.Add(uint8(3), "", `{"accessTokenIdentifier":"`+e.AccessToken+`"}`)
	f.Add(uint8(4), "dryRun=true", fmt.Sprintf(`[{"grantType":"CLIENT_CREDENTIALS","clientId":%d,"accessToken":"migrated-access-token-0123456789"}]`, e.Client.ID))
	f.Add(uint8(5), "", `{"token":"`+e.AccessToken+`","scopes":["read"],"subject":"alice"}`)
	f.Add(uint8(6), "", `{"parameters":"token=`+e.AccessToken+`&token_type_hint=access_token"}`)
	f.Add(uint8(7), "", `{"parameters":"token=x","clientId":"`+e.Client.ClientID+`","clientSecret":"`+e.Secret+`"}`)
	f.Add(uint8(8), "", `{"parameters":"grant_type=refresh_token&refresh_token=`+e.RefreshToken+`","clientId":"`+e.Client.ClientID+`","clientSecret":"`+e.Secret+`"}`)
	f.Add(uint8(10), "", `{"subject":"alice","developer":"x","start":0,"end":3}`)
	f.Fuzz(func(t *testing.T, which uint8, query, body string) {
		r := routes[int(which)%len(routes)]
		target := base + r.path
		if query != "" {
			target += "?" + query
		}
		if strings.ContainsAny(target, " \t\r\n#") {
			return
		}
		var req *http.Request
		func() {
			defer func() {
				if recover() != nil {
					req = nil
				}
			}()
			req = httptest.NewRequest(r.method, target, strings.NewReader(body))
		}()
		if req == nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+e.ServiceKey)
		req.Header.Set("Content-Type", "application/json")
		rec := fuzzenv.Serve(t, mux, req)
		if rec.Code >= 400 && rec.Code != http.StatusNotFound && !strings.Contains(rec.Body.String(), `"resultCode":"A`) {
			t.Fatalf("%s %s: %d without a resultCode: %s", r.method, target, rec.Code, rec.Body)
		}
	})
}
