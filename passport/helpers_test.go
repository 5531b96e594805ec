package passport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/oauth"
	"github.com/tokend/tokend/sqlite"
)

// env is the Passport dialect and tokend's own OAuth endpoints over a
// fresh SQLite store, served on 127.0.0.1.
type env struct {
	url     string
	core    *tokend.Core
	clock   *testutil.Clock
	org     *tokend.Principal
	svc     *tokend.Service
	auditor *tokend.Client // confidential, client credentials, every Passport scope
	secret  string         // the auditor's
	app     *tokend.Client // mints users' tokens through the management API
}

func ptr[T any](v T) *T { return &v }

var allScopes = []string{ScopeList, ScopeGet, ScopeDelete, "read"}

func MustEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "p.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	clk := testutil.NewClock(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	core := tokend.New(store, tokend.Config{BaseURL: srv.URL, Now: clk.Now})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	New(core, logger).Register(mux)
	oauth.New(core, logger, oauth.Options{Now: clk.Now}).Register(mux)
	raw, err := core.Bootstrap(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	org, err := core.AuthenticateKey(ctx, raw)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := core.CreateService(ctx, org, tokend.ServiceInput{
		Name: ptr("iam"), ScopesSupported: &allScopes,
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantClientCredentials, tokend.GrantAuthorizationCode,
			tokend.GrantPassword, tokend.GrantPreAuthorizedCode, tokend.GrantRefreshToken, tokend.GrantDeviceCode},
	})
	if err != nil {
		tb.Fatal(err)
	}
	auditor, secret, err := core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{
		Name: ptr("auditor"), GrantTypes: &[]tokend.GrantType{tokend.GrantClientCredentials}, Scopes: &allScopes})
	if err != nil {
		tb.Fatal(err)
	}
	app, _, err := core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("app"), Scopes: &[]string{"read"}})
	if err != nil {
		tb.Fatal(err)
	}
	return &env{url: srv.URL, core: core, clock: clk, org: org, svc: svc, auditor: auditor, secret: secret, app: app}
}

// MustToken gets an access token for the auditor from tokend's own token
// endpoint, with the given scopes.
func (e *env) MustToken(tb testing.TB, scopes ...string) string {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}}
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/oauth/%d/token", e.url, e.svc.ID), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.auditor.ClientID, e.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 || body.AccessToken == "" {
		tb.Fatalf("token endpoint: %d %v", res.StatusCode, err)
	}
	return body.AccessToken
}

// MustKey makes a management key of sid (0: the organization).
func (e *env) MustKey(tb testing.TB, sid int64, perms ...tokend.Permission) string {
	tb.Helper()
	_, raw, err := e.core.CreateKey(context.Background(), e.org, sid, tokend.KeyInput{Name: "k", Permissions: perms})
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// Mint stores a token of the app client (or of client, when in.Client is
// set) through the management API.
func (e *env) Mint(tb testing.TB, in tokend.TokenInput) *tokend.IssuedToken {
	tb.Helper()
	if in.Client == "" {
		in.Client = e.app.ClientID
	}
	if in.Scopes == nil && in.Client == e.app.ClientID {
		in.Scopes = []string{"read"}
	}
	it, err := e.core.CreateToken(context.Background(), e.org, e.svc.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// Do sends a request with "Authorization: Bearer cred" (none if cred is "").
func (e *env) Do(tb testing.TB, method, path, cred string, body string) result {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return result{status: res.StatusCode, header: res.Header, body: b}
}

// decode reads the body into v, failing the test if it is not JSON.
func (r result) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("body %s: %v", r, err)
	}
}

// wantError checks an error answer: status, gRPC code, and that the
// message names want.
func (r result) wantError(tb testing.TB, status int, code grpcCode, want string) {
	tb.Helper()
	var body struct {
		Code    grpcCode          `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	}
	r.decode(tb, &body)
	if r.status != status || body.Code != code || !strings.Contains(body.Message, want) || body.Details == nil {
		tb.Fatalf("got %s; want %d, code %d, a message naming %q", r, status, code, want)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
		tb.Fatalf("401 without a Bearer challenge: %q", r.header.Get("WWW-Authenticate"))
	}
}

// listResponse is the list's body.
type listResponse struct {
	Tokens     []tokenJSON `json:"tokens"`
	Pagination struct {
		TotalElements         int `json:"total_elements"`
		TotalPages            int `json:"total_pages"`
		CurrentPage           int `json:"current_page"`
		PageSize              int `json:"page_size"`
		FirstRequestTimestamp struct {
			Seconds int64 `json:"seconds"`
			Nanos   int32 `json:"nanos"`
		} `json:"first_request_timestamp"`
	} `json:"pagination_info"`
}

// MustList lists with the given query and returns the body.
func (e *env) MustList(tb testing.TB, cred, query string) listResponse {
	tb.Helper()
	r := e.Do(tb, "GET", "/v1/iam/oauth/tokens?"+query, cred, "")
	if r.status != http.StatusOK {
		tb.Fatalf("list ?%s: %s", query, r)
	}
	var out listResponse
	r.decode(tb, &out)
	return out
}

func ids(l listResponse) []string {
	out := []string{}
	for _, t := range l.Tokens {
		out = append(out, t.TokenID)
	}
	return out
}

// state is every token of the service, for checking that a refused
// request changed nothing.
func (e *env) state(tb testing.TB) []*tokend.Token {
	tb.Helper()
	l, err := e.core.ListTokens(context.Background(), e.org, e.svc.ID, tokend.TokenQuery{Status: tokend.StatusAll, PageSize: tokend.MaxPageSize})
	if err != nil {
		tb.Fatal(err)
	}
	return l.Tokens
}

func (e *env) wantUnchanged(tb testing.TB, before []*tokend.Token) {
	tb.Helper()
	if after := e.state(tb); !reflect.DeepEqual(before, after) {
		tb.Fatalf("a refused request changed the tokens: %d before, %d after", len(before), len(after))
	}
}
