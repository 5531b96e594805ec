package kustvakt

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"github.com/tokend/tokend/passwd"
	"github.com/tokend/tokend/sqlite"
)

// env is the Kustvakt dialect over a fresh SQLite store, on 127.0.0.1,
// with a service holding a super client, two third-party clients and
// two users of the built-in users table.
type env struct {
	url         string
	core        *tokend.Core
	clock       *testutil.Clock
	org         *tokend.Principal
	svc         *tokend.Service
	super       *tokend.Client
	superSecret string
	pdf, r      *tokend.Client // third-party clients
	pdfSecret   string
}

func ptr[T any](v T) *T { return &v }

const alicePassword = "correct horse battery"

func MustEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "k.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	clk := testutil.NewClock(time.Date(2019, 11, 21, 9, 58, 44, 277_000_000, time.UTC))
	core := tokend.New(store, tokend.Config{BaseURL: srv.URL, Now: clk.Now,
		Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}}})
	New(core, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	raw, err := core.Bootstrap(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	org, err := core.AuthenticateKey(ctx, raw)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := core.CreateService(ctx, org, tokend.ServiceInput{
		Name: ptr("korap"), ScopesSupported: &[]string{"search", "match_info"},
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantRefreshToken, tokend.GrantClientCredentials, tokend.GrantPassword},
		RefreshTokenTTL:     ptr(365 * 24 * time.Hour),
	})
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{url: srv.URL, core: core, clock: clk, org: org, svc: svc}
	e.super, e.superSecret = e.mustClient(tb, tokend.ClientInput{Name: ptr("Kalamar"), FirstParty: ptr(true)})
	e.pdf, e.pdfSecret = e.mustClient(tb, tokend.ClientInput{Name: ptr("EasyPDF Exporter"),
		Description: ptr("EasyPDF is a tool for exporting data to PDF."), URL: ptr("https://www.easypdf.org/")})
	e.r, _ = e.mustClient(tb, tokend.ClientInput{Name: ptr("R statistical computing tool"), URL: ptr("https://www.r-project.org/")})
	for _, u := range []string{"alice", "bob"} {
		if _, err := core.CreateUser(ctx, org, svc.ID, tokend.UserInput{Username: u, Password: ptr(alicePassword)}); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

func (e *env) mustClient(tb testing.TB, in tokend.ClientInput) (*tokend.Client, string) {
	tb.Helper()
	cl, secret, err := e.core.CreateClient(context.Background(), e.org, e.svc.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return cl, secret
}

// Mint stores a token of client cl for subject.
func (e *env) Mint(tb testing.TB, cl *tokend.Client, subject string, in tokend.TokenInput) *tokend.IssuedToken {
	tb.Helper()
	in.Client, in.Subject = cl.ClientID, subject
	if in.GrantType == "" {
		in.GrantType = tokend.GrantAuthorizationCode
	}
	if in.Scopes == nil {
		in.Scopes = []string{"match_info", "search"}
	}
	it, err := e.core.CreateToken(context.Background(), e.org, e.svc.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// aliceBasic is the user's credentials as the seed's example sends them.
var aliceBasic = basic("alice", alicePassword)

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// Post sends a form with the given Authorization header ("" for none).
func (e *env) Post(tb testing.TB, path, authorization string, form url.Values) result {
	tb.Helper()
	req, err := http.NewRequest("POST", e.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return do(tb, req)
}

func do(tb testing.TB, req *http.Request) result {
	tb.Helper()
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

// superForm is the super client's credentials plus more fields.
func (e *env) superForm(kv ...string) url.Values {
	f := url.Values{"super_client_id": {e.super.ClientID}, "super_client_secret": {e.superSecret}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// wantError checks Kustvakt's error answer.
func (r result) wantError(tb testing.TB, status int, code, want string) {
	tb.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		tb.Fatalf("body %s: %v", r, err)
	}
	if r.status != status || body.Error != code || !strings.Contains(body.Description, want) {
		tb.Fatalf("got %s; want %d %s naming %q", r, status, code, want)
	}
	if status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
		tb.Fatal("a 401 without WWW-Authenticate")
	}
}

// tokenEntry is one element of the token list, as a client reads it.
type tokenEntry struct {
	Token                  string   `json:"token"`
	CreatedDate            string   `json:"created_date"`
	ExpiresIn              int64    `json:"expires_in"`
	UserAuthenticationTime *string  `json:"user_authentication_time"`
	Scope                  []string `json:"scope"`
	Scopes                 []string `json:"scopes"`
	ClientID               string   `json:"client_id"`
	ClientName             string   `json:"client_name"`
	ClientDescription      string   `json:"client_description"`
	ClientURL              string   `json:"client_url"`
}

// MustList lists alice's tokens of the type.
func (e *env) MustList(tb testing.TB, authorization, tokenType string, kv ...string) []tokenEntry {
	tb.Helper()
	r := e.Post(tb, "/api/v1.0/oauth2/token/list", authorization, e.superForm(append([]string{"token_type", tokenType}, kv...)...))
	if r.status != 200 {
		tb.Fatalf("token/list: %s", r)
	}
	var out []tokenEntry
	if err := json.Unmarshal(r.body, &out); err != nil {
		tb.Fatalf("token/list %s: %v", r, err)
	}
	return out
}

// state is every token of the service, to check a refused request
// changed nothing.
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
		tb.Fatalf("a refused request changed the tokens")
	}
}

func (e *env) revoked(tb testing.TB, id int64) bool {
	tb.Helper()
	t, err := e.core.GetToken(context.Background(), e.org, e.svc.ID, id)
	if err != nil {
		tb.Fatal(err)
	}
	return !t.RevokedAt.IsZero()
}
