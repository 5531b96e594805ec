package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tokend/tokend/internal/testutil"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/metrics"
	"github.com/tokend/tokend/passwd"
	"github.com/tokend/tokend/sqlite"
)

// countingStore is the real store with a count of token lookups, to show
// which requests reach the store at all.
type countingStore struct {
	tokend.Store
	lookups atomic.Int64
}

func (s *countingStore) GetTokenByAccessHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	s.lookups.Add(1)
	return s.Store.GetTokenByAccessHash(ctx, h)
}

func (s *countingStore) GetTokenByRefreshHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	s.lookups.Add(1)
	return s.Store.GetTokenByRefreshHash(ctx, h)
}

// env is the OAuth endpoints over a fresh SQLite database, served on
// 127.0.0.1 by httptest.
type env struct {
	url   string
	core  *tokend.Core
	store *countingStore
	clock *testutil.Clock
	logs  *testutil.SyncBuffer
	root  *tokend.Principal // the bootstrap organization key
	key   string            // its raw value
}

func MustEnv(tb testing.TB, opts Options) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	store := &countingStore{Store: db}
	mux := http.NewServeMux()
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	// Wired as tokend serve wires it, metrics included, so that the
	// benchmarks measure what they cost.
	m := metrics.New(prometheus.NewRegistry())
	srv := httptest.NewServer(httpx.Instrument(logger, m, mux))
	tb.Cleanup(srv.Close)
	clk := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	core := tokend.New(m.Store(store), tokend.Config{
		Observer:  m.Observer(),
		BaseURL:   srv.URL,
		Now:       clk.Now,
		Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}},
		Callback:  HTTPPasswordCallback{Timeout: 2 * time.Second},
	})
	key, err := core.Bootstrap(ctx, "")
	if err != nil {
		tb.Fatalf("Bootstrap: %v", err)
	}
	root, err := core.AuthenticateKey(ctx, key)
	if err != nil {
		tb.Fatal(err)
	}
	New(core, logger, opts).Register(mux)
	return &env{url: srv.URL, core: core, store: store, clock: clk, logs: logs, root: root, key: key}
}

var allGrants = []tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantClientCredentials,
	tokend.GrantRefreshToken, tokend.GrantPassword}

// MustService creates a service; unset fields get every grant the token
// endpoint serves and a few scopes.
func MustService(tb testing.TB, e *env, in tokend.ServiceInput) *tokend.Service {
	tb.Helper()
	if in.Name == nil {
		in.Name = ptr("photos")
	}
	if in.ScopesSupported == nil {
		in.ScopesSupported = &[]string{"read", "write", "admin"}
	}
	if in.GrantTypesSupported == nil {
		in.GrantTypesSupported = &allGrants
	}
	svc, err := e.core.CreateService(context.Background(), e.root, in)
	if err != nil {
		tb.Fatalf("CreateService: %v", err)
	}
	return svc
}

const redirectURI = "https://app.example/cb"

// MustClient creates a client (confidential unless in says otherwise) and
// returns it with its secret.
func MustClient(tb testing.TB, e *env, sid int64, in tokend.ClientInput) (*tokend.Client, string) {
	tb.Helper()
	if in.Name == nil {
		in.Name = ptr("app")
	}
	if in.RedirectURIs == nil {
		in.RedirectURIs = &[]string{redirectURI}
	}
	cl, secret, err := e.core.CreateClient(context.Background(), e.root, sid, in)
	if err != nil {
		tb.Fatalf("CreateClient: %v", err)
	}
	return cl, secret
}

func (e *env) endpoint(sid int64, name string) string {
	return fmt.Sprintf("%s/oauth/%d/%s", e.url, sid, name)
}

// result is a finished HTTP exchange.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// oauthErr decodes an RFC 6749 §5.2 error body.
func (r result) oauthErr(tb testing.TB) errorBody {
	tb.Helper()
	var b errorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		tb.Fatalf("not an OAuth error body: %s", r)
	}
	return b
}

