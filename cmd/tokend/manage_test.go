package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/wire"
)

// apiCall is one request the fake API received.
type apiCall struct {
	Method, URI, Auth, Body string
}

// fakeAPI is an httptest server with hand-written routes standing in for
// tokend's /v1 API; it records every call.
type fakeAPI struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []apiCall
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	exp := t0.Add(time.Hour)
	tokens := []wire.Token{
		{ID: 11, ServiceID: 1, Client: 7, Subject: "alice", GrantType: "AUTHORIZATION_CODE", Status: "active", Scopes: []string{"profile", "email"}, CreatedAt: t0, ExpiresAt: &exp, AccessTokenHash: "h11"},
		{ID: 12, ServiceID: 1, Client: 8, GrantType: "CLIENT_CREDENTIALS", Status: "revoked", CreatedAt: t0, Persistent: true, AccessTokenHash: "h12"},
		{ID: 13, ServiceID: 1, Client: 7, Subject: "bob", GrantType: "PASSWORD", Status: "active", CreatedAt: t0, ExpiresAt: &exp, AccessTokenHash: "h13"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/services/{sid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sid") != "1" {
			apiError(w, 404, "not_found", "service not found", "")
			return
		}
		respond(w, 200, wire.Service{ID: 1, Name: "shop", Issuer: "https://id.example.com", AccessTokenTTL: 3600, RefreshTokenTTL: 2592000, ScopesSupported: []string{"profile", "email"},
			TokenEndpoint: "https://auth.example.com/oauth/1/token", DiscoveryURL: "https://id.example.com/.well-known/oauth-authorization-server", CreatedAt: t0, UpdatedAt: t0})
	})
	mux.HandleFunc("PATCH /v1/services/{sid}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.Service{ID: 3, Name: "shop"})
	})
	mux.HandleFunc("GET /v1/services", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.ServiceList{Services: []wire.Service{
			{ID: 1, Name: "shop", AccessTokenTTL: 3600, RefreshTokenTTL: 5400, ScopesSupported: []string{"a", "b"}, Issuer: "https://a"},
			{ID: 22, Name: "blog-platform", AccessTokenTTL: 90, RefreshTokenTTL: 0, Issuer: "https://b"},
		}})
	})
	mux.HandleFunc("GET /v1/services/{sid}/tokens", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("page_size") == "0" || q.Get("page_size") == "9999" {
			apiError(w, 400, "invalid", "must be between 1 and 1000", "page_size")
			return
		}
		// Two tokens on the first page, the rest on the second.
		if q.Get("page_token") == "" {
			respond(w, 200, wire.TokenList{Tokens: tokens[:2], TotalCount: 3, NextPageToken: "p2"})
			return
		}
		respond(w, 200, wire.TokenList{Tokens: tokens[2:], TotalCount: 3})
	})
	mux.HandleFunc("GET /v1/services/{sid}/tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "11" {
			apiError(w, 404, "not_found", "token not found", "")
			return
		}
		respond(w, 200, tokens[0])
	})
	mux.HandleFunc("POST /v1/services/{sid}/tokens", func(w http.ResponseWriter, r *http.Request) {
		t := tokens[0]
		t.AccessToken, t.RefreshToken = "at_NEWVALUE", "rt_NEWVALUE"
		respond(w, 201, t)
	})
	mux.HandleFunc("POST /v1/services/{sid}/tokens/lookup", func(w http.ResponseWriter, r *http.Request) {
		var in wire.TokenLookup
		json.NewDecoder(r.Body).Decode(&in)
		if in.Token != "at_SECRET" && in.Hash != "h11" {
			apiError(w, 404, "not_found", "token not found", "")
			return
		}
		respond(w, 200, tokens[0])
	})
	mux.HandleFunc("POST /v1/services/{sid}/tokens/revoke", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.RevokeResult{Count: 4})
	})
	mux.HandleFunc("POST /v1/services/{sid}/tokens/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.RevokeResult{Count: 1})
	})
	mux.HandleFunc("DELETE /v1/services/{sid}/tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/services/{sid}/clients/{client}/secret", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.Client{ID: 7, ServiceID: 1, ClientID: r.PathValue("client"), ClientSecret: "cs_SHOWNONCE", Type: "confidential"})
	})
	mux.HandleFunc("GET /v1/services/{sid}/subjects/{subject}/grants", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.GrantList{Subject: r.PathValue("subject"), Grants: []wire.Grant{
			{Client: wire.Client{ID: 7, ClientID: "web", Name: "Web shop"}, Scopes: []string{"profile"}, TokenCount: 2, FirstIssuedAt: t0, LastIssuedAt: t0},
		}})
	})
	mux.HandleFunc("DELETE /v1/services/{sid}/subjects/{subject}/grants/{client}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.RevokeResult{Count: 2})
	})
	mux.HandleFunc("POST /v1/services/{sid}/clients", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 201, wire.Client{ID: 9, ServiceID: 1, ClientID: "generated", ClientSecret: "cs_SHOWNONCE", Type: "confidential"})
	})
	mux.HandleFunc("PATCH /v1/services/{sid}/clients/{client}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, wire.Client{ID: 9, ServiceID: 1, ClientID: r.PathValue("client"), Type: "public"})
	})
	mux.HandleFunc("POST /v1/keys", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 201, wire.Key{ID: 5, Name: "ci", Permissions: []string{"tokens.read"}, Key: "mk_SHOWNONCE", CreatedAt: t0})
	})
	mux.HandleFunc("GET /v1/services/{sid}/keys", func(w http.ResponseWriter, r *http.Request) {
		sid := int64(1)
		respond(w, 200, wire.KeyList{Keys: []wire.Key{{ID: 5, ServiceID: &sid, Name: "ci", Permissions: []string{"tokens.read", "tokens.write"}, CreatedAt: t0}}})
	})
	mux.HandleFunc("GET /v1/services/{sid}/users", func(w http.ResponseWriter, r *http.Request) {
		// One user per page: ann, then bob.
		if r.URL.Query().Get("page_token") == "" {
			respond(w, 200, wire.UserList{Users: []wire.User{{ID: 1, ServiceID: 1, Username: "ann", AccountID: "acct-1", Roles: []string{"admin", "ops"}, CreatedAt: t0}}, NextPageToken: "u2"})
			return
		}
		respond(w, 200, wire.UserList{Users: []wire.User{{ID: 2, ServiceID: 1, Username: "bob", Roles: []string{}, CreatedAt: t0}}})
	})
	user := func(w http.ResponseWriter, r *http.Request, status int) {
		var in wire.UserInput
		json.NewDecoder(r.Body).Decode(&in)
		name := r.PathValue("username")
		if name == "" {
			name = in.Username
		}
		respond(w, status, wire.User{ID: 3, ServiceID: 1, Username: name, Roles: []string{}, CreatedAt: t0, UpdatedAt: t0})
	}
	mux.HandleFunc("POST /v1/services/{sid}/users", func(w http.ResponseWriter, r *http.Request) { user(w, r, 201) })
	mux.HandleFunc("GET /v1/services/{sid}/users/{username}", func(w http.ResponseWriter, r *http.Request) { user(w, r, 200) })
	mux.HandleFunc("PATCH /v1/services/{sid}/users/{username}", func(w http.ResponseWriter, r *http.Request) { user(w, r, 200) })
	mux.HandleFunc("DELETE /v1/services/{sid}/users/{username}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/services/{sid}/authorization-codes", func(w http.ResponseWriter, r *http.Request) {
		var in wire.CodeInput
		json.NewDecoder(r.Body).Decode(&in)
		respond(w, 201, wire.Code{Code: "tkc_SHOWNONCE", ExpiresAt: t0.Add(time.Minute), ExpiresIn: 60, Client: 7, Subject: in.Subject, Scopes: in.Scopes, RedirectURI: in.RedirectURI})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.calls = append(f.calls, apiCall{r.Method, r.RequestURI, r.Header.Get("Authorization"), string(body)})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer mk_test" {
			apiError(w, 401, "unauthorized", "unknown management key", "")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) recorded() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

// env returns a getenv that points the CLI at the fake with a valid key.
func (f *fakeAPI) env() env {
	return envOf(map[string]string{"TOKEND_URL": f.srv.URL, "TOKEND_KEY": "mk_test"})
}

func envOf(m map[string]string) env { return func(k string) string { return m[k] } }

func respond(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg, field string) {
	respond(w, status, wire.Error{Error: code, Message: msg, Field: field})
}

// cli runs the command line through run, as main does.
func cli(getenv env, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, getenv)
	return code, out.String(), errb.String()
}

