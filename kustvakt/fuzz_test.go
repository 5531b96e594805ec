package kustvakt

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fuzzenv"
)

// FuzzForms sends arbitrary form bodies and Authorization headers (the
// user's Basic or Bearer credentials, a client's Basic) to every Kustvakt
// route. The answer is a list, an empty 200 or an OAuth error, never a
// server error.
func FuzzForms(f *testing.F) {
	e := fuzzenv.New(f)
	mux := http.NewServeMux()
	New(e.Core, slog.New(slog.DiscardHandler)).UseLimiter(e.NoLimits).Register(mux)
	routes := []string{"token/list", "revoke/super", "revoke/super/all", "revoke", "client/list"}
	super := url.Values{"super_client_id": {e.Client.ClientID}, "super_client_secret": {e.Secret}}
	form := func(extra url.Values) string {
		v := url.Values{}
		for k, vs := range super {
			v[k] = vs
		}
		for k, vs := range extra {
			v[k] = vs
		}
		return v.Encode()
	}
	user := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+e.Password))
	f.Add(uint8(0), user, form(url.Values{"token_type": {"access_token"}}))
	f.Add(uint8(0), "Bearer "+e.AccessToken, form(url.Values{"token_type": {"refresh_token"}, "client_id": {e.Client.ClientID}}))
	f.Add(uint8(1), user, form(url.Values{"token": {e.AccessToken}}))
	f.Add(uint8(2), user, form(url.Values{"client_id": {e.Client.ClientID}}))
	f.Add(uint8(3), "Basic "+base64.StdEncoding.EncodeToString([]byte(e.Client.ClientID+":"+e.Secret)), "token="+url.QueryEscape(e.RefreshToken)+"&token_type=refresh_token")
	f.Add(uint8(4), user, form(url.Values{"filter_by": {"authorized_only"}}))
	f.Add(uint8(0), "Basic %%%", "token_type=x&token_type=y")
	f.Fuzz(func(t *testing.T, which uint8, auth, body string) {
		req := httptest.NewRequest("POST", "/api/v1.0/oauth2/"+routes[int(which)%len(routes)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		rec := fuzzenv.Serve(t, mux, req)
		if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error":"`) {
			t.Fatalf("%s: %d without an error code: %s", req.URL, rec.Code, rec.Body)
		}
	})
}
