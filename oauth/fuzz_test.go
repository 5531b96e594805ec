package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/passwd"
	"github.com/tokend/tokend/sqlite"
)

// FuzzDecodeBasic: RFC 6749 §2.3.1 credentials either decode, and then
// encode back to credentials that decode the same, or are refused.
func FuzzDecodeBasic(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte("app:tks_secret")))
	f.Add(base64.StdEncoding.EncodeToString([]byte("a%3Ab:p%25w")))
	f.Add(base64.StdEncoding.EncodeToString([]byte(":nobody")))
	f.Add("not base64")
	f.Add("")
	f.Fuzz(func(t *testing.T, b64 string) {
		cred, ok := decodeBasic(b64)
		if !ok {
			return
		}
		if cred.ClientID == "" {
			t.Fatalf("decodeBasic(%q) accepted an empty client_id", b64)
		}
		again, ok := decodeBasic(base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(cred.ClientID) + ":" + url.QueryEscape(cred.Secret))))
		if !ok || again != cred {
			t.Fatalf("credentials %+v do not round-trip: %+v %v", cred, again, ok)
		}
	})
}

// FuzzEndpoints sends arbitrary Authorization headers and form bodies to
// the token, introspection and revocation endpoints of a real core and
// store: whatever arrives, the answer is an RFC 6749 JSON error or a
// success, never a server error, and never cacheable.
func FuzzEndpoints(f *testing.F) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	core := tokend.New(db, tokend.Config{BaseURL: "http://tokend.test", Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}}})
	key, err := core.Bootstrap(ctx, "")
	if err != nil {
		f.Fatal(err)
	}
	root, _ := core.AuthenticateKey(ctx, key)
	svc, err := core.CreateService(ctx, root, tokend.ServiceInput{Name: ptr("fuzz"), ScopesSupported: &[]string{"read", "write"}, GrantTypesSupported: &allGrants})
	if err != nil {
		f.Fatal(err)
	}
	cl, secret, err := core.CreateClient(ctx, root, svc.ID, tokend.ClientInput{Name: ptr("app")})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := core.CreateUser(ctx, root, svc.ID, tokend.UserInput{Username: "alice", Password: ptr("correct horse")}); err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	// No failure limit: the fuzzer fails authentication on purpose, and
	// must reach the parsing behind it.
	New(core, slog.New(slog.DiscardHandler), Options{ClientFailures: Limit{Burst: -1}, AddressFailures: Limit{Burst: -1}}).Register(mux)

	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cl.ClientID+":"+secret))
	f.Add(uint8(0), basicAuth, "grant_type=client_credentials&scope=read")
	f.Add(uint8(0), basicAuth, "grant_type=password&username=alice&password=correct+horse")
	f.Add(uint8(0), "", "grant_type=refresh_token&refresh_token=tkr_x&client_id="+cl.ClientID)
	f.Add(uint8(0), basicAuth, "grant_type=authorization_code&code=tkc_x&redirect_uri=https%3A%2F%2Fa&code_verifier=x")
	f.Add(uint8(1), "Bearer "+key, "token=tka_x&token_type_hint=refresh_token")
	f.Add(uint8(1), "Basic !!", "token=")
	f.Add(uint8(2), basicAuth, "token=tkr_abc")
	f.Add(uint8(2), "Basic "+base64.StdEncoding.EncodeToString([]byte("a:b:c")), "token=x&token=y")
	endpoints := []string{"token", "introspect", "revoke"}
	f.Fuzz(func(t *testing.T, which uint8, auth, body string) {
		endpoint := endpoints[int(which)%len(endpoints)]
		req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/oauth/%d/%s", svc.ID, endpoint), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s with %q and %q: %d %s", endpoint, auth, body, rec.Code, rec.Body)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("%s answered %d with Cache-Control %q", endpoint, rec.Code, cc)
		}
		if rec.Code == http.StatusOK && rec.Body.Len() == 0 {
			return // revocation
		}
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%s answered %d with a body that is not JSON: %q", endpoint, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			if code, _ := answer["error"].(string); code == "" {
				t.Fatalf("%s answered %d without an error code: %s", endpoint, rec.Code, rec.Body)
			}
		}
	})
}