// blockValue returns the value of key in key: value output, whatever the
// alignment padding.
func blockValue(out, key string) string {
	for line := range strings.Lines(out) {
		if k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ":"); ok && k == key {
			return strings.TrimLeft(v, " ")
		}
	}
	return ""
}

func TestManageTokensListTable(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "tokens", "list", "--service", "1", "--subject", "alice", "--status=all", "--grant-type", "authorization_code")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := "" +
		"ID  CLIENT  SUBJECT  GRANT_TYPE          STATUS   SCOPES         CREATED               EXPIRES\n" +
		"11  7       alice    AUTHORIZATION_CODE  active   profile email  2025-03-01T12:00:00Z  2025-03-01T13:00:00Z\n" +
		"12  8       -        CLIENT_CREDENTIALS  revoked  -              2025-03-01T12:00:00Z  never\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errOut, "showing 2 of 3 tokens") || !strings.Contains(errOut, "--page-token p2") {
		t.Fatalf("stderr = %q, want the paging hint", errOut)
	}
	calls := f.recorded()
	want0 := apiCall{"GET", "/v1/services/1/tokens?grant_type=AUTHORIZATION_CODE&status=all&subject=alice", "Bearer mk_test", ""}
	if len(calls) != 1 || calls[0] != want0 {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestManageTokensListAllJSON(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "tokens", "list", "--all", "--json", "--service", "1", "--created-after", "2025-01-01")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var list wire.TokenList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	var ids []int64
	for _, tok := range list.Tokens {
		ids = append(ids, tok.ID)
	}
	if !reflect.DeepEqual(ids, []int64{11, 12, 13}) || list.NextPageToken != "" || list.TotalCount != 3 {
		t.Fatalf("list = %+v", list)
	}
	if errOut != "" {
		t.Fatalf("stderr = %q", errOut)
	}
	calls := f.recorded()
	if len(calls) != 2 || calls[1].URI != "/v1/services/1/tokens?created_after=2025-01-01T00%3A00%3A00.000Z&page_token=p2" {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestManageServicesTableAndBlock(t *testing.T) {
	f := newFakeAPI(t)
	code, out, _ := cli(f.env(), "", "services", "list")
	want := "" +
		"ID  NAME           ACCESS_TTL  REFRESH_TTL  SCOPES  ISSUER\n" +
		"1   shop           1h          1h30m        a b     https://a\n" +
		"22  blog-platform  1m30s       0s           -       https://b\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}

	code, out, _ = cli(f.env(), "", "services", "get", "1")
	want = "" +
		"id:                1\n" +
		"name:              shop\n" +
		"issuer:            https://id.example.com\n" +
		"access_token_ttl:  1h\n" +
		"refresh_token_ttl: 720h\n" +
		"scopes_supported:  profile email\n" +
		"allow_plain_pkce:  false\n" +
		"token_endpoint:    https://auth.example.com/oauth/1/token\n" +
		"discovery_url:     https://id.example.com/.well-known/oauth-authorization-server\n" +
		"created_at:        2025-03-01T12:00:00Z\n" +
		"updated_at:        2025-03-01T12:00:00Z\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
}

func TestManageJSONIsTheAPIShape(t *testing.T) {
	f := newFakeAPI(t)
	code, out, _ := cli(f.env(), "", "services", "get", "--json", "1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// Seconds stay numbers and names stay snake_case, as the API sends them.
	if got["access_token_ttl"] != 3600.0 || got["name"] != "shop" || got["created_at"] != "2025-03-01T12:00:00Z" {
		t.Fatalf("json = %v", got)
	}
}

func TestManageFlagsAfterArguments(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "tokens", "get", "11", "--service", "9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if blockValue(out, "access_token_hash") != "h11" {
		t.Fatalf("stdout = %q", out)
	}
	if uri := f.recorded()[0].URI; uri != "/v1/services/9/tokens/11" {
		t.Fatalf("URI = %s", uri)
	}
}

func TestManageExitCodes(t *testing.T) {
	f := newFakeAPI(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	tests := []struct {
		name   string
		env    env
		args   []string
		code   int
		stderr string // must contain
		calls  int    // requests the fake must have seen
	}{
		{"unknown verb", f.env(), []string{"tokens", "frobnicate"}, 2, `unknown tokens command "frobnicate"`, 0},
		{"missing verb", f.env(), []string{"clients"}, 2, "usage:\n  tokend clients create", 0},
		{"unknown flag", f.env(), []string{"tokens", "get", "--service", "1", "--bogus", "5"}, 2, "flag provided but not defined: -bogus", 0},
		{"missing argument", f.env(), []string{"tokens", "get", "--service", "1"}, 2, "tokend: missing argument\nusage: tokend tokens get --service SID ID\n", 0},
		{"extra argument", f.env(), []string{"services", "get", "1", "2"}, 2, `unexpected argument "2"`, 0},
		{"missing service", f.env(), []string{"tokens", "get", "11"}, 2, "--service SID is required", 0},
		{"bad id", f.env(), []string{"tokens", "get", "--service", "1", "abc"}, 2, `ID must be a positive number, not "abc"`, 0},
		{"bad duration", f.env(), []string{"services", "create", "--name", "x", "--access-ttl", "1500ms"}, 2, "must be whole seconds", 0},
		{"no key", envOf(map[string]string{"TOKEND_URL": f.srv.URL}), []string{"services", "list"}, 2, "set TOKEND_KEY", 0},
		{"nothing to update", f.env(), []string{"services", "update", "3"}, 2, "nothing to update", 0},
		{"two revoke modes", f.env(), []string{"tokens", "revoke", "--service", "1", "11", "--subject", "bob"}, 2, "name the tokens one way", 0},
		{"help", f.env(), []string{"tokens", "get", "-h"}, 0, "usage: tokend tokens get", 0},
		{"not found", f.env(), []string{"tokens", "get", "--service", "1", "99"}, 1, "tokend: token not found\n", 1},
		{"field error", f.env(), []string{"tokens", "list", "--service", "1", "--page-size", "9999"}, 1, "tokend: must be between 1 and 1000 (field: page_size)\n", 1},
		{"wrong key", envOf(map[string]string{"TOKEND_URL": f.srv.URL, "TOKEND_KEY": "nope"}), []string{"services", "list"}, 1, "tokend: unknown management key\n", 1},
		{"network", envOf(map[string]string{"TOKEND_URL": dead.URL, "TOKEND_KEY": "mk_test"}), []string{"services", "list"}, 1, "connection refused", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.recorded())
			code, out, errOut := cli(tt.env, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("stderr = %q, want it to contain %q", errOut, tt.stderr)
			}
			if tt.code != 0 && out != "" {
				t.Fatalf("stdout on failure = %q", out)
			}
			if n := len(f.recorded()) - before; n != tt.calls {
				t.Fatalf("%d API calls, want %d", n, tt.calls)
			}
		})
	}
}

func TestManageEnvAndFlags(t *testing.T) {
	f := newFakeAPI(t)
	// Flags beat the environment.
	getenv := envOf(map[string]string{"TOKEND_URL": "http://127.0.0.1:1", "TOKEND_KEY": "wrong"})
	code, _, errOut := cli(getenv, "", "services", "list", "--url", f.srv.URL, "--key", "mk_test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Without TOKEND_URL the default address is used.
	code, _, errOut = cli(envOf(map[string]string{"TOKEND_KEY": "k"}), "", "services", "list", "-h")
	if code != 0 || !strings.Contains(errOut, `(default "http://127.0.0.1:8080")`) {
		t.Fatalf("exit %d, help = %q", code, errOut)
	}
	// The key from the environment never shows up in help output.
	code, _, errOut = cli(f.env(), "", "services", "list", "-h")
	if code != 0 || strings.Contains(errOut, "mk_test") {
		t.Fatalf("help leaks the key: %q", errOut)
	}
}

func TestManageTokenStdin(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "at_SECRET\r\nignored second line\n", "tokens", "lookup", "--service", "1", "--token-stdin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if blockValue(out, "id") != "11" || blockValue(out, "subject") != "alice" || strings.Contains(out, "at_SECRET") {
		t.Fatalf("stdout = %q", out)
	}
	code, out, errOut = cli(f.env(), "at_SECRET\n", "tokens", "revoke", "--service", "1", "--token-stdin", "--reason", "leaked")
	if code != 0 || out != "revoked 4 tokens\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	calls := f.recorded()
	want := []apiCall{
		{"POST", "/v1/services/1/tokens/lookup", "Bearer mk_test", `{"token":"at_SECRET"}`},
		{"POST", "/v1/services/1/tokens/revoke", "Bearer mk_test", `{"token":"at_SECRET","reason":"leaked"}`},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("calls:\n got %+v\nwant %+v", calls, want)
	}

	code, _, errOut = cli(f.env(), "\n", "tokens", "lookup", "--service", "1", "--token-stdin")
	if code != 2 || !strings.Contains(errOut, "no token on stdin") {
		t.Fatalf("empty stdin: exit %d, stderr %q", code, errOut)
	}
	// A value given as an argument is refused rather than sent.
	code, _, _ = cli(f.env(), "", "tokens", "lookup", "--service", "1", "at_SECRET")
	if code != 2 || len(f.recorded()) != 2 {
		t.Fatalf("token in argv: exit %d, %d calls", code, len(f.recorded()))
	}
}

func TestManageRevokeModes(t *testing.T) {
	f := newFakeAPI(t)
	for _, args := range [][]string{
		{"tokens", "revoke", "--service", "1", "11"},
		{"tokens", "revoke", "--service", "1", "11", "--reason", "lost phone"},
		{"tokens", "revoke", "--service", "1", "--client", "web", "--subject", "bob"},
		{"tokens", "revoke", "--service", "1", "--hash", "h11", "--json"},
		{"subjects", "revoke", "--service", "1", "bob/x", "web"},
	} {
		if code, _, errOut := cli(f.env(), "", args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	want := []apiCall{
		{"POST", "/v1/services/1/tokens/11/revoke", "Bearer mk_test", `{}`},
		{"POST", "/v1/services/1/tokens/11/revoke", "Bearer mk_test", `{"reason":"lost phone"}`},
		{"POST", "/v1/services/1/tokens/revoke", "Bearer mk_test", `{"client":"web","subject":"bob"}`},
		{"POST", "/v1/services/1/tokens/revoke", "Bearer mk_test", `{"hash":"h11"}`},
		{"DELETE", "/v1/services/1/subjects/bob%2Fx/grants/web", "Bearer mk_test", ""},
	}
	if got := f.recorded(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n got %+v\nwant %+v", got, want)
	}
}

func TestManageSecretsShownOnce(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "tokens", "create", "--service", "1", "--client", "web", "--grant-type", "password",
		"--subject", "alice", "--scopes", "profile, email", "--access-ttl", "15m", "--refresh-ttl", "720h", "--property", "tier=gold", "--hidden-property", "ip=10.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if blockValue(out, "access_token") != "at_NEWVALUE" || blockValue(out, "refresh_token") != "rt_NEWVALUE" {
		t.Fatalf("stdout = %q", out)
	}
	if errOut != "tokend: warning: the access and refresh token is shown only once; store it now\n" {
		t.Fatalf("stderr = %q", errOut)
	}
	wantBody := `{"client":"web","grant_type":"PASSWORD","subject":"alice","scopes":["profile","email"],"access_token_ttl":900,"refresh_token_ttl":2592000,` +
		`"properties":[{"key":"tier","value":"gold"},{"key":"ip","value":"10.0.0.1","hidden":true}]}`
	if body := f.recorded()[0].Body; body != wantBody {
		t.Fatalf("body:\n got %s\nwant %s", body, wantBody)
	}

	// With --json the warning still goes to stderr, keeping stdout parseable.
	code, out, errOut = cli(f.env(), "", "clients", "rotate-secret", "--json", "--service", "1", "web")
	var c wire.Client
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.ClientSecret != "cs_SHOWNONCE" || !strings.Contains(errOut, "client secret is shown only once") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, out, errOut = cli(f.env(), "", "keys", "create", "--name", "ci", "--permissions", "tokens.read", "--ttl", "24h")
	if code != 0 || blockValue(out, "key") != "mk_SHOWNONCE" || !strings.Contains(errOut, "management key is shown only once") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if body := f.recorded()[2].Body; body != `{"name":"ci","permissions":["tokens.read"],"ttl":86400}` {
		t.Fatalf("key body = %s", body)
	}
}

func TestManageUpdateSendsOnlyGivenFlags(t *testing.T) {
	f := newFakeAPI(t)
	code, _, errOut := cli(f.env(), "", "services", "update", "3", "--access-ttl", "90m", "--scopes", "", "--rotate-refresh=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := apiCall{"PATCH", "/v1/services/3", "Bearer mk_test", `{"access_token_ttl":5400,"scopes_supported":[],"refresh_token_policy":{"rotate":false}}`}
	if got := f.recorded()[0]; got != want {
		t.Fatalf("call:\n got %+v\nwant %+v", got, want)
	}
}

func TestManageKeysAndGrantsTables(t *testing.T) {
	f := newFakeAPI(t)
	code, out, _ := cli(f.env(), "", "keys", "list", "--service", "1")
	want := "" +
		"ID  NAME  SERVICE  PERMISSIONS               CREATED               EXPIRES\n" +
		"5   ci    1        tokens.read,tokens.write  2025-03-01T12:00:00Z  -\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
	code, out, _ = cli(f.env(), "", "subjects", "grants", "alice smith", "--service", "1")
	want = "" +
		"CLIENT  CLIENT_ID  NAME      SCOPES   TOKENS  FIRST_ISSUED          LAST_ISSUED\n" +
		"7       web        Web shop  profile  2       2025-03-01T12:00:00Z  2025-03-01T12:00:00Z\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
	if uri := f.recorded()[1].URI; uri != "/v1/services/1/subjects/alice%20smith/grants" {
		t.Fatalf("URI = %s", uri)
	}
}

func TestManageDeleteOutput(t *testing.T) {
	f := newFakeAPI(t)
	code, out, _ := cli(f.env(), "", "tokens", "delete", "--service", "1", "12")
	if code != 0 || out != "deleted token 12\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	// Scripts get silence and the exit status.
	code, out, _ = cli(f.env(), "", "tokens", "delete", "--service", "1", "12", "--json")
	if code != 0 || out != "" {
		t.Fatalf("--json: exit %d, stdout %q", code, out)
	}
}

func TestReorder(t *testing.T) {
	m := &manager{getenv: envOf(nil), stderr: io.Discard, name: "x"}
	fs := m.flags()
	fs.Int64("service", 0, "")
	got := reorder(fs, []string{"5", "--service", "9", "--json", "a", "--url=http://x", "--", "--not-a-flag"})
	want := []string{"--service", "9", "--json", "--url=http://x", "--", "5", "a", "--not-a-flag"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reorder = %q, want %q", got, want)
	}
}

func TestSecondsFlag(t *testing.T) {
	for in, want := range map[string]int64{"90s": 90, "1h": 3600, "720h": 2592000, "45": 45, "0": 0, "1m30s": 90} {
		var f secondsFlag
		if err := f.Set(in); err != nil || f.secs != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, f.secs, err, want)
		}
	}
	for _, in := range []string{"-1s", "-5", "1.5s", "soon", ""} {
		var f secondsFlag
		if err := f.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
	for in, want := range map[int64]string{3600: "1h", 90: "1m30s", 5400: "1h30m", 2592000: "720h", 3601: "1h0m1s", 0: "0s"} {
		if got := fmtSeconds(in); got != want {
			t.Errorf("fmtSeconds(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestManageEveryCommandHasHelp builds every subcommand's flag set, which
// panics on a flag defined twice (a command flag clashing with a global).
func TestManageEveryCommandHasHelp(t *testing.T) {
	for resource, verbs := range manageCommands {
		for verb := range verbs {
			code, _, errOut := cli(envOf(nil), "", resource, verb, "-h")
			if code != 0 || !strings.HasPrefix(errOut, "usage: tokend "+resource+" "+verb+" ") || !strings.Contains(errOut, "-url URL") {
				t.Errorf("%s %s -h: exit %d, stderr %q", resource, verb, code, errOut)
			}
		}
	}
}

func TestManageClientsCreateAndUpdate(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "clients", "create", "--service", "1", "--name", "Web shop", "--type", "confidential",
		"--grant-types", "authorization_code,refresh_token", "--scopes", "profile", "--redirect-uris", "https://shop.example/cb",
		"--first-party", "--client-url", "https://shop.example", "--client-id", "web")
	if code != 0 || blockValue(out, "client_secret") != "cs_SHOWNONCE" || !strings.Contains(errOut, "client secret is shown only once") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = cli(f.env(), "", "clients", "update", "web", "--service", "1", "--first-party=false", "--redirect-uris", "")
	if code != 0 {
		t.Fatalf("update: exit %d: %s", code, errOut)
	}
	want := []apiCall{
		{"POST", "/v1/services/1/clients", "Bearer mk_test", `{"client_id":"web","name":"Web shop","url":"https://shop.example","type":"confidential",` +
			`"grant_types":["AUTHORIZATION_CODE","REFRESH_TOKEN"],"scopes":["profile"],"redirect_uris":["https://shop.example/cb"],"first_party":true}`},
		{"PATCH", "/v1/services/1/clients/web", "Bearer mk_test", `{"redirect_uris":[],"first_party":false}`},
	}
	if got := f.recorded(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n got %+v\nwant %+v", got, want)
	}
}
