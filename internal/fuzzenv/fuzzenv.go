// Package fuzzenv sets up what the surfaces' fuzz targets send requests
// to: a core on a fresh SQLite store with a service, clients, a user and
// keys, and a limiter that never refuses (the fuzzers fail to
// authenticate on purpose, and must reach what lies behind).
package fuzzenv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/passwd"
	"github.com/tokend/tokend/sqlite"
)

// Env is the fixture; the values are valid credentials for the fuzzers'
// seeds.
type Env struct {
	Core          *tokend.Core
	Org           *tokend.Principal
	OrgKey        string
	ServiceKey    string // a key of Service with every permission
	Service       *tokend.Service
	Client        *tokend.Client // confidential, first-party, every grant of Service
	Secret        string
	AccessToken   string // of Client for alice, scopes of Service
	RefreshToken  string
	TokenID       int64
	Password      string // alice's
	NoLimits      *authlimit.Limiter
	PassportScope string
}

func ptr[T any](v T) *T { return &v }

// New builds the fixture.
func New(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "fuzz.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	e := &Env{Password: "correct horse battery", PassportScope: "iam.oauth.tokens.list.get"}
	e.Core = tokend.New(store, tokend.Config{BaseURL: "http://tokend.test", Passwords: passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}}})
	if e.OrgKey, err = e.Core.Bootstrap(ctx, ""); err != nil {
		tb.Fatal(err)
	}
	if e.Org, err = e.Core.AuthenticateKey(ctx, e.OrgKey); err != nil {
		tb.Fatal(err)
	}
	scopes := []string{"read", "write", e.PassportScope, "iam.oauth.tokens.get", "iam.oauth.tokens.delete"}
	e.Service, err = e.Core.CreateService(ctx, e.Org, tokend.ServiceInput{Name: ptr("fuzz"), ScopesSupported: &scopes,
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantClientCredentials, tokend.GrantRefreshToken, tokend.GrantPassword}})
	if err != nil {
		tb.Fatal(err)
	}
	if e.Client, e.Secret, err = e.Core.CreateClient(ctx, e.Org, e.Service.ID, tokend.ClientInput{Name: ptr("app"), FirstParty: ptr(true)}); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.Core.CreateUser(ctx, e.Org, e.Service.ID, tokend.UserInput{Username: "alice", Password: &e.Password}); err != nil {
		tb.Fatal(err)
	}
	if _, e.ServiceKey, err = e.Core.CreateKey(ctx, e.Org, e.Service.ID, tokend.KeyInput{Name: "svc", Permissions: []tokend.Permission{tokend.PermAll}}); err != nil {
		tb.Fatal(err)
	}
	it, err := e.Core.CreateToken(ctx, e.Org, e.Service.ID, tokend.TokenInput{Client: e.Client.ClientID,
		GrantType: tokend.GrantAuthorizationCode, Subject: "alice", Scopes: scopes})
	if err != nil {
		tb.Fatal(err)
	}
	e.AccessToken, e.RefreshToken, e.TokenID = it.AccessToken, it.RefreshToken, it.Token.ID
	e.NoLimits = authlimit.New(authlimit.Options{Credential: authlimit.Limit{Burst: -1}, Address: authlimit.Limit{Burst: -1}})
	return e
}

// Serve sends req to h and checks the answer every surface owes any
// request: never a server error, and a JSON body (or none). It returns the
// recorded answer.
func Serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
	}
	// The mux's own answers are not the surfaces': plain-text 404 and
	// 405 for unknown routes, and redirects to the cleaned path (/a/./b).
	mux := rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed || rec.Code/100 == 3
	if rec.Body.Len() > 0 && !mux {
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", req.Method, req.URL, rec.Code, rec.Body)
		}
	}
	return rec
}
