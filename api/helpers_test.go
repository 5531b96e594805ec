package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tokend/tokend/internal/testutil"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/passwd"
	"github.com/tokend/tokend/sqlite"
	"github.com/tokend/tokend/wire"
)

// codeCounter passes everything to the store and counts the codes it
// stored: the Store interface has no way to list codes, and a snapshot
// must still notice a rejected request that wrote one.
type codeCounter struct {
	tokend.Store
	codes atomic.Int64
}

func (s *codeCounter) CreateAuthorizationCode(ctx context.Context, c *tokend.AuthorizationCode) error {
	err := s.Store.CreateAuthorizationCode(ctx, c)
	if err == nil {
		s.codes.Add(1)
	}
	return err
}

// fastHasher is argon2id at the lowest cost: the tests check who may
// set passwords and where they end up, not how slow hashing is.
var fastHasher = passwd.Hasher{Params: passwd.Params{Memory: 64, Time: 1, Threads: 1}}

// env is a running API over a fresh SQLite database.
type env struct {
	url    string
	store  *sqlite.Store
	codes  *codeCounter
	core   *tokend.Core
	clock  *testutil.Clock
	dbPath string
	logs   *testutil.SyncBuffer
	root   string // the bootstrap organization key, holding every permission
}

const baseURL = "https://auth.example.com"

func MustEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "t.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	clk := testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	codes := &codeCounter{Store: store}
	core := tokend.New(codes, tokend.Config{BaseURL: baseURL, Now: clk.Now, Passwords: fastHasher})
	root, err := core.Bootstrap(ctx, "")
	if err != nil {
		tb.Fatalf("Bootstrap: %v", err)
	}
	logs := &testutil.SyncBuffer{}
	mux := http.NewServeMux()
	// No failure limit: the tests send bad keys by the dozen from one
	// address; TestAuthFailureLimit checks the limit.
	New(core, slog.New(slog.NewJSONHandler(logs, nil))).UseLimiter(authlimit.New(authlimit.Options{Address: authlimit.Limit{Burst: -1}})).Register(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &env{url: srv.URL, store: store, codes: codes, core: core, clock: clk, dbPath: path, logs: logs, root: root}
}

// result is a finished HTTP exchange.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// Do sends a request. body is sent as is when it is a string or []byte and
// as JSON otherwise; key is the management key ("" for none).
func (e *env) Do(tb testing.TB, method, path, key string, body any) result {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
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

// MustDo sends a request, checks the status and decodes the body into out
// (when out is not nil).
func (e *env) MustDo(tb testing.TB, method, path, key string, body any, want int, out any) result {
	tb.Helper()
	res := e.Do(tb, method, path, key, body)
	if res.status != want {
		tb.Fatalf("%s %s = %s, want %d", method, path, res, want)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(res.body))
		dec.DisallowUnknownFields() // the server must speak exactly the wire shapes
		if err := dec.Decode(out); err != nil {
			tb.Fatalf("%s %s: decoding %s: %v", method, path, res.body, err)
		}
	}
	return res
}

// MustError checks that a request fails with the given status, code and field.
func (e *env) MustError(tb testing.TB, method, path, key string, body any, status int, code, field string) wire.Error {
	tb.Helper()
	var we wire.Error
	res := e.MustDo(tb, method, path, key, body, status, &we)
	if we.Error != code || we.Field != field {
		tb.Fatalf("%s %s = %s, want error %q field %q", method, path, res, code, field)
	}
	if we.Message == "" {
		tb.Fatalf("%s %s: error without a message", method, path)
	}
	return we
}

func MustService(tb testing.TB, e *env, key string, in wire.ServiceInput) wire.Service {
	tb.Helper()
	var s wire.Service
	e.MustDo(tb, "POST", "/v1/services", key, in, http.StatusCreated, &s)
	return s
}

// MustPhotos creates a service with a few scopes and every common grant.
func MustPhotos(tb testing.TB, e *env, name string) wire.Service {
	tb.Helper()
	return MustService(tb, e, e.root, wire.ServiceInput{
		Name:                ptr(name),
		ScopesSupported:     &[]string{"photos.read", "photos.write", "openid", "profile"},
		GrantTypesSupported: &[]string{"AUTHORIZATION_CODE", "CLIENT_CREDENTIALS", "REFRESH_TOKEN", "PASSWORD", "IMPLICIT"},
	})
}

func MustClient(tb testing.TB, e *env, key string, sid int64, in wire.ClientInput) wire.Client {
	tb.Helper()
	if in.Name == nil {
		in.Name = ptr("app")
	}
	var c wire.Client
	e.MustDo(tb, "POST", fmt.Sprintf("/v1/services/%d/clients", sid), key, in, http.StatusCreated, &c)
	return c
}