// Post sends a form to one of service sid's endpoints; modify may change
// the request (headers) before it goes out.
func (e *env) Post(tb testing.TB, sid int64, name string, f url.Values, modify func(*http.Request)) result {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint(sid, name), strings.NewReader(f.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if modify != nil {
		modify(req)
	}
	return do(tb, http.DefaultClient, req)
}

func (e *env) Get(tb testing.TB, path string) result {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return do(tb, http.DefaultClient, req)
}

func do(tb testing.TB, c *http.Client, req *http.Request) result {
	tb.Helper()
	res, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return result{status: res.StatusCode, header: res.Header, body: body}
}

// MustOAuthError checks status and error code of a response, and the
// caching headers every token-endpoint response carries.
func MustOAuthError(tb testing.TB, r result, status int, code string) errorBody {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("got %s, want %d %s", r, status, code)
	}
	b := r.oauthErr(tb)
	if b.Error != code {
		tb.Fatalf("got %s, want error %q", r, code)
	}
	MustNoStore(tb, r)
	return b
}

func MustNoStore(tb testing.TB, r result) {
	tb.Helper()
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		tb.Fatalf("response %d lacks Cache-Control: no-store / Pragma: no-cache: %v", r.status, r.header)
	}
}

func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func bearer(key string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
}

// tokenBody is a successful token response, decoded strictly.
type tokenBody struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    *int64 `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func MustTokenResponse(tb testing.TB, r result) tokenBody {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("token request: %s", r)
	}
	MustNoStore(tb, r)
	var b tokenBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		tb.Fatalf("decoding %s: %v", r, err)
	}
	return b
}

// Introspect asks the introspection endpoint as the root key.
func (e *env) Introspect(tb testing.TB, sid int64, token string) map[string]any {
	tb.Helper()
	r := e.Post(tb, sid, "introspect", url.Values{"token": {token}}, bearer(e.key))
	if r.status != http.StatusOK {
		tb.Fatalf("introspect: %s", r)
	}
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func (e *env) MustActive(tb testing.TB, sid int64, token string, want bool) {
	tb.Helper()
	got := e.Introspect(tb, sid, token)
	if got["active"] != want {
		tb.Fatalf("introspect: active = %v, want %v (%v)", got["active"], want, got)
	}
	if !want && len(got) != 1 {
		tb.Fatalf("inactive answer must be exactly {\"active\":false}, got %v", got)
	}
}

// oauthConfig is an x/oauth2 configuration for a client of service sid.
func (e *env) oauthConfig(sid int64, id, secret string, style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: id, ClientSecret: secret, Scopes: scopes, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{TokenURL: e.endpoint(sid, "token"), AuthStyle: style},
	}
}

func (e *env) ccConfig(sid int64, id, secret string, style oauth2.AuthStyle, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: id, ClientSecret: secret, Scopes: scopes,
		TokenURL: e.endpoint(sid, "token"), AuthStyle: style,
	}
}

// MustRetrieveError checks that err is the token endpoint's error code.
func MustRetrieveError(tb testing.TB, err error, status int, code string) {
	tb.Helper()
	re, ok := err.(*oauth2.RetrieveError)
	if !ok {
		tb.Fatalf("got %v (%T), want an oauth2.RetrieveError %q", err, err, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code {
		tb.Fatalf("got %d %q (%s), want %d %q", re.Response.StatusCode, re.ErrorCode, re.Body, status, code)
	}
}

// refresh runs a refresh through x/oauth2's TokenSource: a token without an
// access token is never valid, so the source must use the refresh token.
func refresh(cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (any of 127.0.0.0/8 on Linux), to act as another
// source address.
func clientFrom(tb testing.TB, ip string) *http.Client {
	tb.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func ptr[T any](v T) *T { return &v }

// newLoopbackServer serves h on 127.0.0.1 until the test ends.
func newLoopbackServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
