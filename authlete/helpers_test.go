package authlete

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// env is the dialect over a fresh SQLite store, served on 127.0.0.1:0.
type env struct {
	url    string
	store  *sqlite.Store
	core   *tokend.Core
	clock  *testutil.Clock
	root   string // the organization key, every permission
	org    *tokend.Principal
	svc    *tokend.Service
	cl     *tokend.Client // confidential; every grant of svc; scopes read, write
	secret string
	pub    *tokend.Client // public; authorization code and refresh
}

func MustEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	clk := testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	core := tokend.New(store, tokend.Config{BaseURL: "https://auth.example.com", Now: clk.Now,
		Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}}})
	root, err := core.Bootstrap(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	org, err := core.AuthenticateKey(ctx, root)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	New(core, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	e := &env{url: srv.URL, store: store, core: core, clock: clk, root: root, org: org}
	e.svc = e.MustService(tb, "photos")
	e.cl, e.secret = e.MustClient(tb, e.svc, tokend.ClientInput{Developer: ptr("acme")})
	e.pub, _ = e.MustClient(tb, e.svc, tokend.ClientInput{Type: ptr(tokend.ClientPublic),
		GrantTypes: &[]tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantRefreshToken}})
	return e
}

func (e *env) MustService(tb testing.TB, name string) *tokend.Service {
	tb.Helper()
	svc, err := e.core.CreateService(context.Background(), e.org, tokend.ServiceInput{
		Name: ptr(name), ScopesSupported: &[]string{"read", "write", "admin"},
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantClientCredentials,
			tokend.GrantRefreshToken, tokend.GrantPassword, tokend.GrantImplicit},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

func (e *env) MustClient(tb testing.TB, svc *tokend.Service, in tokend.ClientInput) (*tokend.Client, string) {
	tb.Helper()
	if in.Name == nil {
		in.Name = ptr("app")
	}
	if in.Scopes == nil {
		in.Scopes = &[]string{"read", "write"}
	}
	cl, secret, err := e.core.CreateClient(context.Background(), e.org, svc.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return cl, secret
}

// MustKey returns a key of service sid (0: the organization) with perms.
func (e *env) MustKey(tb testing.TB, sid int64, perms ...tokend.Permission) string {
	tb.Helper()
	_, raw, err := e.core.CreateKey(context.Background(), e.org, sid, tokend.KeyInput{Name: "test", Permissions: perms})
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// MustIssue mints a token through the core (not the routes under test).
func (e *env) MustIssue(tb testing.TB, in tokend.TokenInput) *tokend.IssuedToken {
	tb.Helper()
	if in.Client == "" {
		in.Client = e.cl.ClientID
	}
	if in.GrantType == "" {
		in.GrantType = tokend.GrantAuthorizationCode
	}
	if in.Subject == "" && in.GrantType.HasSubject() {
		in.Subject = "john"
	}
	it, err := e.core.CreateToken(context.Background(), e.org, e.svc.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

// path is a route of e's service.
func (e *env) path(format string, args ...any) string {
	return fmt.Sprintf("/api/%d/", e.svc.ID) + fmt.Sprintf(format, args...)
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// Do sends a request: body as is when a string, as JSON otherwise.
func (e *env) Do(tb testing.TB, method, path, key string, body any) result {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return result{status: res.StatusCode, header: res.Header, body: data}
}

// obj is a decoded JSON object, for asserting field values.
type obj map[string]any

func (o obj) str(k string) string   { s, _ := o[k].(string); return s }
func (o obj) num(k string) int64    { n, _ := o[k].(float64); return int64(n) }
func (o obj) boolean(k string) bool { b, _ := o[k].(bool); return b }
func (o obj) obj(k string) obj      { m, _ := o[k].(map[string]any); return obj(m) }
func (o obj) strs(k string) []string {
	list, _ := o[k].([]any)
	out := []string{}
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}
func (o obj) objs(k string) []obj {
	list, _ := o[k].([]any)
	var out []obj
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, obj(m))
	}
	return out
}

// MustJSON sends a request, checks the status and decodes the JSON object
// it answers (numbers as float64: every number tokend sends is exact there).
func (e *env) MustJSON(tb testing.TB, method, path, key string, body any, want int) obj {
	tb.Helper()
	res := e.Do(tb, method, path, key, body)
	if res.status != want {
		tb.Fatalf("%s %s = %s, want %d", method, path, res, want)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var out obj
	if err := json.Unmarshal(res.body, &out); err != nil {
		tb.Fatalf("%s %s: decoding %s: %v", method, path, res.body, err)
	}
	return out
}

// MustResult checks a success's resultCode and returns the body.
func (e *env) MustResult(tb testing.TB, method, path, key string, body any, wantCode string) obj {
	tb.Helper()
	out := e.MustJSON(tb, method, path, key, body, http.StatusOK)
	if out.str("resultCode") != wantCode || !strings.HasPrefix(out.str("resultMessage"), "["+wantCode+"] ") {
		tb.Fatalf("%s %s: result %q %q, want code %s", method, path, out.str("resultCode"), out.str("resultMessage"), wantCode)
	}
	return out
}

// MustError checks an error's status, resultCode and that its message
// leads with the field at fault ("" for none).
func (e *env) MustError(tb testing.TB, method, path, key string, body any, status int, code, field string) obj {
	tb.Helper()
	out := e.MustJSON(tb, method, path, key, body, status)
	msg := out.str("resultMessage")
	if out.str("resultCode") != code || !strings.HasPrefix(msg, "["+code+"] ") {
		tb.Fatalf("%s %s = %v, want resultCode %s", method, path, out, code)
	}
	if field != "" && !strings.HasPrefix(msg, "["+code+"] "+field+": ") {
		tb.Fatalf("%s %s: message %q does not name field %q", method, path, msg, field)
	}
	if len(msg) <= len(code)+3 {
		tb.Fatalf("%s %s: an error without a message", method, path)
	}
	return out
}

// snapshot is every token of every service, read through the store.
type snapshot []*tokend.Token

func (e *env) MustSnapshot(tb testing.TB) snapshot {
	tb.Helper()
	ctx := context.Background()
	services, err := e.store.ListServices(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var out snapshot
	for _, svc := range services {
		page, err := e.store.ListTokens(ctx, tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusAll,
			Now: e.clock.Now(), OrderBy: tokend.OrderCreatedAt, Limit: tokend.MaxPageSize})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page.Tokens...)
	}
	return out
}

func (e *env) MustUnchanged(tb testing.TB, before snapshot) {
	tb.Helper()
	if after := e.MustSnapshot(tb); !reflect.DeepEqual(before, after) {
		b, _ := json.Marshal(before)
		a, _ := json.Marshal(after)
		tb.Fatalf("the store changed:\nbefore %s\nafter  %s", b, a)
	}
}

func (e *env) MustToken(tb testing.TB, id int64) *tokend.Token {
	tb.Helper()
	t, err := e.core.GetToken(context.Background(), e.org, e.svc.ID, id)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func hashOf(v string) string { h := tokend.HashSecret(v); return h.String() }