// MustKey creates a management key (sid 0: the organization's) and returns
// its raw value.
func MustKey(tb testing.TB, e *env, sid int64, perms ...tokend.Permission) string {
	tb.Helper()
	path := "/v1/keys"
	if sid != 0 {
		path = fmt.Sprintf("/v1/services/%d/keys", sid)
	}
	var k wire.Key
	e.MustDo(tb, "POST", path, e.root, wire.KeyInput{Name: "test", Permissions: strs(perms)}, http.StatusCreated, &k)
	if k.Key == "" {
		tb.Fatalf("key created without its value")
	}
	return k.Key
}

func MustUser(tb testing.TB, e *env, sid int64, in wire.UserInput) wire.User {
	tb.Helper()
	if in.Password == nil {
		in.Password = ptr("correct horse battery")
	}
	var u wire.User
	e.MustDo(tb, "POST", fmt.Sprintf("/v1/services/%d/users", sid), e.root, in, http.StatusCreated, &u)
	return u
}

func MustToken(tb testing.TB, e *env, sid int64, in wire.TokenInput) wire.Token {
	tb.Helper()
	var t wire.Token
	e.MustDo(tb, "POST", fmt.Sprintf("/v1/services/%d/tokens", sid), e.root, in, http.StatusCreated, &t)
	return t
}

func MustTokens(tb testing.TB, e *env, sid int64, query string) wire.TokenList {
	tb.Helper()
	var l wire.TokenList
	e.MustDo(tb, "GET", fmt.Sprintf("/v1/services/%d/tokens?%s", sid, query), e.root, nil, http.StatusOK, &l)
	return l
}

func MustLookup(tb testing.TB, e *env, sid int64, ref wire.TokenLookup) wire.Token {
	tb.Helper()
	var t wire.Token
	e.MustDo(tb, "POST", fmt.Sprintf("/v1/services/%d/tokens/lookup", sid), e.root, ref, http.StatusOK, &t)
	return t
}

func ptr[T any](v T) *T { return &v }

// snapshot is everything the store holds, read through the Store
// interface so it does not depend on the schema.
type snapshot struct {
	Services []*tokend.Service
	Clients  []*tokend.Client
	Keys     []*tokend.Key
	Tokens   []*tokend.Token
	Users    []*tokend.User
	Codes    int64 // codes stored so far
	Audit    []*tokend.AuditEntry
}

func MustSnapshot(tb testing.TB, e *env) snapshot {
	tb.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.Services, err = e.store.ListServices(ctx); err != nil {
		tb.Fatal(err)
	}
	if s.Keys, err = e.store.ListKeys(ctx, -1); err != nil {
		tb.Fatal(err)
	}
	for _, svc := range s.Services {
		cs, err := e.store.ListClients(ctx, tokend.ClientFilter{ServiceID: svc.ID})
		if err != nil {
			tb.Fatal(err)
		}
		s.Clients = append(s.Clients, cs...)
		page, err := e.store.ListTokens(ctx, tokend.TokenFilter{
			ServiceID: svc.ID, Status: tokend.StatusAll, Now: e.clock.Now(),
			OrderBy: tokend.OrderCreatedAt, Limit: tokend.MaxPageSize,
		})
		if err != nil {
			tb.Fatal(err)
		}
		if page.More {
			tb.Fatal("snapshot: more tokens than one page")
		}
		s.Tokens = append(s.Tokens, page.Tokens...)
		users, err := e.store.ListUsers(ctx, svc.ID, 0, tokend.MaxPageSize+1)
		if err != nil {
			tb.Fatal(err)
		}
		if len(users) > tokend.MaxPageSize {
			tb.Fatal("snapshot: more users than one page")
		}
		s.Users = append(s.Users, users...)
	}
	s.Codes = e.codes.codes.Load()
	page, err := e.store.ListAudit(ctx, tokend.AuditFilter{Limit: 100000})
	if err != nil {
		tb.Fatal(err)
	}
	s.Audit = page.Entries
	return s
}

func MustUnchanged(tb testing.TB, e *env, before snapshot) {
	tb.Helper()
	after := MustSnapshot(tb, e)
	if !reflect.DeepEqual(before, after) {
		b, _ := json.Marshal(before)
		a, _ := json.Marshal(after)
		tb.Fatalf("the store changed:\nbefore %s\nafter  %s", b, a)
	}
}

func ids(ts []wire.Token) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func jsonDecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
