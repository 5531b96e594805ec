package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/faultstore"
	"github.com/tokend/tokend/internal/pgtest"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/passwd"
)

// storeKinds are the stores the reliability tests run on: each returns
// the --store URL of a fresh, empty one. PostgreSQL needs a server
// (TOKEND_TEST_POSTGRES, which scripts/test.sh sets); without one its
// subtests are skipped, or fail on CI.
var storeKinds = []struct {
	name string
	url  func(tb testing.TB) string
}{
	{"SQLite", func(tb testing.TB) string { return "sqlite:" + filepath.Join(tb.TempDir(), "tokend.db") }},
	{"PostgreSQL", pgtest.NewDatabase},
}

// mustOpen opens the store a URL names, as serve does, closed when the
// test ends.
func mustOpen(tb testing.TB, url string) *openedStore {
	tb.Helper()
	st, err := openStore(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// surfaces is every HTTP surface of tokend (newHandler, as serve wires
// them) over one store, wrapped so that tests can make it fail, with a
// service, clients, users and keys to call each surface with.
type surfaces struct {
	url      string
	storeURL string
	core     *tokend.Core
	store    closableStore
	faults   *faultstore.Store
	logs     *testutil.SyncBuffer
	// prep sends the requests that prepare probes, from an address of its
	// own, which the failure limit tests leave alone.
	prep *http.Client
	// seen, when set, is shown every answer send reads.
	seen func(res *http.Response, body []byte)

	org         string // the bootstrap key
	svcKey      string // a key of the service with every permission
	svc         *tokend.Service
	conf        *tokend.Client
	confSecret  string
	super       *tokend.Client // first-party, for Kustvakt
	superSecret string
}

const (
	alicePassword = "alice-password-do-not-log"
	surfacesScope = "read"
)

var passportScopes = []string{"iam.oauth.tokens.list.get", "iam.oauth.tokens.get", "iam.oauth.tokens.delete"}

// MustSurfaces starts every surface on 127.0.0.1 over the store a URL
// names, logging at debug level (every line the server would write) into
// s.logs, with the fixtures made.
func MustSurfaces(tb testing.TB, url string) *surfaces {
	tb.Helper()
	ctx := context.Background()
	s := newNode(tb, url)
	var err error
	if s.org, err = s.core.Bootstrap(ctx, ""); err != nil {
		tb.Fatal(err)
	}
	org, err := s.core.AuthenticateKey(ctx, s.org)
	if err != nil {
		tb.Fatal(err)
	}
	scopes := append([]string{surfacesScope}, passportScopes...)
	s.svc, err = s.core.CreateService(ctx, org, tokend.ServiceInput{
		Name: ptr("surfaces"), ScopesSupported: &scopes,
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantClientCredentials, tokend.GrantRefreshToken, tokend.GrantPassword},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if s.conf, s.confSecret, err = s.core.CreateClient(ctx, org, s.svc.ID, tokend.ClientInput{Name: ptr("app")}); err != nil {
		tb.Fatal(err)
	}
	if s.super, s.superSecret, err = s.core.CreateClient(ctx, org, s.svc.ID, tokend.ClientInput{Name: ptr("Kalamar"), FirstParty: ptr(true)}); err != nil {
		tb.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := s.core.CreateUser(ctx, org, s.svc.ID, tokend.UserInput{Username: u, Password: ptr(alicePassword)}); err != nil {
			tb.Fatal(err)
		}
	}
	if _, s.svcKey, err = s.core.CreateKey(ctx, org, s.svc.ID, tokend.KeyInput{Name: "svc", Permissions: []tokend.Permission{tokend.PermAll}}); err != nil {
		tb.Fatal(err)
	}
	return s
}

// newNode starts the surfaces over the store at url: a server of its own,
// with a core and store of its own, as another tokend process would be.
func newNode(tb testing.TB, url string) *surfaces {
	tb.Helper()
	st := mustOpen(tb, url)
	s := &surfaces{storeURL: url, store: st, faults: faultstore.New(st), logs: &testutil.SyncBuffer{}, prep: clientFrom(tb, "127.0.0.3")}
	logger := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.core = tokend.New(s.faults, tokend.Config{
		BaseURL:   "http://127.0.0.1",
		Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}},
	})
	if st.onChange != nil {
		ctx, cancel := context.WithCancel(context.Background())
		tb.Cleanup(cancel)
		if err := st.onChange(ctx, s.core.ApplyChange); err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(newHandler(s.core, logger))
	tb.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// node starts another tokend process on s's store, with s's fixtures.
func (s *surfaces) node(tb testing.TB) *surfaces {
	tb.Helper()
	n := newNode(tb, s.storeURL)
	n.org, n.svcKey, n.svc = s.org, s.svcKey, s.svc
	n.conf, n.confSecret, n.super, n.superSecret = s.conf, s.confSecret, s.super, s.superSecret
	return n
}

// password runs the password grant for user at the token endpoint.
func (s *surfaces) password(tb testing.TB, user string) (access, refresh string) {
	tb.Helper()
	res, body := s.send(tb, s.prep, s.form("/oauth/%d/token", url.Values{
		"grant_type": {"password"}, "username": {user}, "password": {alicePassword}, "scope": {surfacesScope},
	}, s.conf.ClientID, s.confSecret))
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("password grant: %d %s", res.StatusCode, body)
	}
	var tok struct{ AccessToken, RefreshToken string }
	if err := json.Unmarshal(body, &struct {
		A *string `json:"access_token"`
		R *string `json:"refresh_token"`
	}{&tok.AccessToken, &tok.RefreshToken}); err != nil {
		tb.Fatal(err)
	}
	return tok.AccessToken, tok.RefreshToken
}

// form builds a form post to path (formatted with the service id),
// authenticated with HTTP Basic unless id is "".
func (s *surfaces) form(path string, v url.Values, id, secret string) *http.Request {
	if strings.Contains(path, "%d") {
		path = fmt.Sprintf(path, s.svc.ID)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	}
	return req
}

// call builds a request to path (formatted with the service id) with a
// bearer credential and, unless body is nil, a JSON body.
func (s *surfaces) call(method, path, bearer string, body any) *http.Request {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	if strings.Contains(path, "%d") {
		path = fmt.Sprintf(path, s.svc.ID)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

func (s *surfaces) send(tb testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	res, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if s.seen != nil {
		s.seen(res, body)
	}
	return res, body
}

// probe is one request to one surface with valid credentials: it succeeds
// while the store works. prepare runs while the store works too and makes
// what the request needs (a token to revoke, say).
type probe struct {
	name    string
	write   bool // the request writes to the store
	auth    bool // the request authenticates someone (so the failure limit applies)
	want    int  // its status when it succeeds
	prepare func(tb testing.TB, s *surfaces) *http.Request
}

// probes covers every surface: the native API, the OAuth endpoints, and
// the Authlete, Passport and Kustvakt dialects.
var probes = []probe{
	{"API/ListServices", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("GET", "/v1/services", s.org, nil)
	}},
	{"API/ListTokens", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("GET", "/v1/services/%d/tokens?status=all", s.org, nil)
	}},
	{"API/CreateToken", true, true, 201, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("POST", "/v1/services/%d/tokens", s.org, map[string]any{
			"client": s.conf.ClientID, "grant_type": "AUTHORIZATION_CODE", "subject": "carol", "scopes": []string{surfacesScope}})
	}},
	{"API/RevokeToken", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		access, _ := s.password(tb, "alice")
		return s.call("POST", "/v1/services/%d/tokens/revoke", s.org, map[string]any{"token": access})
	}},
	{"API/Audit", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("GET", "/v1/audit", s.org, nil)
	}},
	{"OAuth/Discovery", false, false, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("GET", "/.well-known/oauth-authorization-server/oauth/%d", "", nil)
	}},
	{"OAuth/ClientCredentials", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.form("/oauth/%d/token", url.Values{"grant_type": {"client_credentials"}, "scope": {surfacesScope}}, s.conf.ClientID, s.confSecret)
	}},
	{"OAuth/Refresh", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		_, refresh := s.password(tb, "alice")
		return s.form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, s.conf.ClientID, s.confSecret)
	}},
	{"OAuth/Introspect", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		access, _ := s.password(tb, "alice")
		return s.form("/oauth/%d/introspect", url.Values{"token": {access}}, s.conf.ClientID, s.confSecret)
	}},
	{"OAuth/Revoke", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		access, _ := s.password(tb, "alice")
		return s.form("/oauth/%d/revoke", url.Values{"token": {access}}, s.conf.ClientID, s.confSecret)
	}},
	{"Authlete/TokenList", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("GET", "/api/%d/auth/token/get/list", s.svcKey, nil)
	}},
	{"Authlete/TokenCreate", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("POST", "/api/%d/auth/token/create", s.svcKey, map[string]any{
			"grantType": "AUTHORIZATION_CODE", "clientId": s.conf.ID, "subject": "dave", "scopes": []string{surfacesScope}})
	}},
	{"Authlete/Introspection", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		access, _ := s.password(tb, "alice")
		return s.call("POST", "/api/%d/auth/introspection", s.svcKey, map[string]any{"token": access})
	}},
	{"Authlete/Revocation", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		access, _ := s.password(tb, "alice")
		return s.call("POST", "/api/%d/auth/revocation", s.svcKey, map[string]any{
			"parameters": "token=" + url.QueryEscape(access), "clientId": s.conf.ClientID, "clientSecret": s.confSecret})
	}},
	{"Passport/List", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("GET", "/v1/iam/oauth/tokens?page_params.page_size=5", s.svcKey, nil)
	}},
	{"Passport/Issue", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		return s.call("POST", "/v1/iam/oauth/tokens", "", map[string]any{
			"client_id": s.conf.ClientID, "client_secret": s.confSecret, "grant_type": "client_credentials", "scope": surfacesScope})
	}},
	{"Passport/Delete", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		it, err := s.core.CreateToken(context.Background(), &tokend.Principal{ServiceID: s.svc.ID, Permissions: []tokend.Permission{tokend.PermAll}},
			s.svc.ID, tokend.TokenInput{Client: s.conf.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "erin", Scopes: []string{surfacesScope}})
		if err != nil {
			tb.Fatal(err)
		}
		return s.call("DELETE", fmt.Sprintf("/v1/iam/oauth/tokens/%d", it.Token.ID), s.svcKey, nil)
	}},
	{"Kustvakt/TokenList", false, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		req := s.form("/api/v1.0/oauth2/token/list", url.Values{"super_client_id": {s.super.ClientID},
			"super_client_secret": {s.superSecret}, "token_type": {"access_token"}}, "", "")
		req.SetBasicAuth("alice", alicePassword)
		return req
	}},
	{"Kustvakt/RevokeSuperAll", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		s.password(tb, "bob")
		req := s.form("/api/v1.0/oauth2/revoke/super/all", url.Values{"super_client_id": {s.super.ClientID},
			"super_client_secret": {s.superSecret}, "client_id": {s.conf.ClientID}}, "", "")
		req.SetBasicAuth("bob", alicePassword)
		return req
	}},
	{"Kustvakt/Revoke", true, true, 200, func(tb testing.TB, s *surfaces) *http.Request {
		access, _ := s.password(tb, "alice")
		return s.form("/api/v1.0/oauth2/revoke", url.Values{"token": {access}}, s.conf.ClientID, s.confSecret)
	}},
}

// clientFrom returns an HTTP client whose connections come from ip, so a
// test on loopback can be several addresses.
func clientFrom(tb testing.TB, ip string) *http.Client {
	tb.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func ptr[T any](v T) *T { return &v }

// TestProbesSucceed makes sure every probe succeeds on a working store,
// so that a failure the other tests see is the fault they inject.
func TestProbesSucceed(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			for _, p := range probes {
				t.Run(p.name, func(t *testing.T) {
					res, body := s.send(t, http.DefaultClient, p.prepare(t, s))
					if res.StatusCode != p.want {
						t.Fatalf("%d %s, want %d", res.StatusCode, body, p.want)
					}
				})
			}
		})
	}
}
