package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/console"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/sqlite"
	"github.com/tokend/tokend/wire"
)

// env is the console and the /v1 API over one core on a fresh SQLite
// store, served together as tokend serve serves them.
type env struct {
	url   string
	core  *tokend.Core
	clock *testutil.Clock
	key   string // the bootstrap organization key
	api   *client.Client
	logs  *testutil.SyncBuffer
}

const rootKey = "tokend-console-test-key-0123456789"

func MustEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "c.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	clk := testutil.NewClock(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	core := tokend.New(store, tokend.Config{BaseURL: "http://tokend.test", Now: clk.Now})
	if _, err := core.Bootstrap(ctx, rootKey); err != nil {
		tb.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	mux := http.NewServeMux()
	api.New(core, logger).Register(mux)
	console.New(core, logger, console.Options{Now: clk.Now}).Register(mux)
	srv := httptest.NewServer(httpx.Middleware(logger, mux))
	tb.Cleanup(srv.Close)
	return &env{url: srv.URL, core: core, clock: clk, key: rootKey, api: client.New(srv.URL, rootKey), logs: logs}
}

func ptr[T any](v T) *T { return &v }

// fixture is a service with clients and tokens to look at.
type fixture struct {
	svc      *wire.Service
	app      *wire.Client // third-party app of alice's
	printer  *wire.Client // another
	portal   *wire.Client // the service's own, first-party
	aliceApp []*wire.Token
}

// MustFixture makes service "photos" with three clients and tokens: 30
// of alice's by "Photo Printer" (one per minute, to page through), two by
// "EasyPDF", bob's, and alice's sign-in through the first-party portal.
func MustFixture(tb testing.TB, e *env) *fixture {
	tb.Helper()
	ctx := context.Background()
	svc, err := e.api.CreateService(ctx, wire.ServiceInput{Name: ptr("photos"), Description: ptr("Photo sharing"),
		ScopesSupported: &[]string{"photos.read", "photos.write", "profile"}})
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{svc: svc}
	mk := func(name string, firstParty bool) *wire.Client {
		cl, err := e.api.CreateClient(ctx, svc.ID, wire.ClientInput{Name: ptr(name), FirstParty: ptr(firstParty),
			Description: ptr(name + ", a client of photos"), RedirectURIs: &[]string{"https://app.example/cb"}})
		if err != nil {
			tb.Fatal(err)
		}
		return cl
	}
	f.app, f.printer, f.portal = mk("Photo Printer", false), mk("EasyPDF", false), mk("Photos Portal", true)
	mint := func(cl *wire.Client, subject string, scopes ...string) *wire.Token {
		e.clock.Advance(time.Minute)
		t, err := e.api.CreateToken(ctx, svc.ID, wire.TokenInput{Client: cl.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: subject, Scopes: scopes})
		if err != nil {
			tb.Fatal(err)
		}
		return t
	}
	for range 30 {
		f.aliceApp = append(f.aliceApp, mint(f.app, "alice", "photos.read"))
	}
	mint(f.printer, "alice", "photos.read", "photos.write")
	mint(f.printer, "alice", "profile")
	mint(f.app, "bob", "photos.read")
	return f
}

// signIn returns the alice's access token through the first-party portal.
func (f *fixture) portalToken(tb testing.TB, e *env) string {
	tb.Helper()
	t, err := e.api.CreateToken(context.Background(), f.svc.ID, wire.TokenInput{Client: f.portal.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: "alice", Scopes: []string{"profile"}})
	if err != nil {
		tb.Fatal(err)
	}
	return t.AccessToken
}

// browser is a plain HTTP client with a cookie jar, standing in for a
// browser in the tests that need no rendering.
type browser struct {
	tb  testing.TB
	hc  *http.Client
	url string
}

func (e *env) browser(tb testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, url: e.url, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) response {
	b.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		b.tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(raw)}
}

func (b *browser) get(path string) response { return b.do("GET", path, nil, nil) }

func (b *browser) post(path string, form url.Values) response { return b.do("POST", path, form, nil) }

func (b *browser) mustSignIn(key string) {
	b.tb.Helper()
	if r := b.post("/console/signin", url.Values{"key": {key}}); r.status != http.StatusSeeOther {
		b.tb.Fatalf("sign in: %d %s", r.status, r.body)
	}
}

func servicePath(f *fixture) string { return fmt.Sprintf("/console/services/%d", f.svc.ID) }
