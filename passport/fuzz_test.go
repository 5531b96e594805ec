package passport

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fuzzenv"
)

// FuzzRequests sends arbitrary query strings to Passport's token list (the
// page parameters, filters and snapshot time), arbitrary token ids, and
// arbitrary bodies to its token request. The answer is a page, a token or
// a google.rpc.Status error, never a server error.
func FuzzRequests(f *testing.F) {
	e := fuzzenv.New(f)
	mux := http.NewServeMux()
	New(e.Core, slog.New(slog.DiscardHandler)).UseLimiter(e.NoLimits).Register(mux)
	f.Add(uint8(0), "page_params.page_size=2&page_params.page_number=2&page_params.first_request_timestamp.seconds=1775034000&page_params.first_request_timestamp.nanos=123000000", "")
	f.Add(uint8(0), "grant_flow=GRANT_FLOW_CLIENT_CREDENTIALS&token_status=TOKEN_STATUS_ACTIVE&subject=alice", "")
	f.Add(uint8(0), "page_params.page_size=-1&page_params.first_request_timestamp.nanos=1000000000", "")
	f.Add(uint8(1), "1", "")
	f.Add(uint8(1), "99999999999999999999", "")
	f.Add(uint8(2), "", `{"client_id":"`+e.Client.ClientID+`","client_secret":"`+e.Secret+`","grant_type":"client_credentials","scope":"read"}`)
	f.Add(uint8(3), "1", "")
	f.Fuzz(func(t *testing.T, which uint8, arg, body string) {
		var method, target string
		switch which % 4 {
		case 0:
			method, target = "GET", "/v1/iam/oauth/tokens?"+arg
		case 1:
			method, target = "GET", "/v1/iam/oauth/tokens/"+arg
		case 2:
			method, target = "POST", "/v1/iam/oauth/tokens"
		default:
			method, target = "DELETE", "/v1/iam/oauth/tokens/"+arg
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
			req = httptest.NewRequest(method, target, strings.NewReader(body))
		}()
		if req == nil {
			return
		}
		if which%4 != 2 {
			req.Header.Set("Authorization", "Bearer "+e.ServiceKey)
		}
		req.Header.Set("Content-Type", "application/json")
		rec := fuzzenv.Serve(t, mux, req)
		if rec.Code >= 400 && rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed && !strings.Contains(rec.Body.String(), `"code":`) {
			t.Fatalf("%s %s: %d without a status code: %s", method, target, rec.Code, rec.Body)
		}
	})
}
