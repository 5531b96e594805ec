package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

const testKey = "mk_test_key"

// request is what the fake server saw.
type request struct {
	Method string
	URI    string // path and raw query as sent
	Auth   string
	Body   []byte
}

// fake is a hand-written stand-in for the routes the client calls. It
// keeps just enough state to answer, and records every request so tests
// can assert on the exact wire traffic.
type fake struct {
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []request
	tokens []wire.Token
	// failPage makes the token listing answer 503 for this page token.
	failPage string
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{}
	for i := 1; i <= 5; i++ {
		f.tokens = append(f.tokens, wire.Token{ID: int64(i), ServiceID: 1, Client: 7, Subject: "alice", GrantType: "PASSWORD", Status: "active", AccessTokenHash: fmt.Sprintf("hash-%d", i)})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.Health{Status: "ok"})
	})
	mux.HandleFunc("POST /v1/services", func(w http.ResponseWriter, r *http.Request) {
		var in wire.ServiceInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == nil {
			writeJSON(w, 400, wire.Error{Error: "invalid", Message: "name is required", Field: "name"})
			return
		}
		s := wire.Service{ID: 1, Name: *in.Name}
		if in.AccessTokenTTL != nil {
			s.AccessTokenTTL = *in.AccessTokenTTL
		}
		writeJSON(w, 201, s)
	})
	mux.HandleFunc("GET /v1/services/{sid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sid") != "1" {
			writeJSON(w, 404, wire.Error{Error: "not_found", Message: "service not found"})
			return
		}
		writeJSON(w, 200, wire.Service{ID: 1, Name: "shop"})
	})
	mux.HandleFunc("DELETE /v1/services/{sid}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/services/{sid}/clients", func(w http.ResponseWriter, r *http.Request) {
		// Three clients, one per page whatever the page size, so paging is
		// exercised with any query.
		next := map[string]string{"": "c2", "c2": "c3", "c3": ""}
		tok := r.URL.Query().Get("page_token")
		n, ok := next[tok]
		if !ok {
			writeJSON(w, 400, wire.Error{Error: "invalid", Message: "bad page token", Field: "page_token"})
			return
		}
		id := map[string]int64{"": 1, "c2": 2, "c3": 3}[tok]
		writeJSON(w, 200, wire.ClientList{Clients: []wire.Client{{ID: id, ClientID: "app-" + strconv.FormatInt(id, 10)}}, NextPageToken: n})
	})
	mux.HandleFunc("POST /v1/services/{sid}/clients/{client}/secret", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.Client{ID: 7, ClientID: r.PathValue("client"), ClientSecret: "new-secret"})
	})
	mux.HandleFunc("GET /v1/services/{sid}/tokens", f.listTokens)
	mux.HandleFunc("POST /v1/services/{sid}/tokens/lookup", func(w http.ResponseWriter, r *http.Request) {
		var in wire.TokenLookup
		json.NewDecoder(r.Body).Decode(&in)
		if in.Token == "raw-secret-value" || in.Hash == "hash-3" {
			writeJSON(w, 200, f.tokens[2])
			return
		}
		writeJSON(w, 404, wire.Error{Error: "not_found", Message: "token not found"})
	})
	mux.HandleFunc("POST /v1/services/{sid}/tokens/revoke", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.RevokeResult{Count: 2})
	})
	mux.HandleFunc("POST /v1/services/{sid}/tokens/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.RevokeResult{Count: 1})
	})
	mux.HandleFunc("GET /v1/services/{sid}/subjects/{subject}/grants", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.GrantList{Subject: r.PathValue("subject"), Grants: []wire.Grant{{Client: wire.Client{ClientID: "app"}, TokenCount: 2}}})
	})
	mux.HandleFunc("DELETE /v1/services/{sid}/subjects/{subject}/grants/{client}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.RevokeResult{Count: 3})
	})
	mux.HandleFunc("POST /v1/services/{sid}/authorization-codes", func(w http.ResponseWriter, r *http.Request) {
		var in wire.CodeInput
		json.NewDecoder(r.Body).Decode(&in)
		writeJSON(w, 201, wire.Code{Code: "tkc_once", ExpiresIn: 60, Client: 7, Subject: in.Subject, Scopes: in.Scopes, RedirectURI: in.RedirectURI})
	})
	mux.HandleFunc("GET /v1/services/{sid}/users", func(w http.ResponseWriter, r *http.Request) {
		// Two users per page, five in all, page tokens "u<index>".
		names := []string{"ann", "ben", "cat", "dan", "eve"}
		start := 0
		if pt := r.URL.Query().Get("page_token"); pt != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(pt, "u"))
		}
		end := min(start+2, len(names))
		out := wire.UserList{Users: []wire.User{}}
		for i := start; i < end; i++ {
			out.Users = append(out.Users, wire.User{ID: int64(i + 1), Username: names[i]})
		}
		if end < len(names) {
			out.NextPageToken = "u" + strconv.Itoa(end)
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("POST /v1/services/{sid}/users", func(w http.ResponseWriter, r *http.Request) {
		var in wire.UserInput
		json.NewDecoder(r.Body).Decode(&in)
		writeJSON(w, 201, wire.User{ID: 1, ServiceID: 1, Username: in.Username, Roles: []string{}})
	})
	mux.HandleFunc("GET /v1/services/{sid}/users/{username}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.User{ID: 1, ServiceID: 1, Username: r.PathValue("username"), Roles: []string{}})
	})
	mux.HandleFunc("PATCH /v1/services/{sid}/users/{username}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.User{ID: 1, ServiceID: 1, Username: r.PathValue("username"), Roles: []string{"admin"}})
	})
	mux.HandleFunc("DELETE /v1/services/{sid}/users/{username}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.reqs = append(f.reqs, request{Method: r.Method, URI: r.RequestURI, Auth: r.Header.Get("Authorization"), Body: body})
		f.mu.Unlock()
		if r.URL.Path != "/healthz" && r.Header.Get("Authorization") != "Bearer "+testKey {
			writeJSON(w, 401, wire.Error{Error: "unauthorized", Message: "unknown management key"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// listTokens pages f.tokens two at a time by default, with page tokens
// "p<index>", and honours subject, page_size and offset.
func (f *fake) listTokens(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	fail := f.failPage
	all := append([]wire.Token(nil), f.tokens...)
	f.mu.Unlock()
	if fail != "" && q.Get("page_token") == fail {
		writeJSON(w, 503, wire.Error{Error: "unavailable", Message: "store unreachable"})
		return
	}
	var match []wire.Token
	for _, t := range all {
		if s := q.Get("subject"); s == "" || s == t.Subject {
			match = append(match, t)
		}
	}
	size := 2
	if s := q.Get("page_size"); s != "" {
		size, _ = strconv.Atoi(s)
	}
	start := 0
	if pt := q.Get("page_token"); pt != "" {
		if q.Get("offset") != "" {
			writeJSON(w, 400, wire.Error{Error: "invalid", Message: "cannot be combined with page_token", Field: "offset"})
			return
		}
		start, _ = strconv.Atoi(strings.TrimPrefix(pt, "p"))
	} else if o := q.Get("offset"); o != "" {
		start, _ = strconv.Atoi(o)
	}
	start = min(start, len(match))
	end := min(start+size, len(match))
	out := wire.TokenList{Tokens: match[start:end], TotalCount: len(match)}
	if end < len(match) {
		out.NextPageToken = "p" + strconv.Itoa(end)
	}
	writeJSON(w, 200, out)
}

func (f *fake) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func ptr[T any](v T) *T { return &v }

func TestCreateGetDeleteService(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL+"/", testKey) // a trailing slash must not double up
	ctx := context.Background()

	s, err := c.CreateService(ctx, wire.ServiceInput{Name: ptr("shop"), AccessTokenTTL: ptr(int64(3600))})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != 1 || s.Name != "shop" || s.AccessTokenTTL != 3600 {
		t.Fatalf("CreateService = %+v", s)
	}
	if _, err := c.GetService(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteService(ctx, 1); err != nil {
		t.Fatalf("DeleteService on 204: %v", err)
	}

	reqs := f.requests()
	want := []request{
		{Method: "POST", URI: "/v1/services", Auth: "Bearer " + testKey, Body: []byte(`{"name":"shop","access_token_ttl":3600}`)},
		{Method: "GET", URI: "/v1/services/1", Auth: "Bearer " + testKey, Body: []byte{}},
		{Method: "DELETE", URI: "/v1/services/1", Auth: "Bearer " + testKey, Body: []byte{}},
	}
	if !reflect.DeepEqual(reqs, want) {
		t.Fatalf("requests:\n got %q\nwant %q", reqs, want)
	}
}

func TestBaseURLPrefix(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path
		writeJSON(w, 200, wire.Health{Status: "ok"})
	}))
	defer srv.Close()
	h, err := client.New(srv.URL+"/tokend/", "").Health(context.Background())
	if err != nil || h.Status != "ok" {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	if got != "/tokend/healthz" {
		t.Fatalf("path = %q, want /tokend/healthz", got)
	}
}

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        client.Error
		is          error
	}{
		{
			name: "json with field", status: 400, contentType: "application/json",
			body: `{"error":"invalid","message":"must be between 1 and 1000","field":"page_size"}`,
			want: client.Error{Status: 400, Code: "invalid", Message: "must be between 1 and 1000", Field: "page_size"},
			is:   client.ErrInvalid,
		},
		{
			name: "json code wins over status", status: 409, contentType: "application/json",
			body: `{"error":"conflict","message":"client_id is taken","field":"client_id"}`,
			want: client.Error{Status: 409, Code: "conflict", Message: "client_id is taken", Field: "client_id"},
			is:   client.ErrConflict,
		},
		{
			name: "proxy html page", status: 502, contentType: "text/html",
			body: "<html>\n<body>\n\t<h1>Bad   Gateway</h1>\n</body></html>",
			want: client.Error{Status: 502, Code: "unavailable", Message: "502 Bad Gateway: <html> <body> <h1>Bad Gateway</h1> </body></html>"},
			is:   client.ErrUnavailable,
		},
		{
			name: "json of another shape", status: 404, contentType: "application/json",
			body: `{"detail":"nope"}`,
			want: client.Error{Status: 404, Code: "not_found", Message: `404 Not Found: {"detail":"nope"}`},
			is:   client.ErrNotFound,
		},
		{
			name: "empty body, unmapped status", status: 418,
			want: client.Error{Status: 418, Code: "", Message: "418 I'm a teapot"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, err := client.New(srv.URL, testKey).GetService(context.Background(), 1)
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v, want *client.Error", err, err)
			}
			if *e != tt.want {
				t.Fatalf("err = %#v\nwant %#v", *e, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
			// A sentinel of another code must not match.
			if errors.Is(err, client.ErrInternal) {
				t.Errorf("errors.Is(err, ErrInternal) = true for code %q", e.Code)
			}
		})
	}
}

func TestLongForeignBodyIsCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, strings.Repeat("é", 1000))
	}))
	defer srv.Close()
	_, err := client.New(srv.URL, testKey).ListServices(context.Background())
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if len(e.Message) > 300 || !strings.HasSuffix(e.Message, "é…") {
		t.Fatalf("message (%d bytes) = %q", len(e.Message), e.Message)
	}
	if !errors.Is(err, client.ErrInternal) {
		t.Fatalf("500 without JSON: want internal, got %q", e.Code)
	}
}

func TestErrorHelpersAndMessage(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()

	_, err := client.New(f.srv.URL, "wrong").GetService(ctx, 1)
	if !client.IsUnauthorized(err) || client.IsNotFound(err) {
		t.Fatalf("wrong key: err = %v", err)
	}
	_, err = client.New(f.srv.URL, testKey).GetService(ctx, 99)
	if !client.IsNotFound(err) {
		t.Fatalf("missing service: err = %v", err)
	}
	if got, want := err.Error(), "tokend: service not found [404 not_found]"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	_, err = client.New(f.srv.URL, testKey).CreateService(ctx, wire.ServiceInput{})
	if got, want := err.Error(), "tokend: name is required (field: name) [400 invalid]"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if client.IsNotFound(nil) || client.IsNotFound(errors.New("not_found")) {
		t.Fatal("IsNotFound matched a non-*Error")
	}
}

func TestListTokensQueryEncoding(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	q := client.TokenQuery{
		Subject:       "alice smith/1",
		Client:        "web-app",
		GrantType:     "AUTHORIZATION_CODE",
		Scope:         "read:all",
		AccountID:     "acct-1",
		Role:          "admin",
		Status:        "all",
		CreatedAfter:  time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("CET", 3600)),
		CreatedBefore: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		OrderBy:       "expires_at",
		Order:         "desc",
		PageSize:      50,
		Offset:        10,
	}
	if _, err := c.ListTokens(context.Background(), 1, q); err != nil {
		t.Fatal(err)
	}
	// Exactly these parameters, times in UTC with milliseconds.
	want := "/v1/services/1/tokens?account_id=acct-1&client=web-app&created_after=2025-01-02T02%3A04%3A05.600Z" +
		"&created_before=2025-02-01T00%3A00%3A00.000Z&grant_type=AUTHORIZATION_CODE&offset=10&order=desc" +
		"&order_by=expires_at&page_size=50&role=admin&scope=read%3Aall&status=all&subject=alice+smith%2F1"
	if got := f.requests()[0].URI; got != want {
		t.Fatalf("URI:\n got %s\nwant %s", got, want)
	}

	// The zero query sends no parameters at all, leaving the server's defaults.
	if _, err := c.ListTokens(context.Background(), 1, client.TokenQuery{}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[1].URI; got != "/v1/services/1/tokens" {
		t.Fatalf("zero query URI = %s", got)
	}
}

func TestAllTokensAcrossPages(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	var ids []int64
	for tok, err := range c.AllTokens(context.Background(), 1, client.TokenQuery{Subject: "alice", Offset: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tok.ID)
	}
	if want := []int64{2, 3, 4, 5}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids = %v, want %v", ids, want)
	}
	var uris []string
	for _, r := range f.requests() {
		uris = append(uris, r.URI)
	}
	// Offset only on the first page; then the cursor, without offset.
	want := []string{
		"/v1/services/1/tokens?offset=1&subject=alice",
		"/v1/services/1/tokens?page_token=p3&subject=alice",
	}
	if !reflect.DeepEqual(uris, want) {
		t.Fatalf("URIs:\n got %q\nwant %q", uris, want)
	}
}

func TestAllTokensStopsWhenLoopBreaks(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	n := 0
	for _, err := range c.AllTokens(context.Background(), 1, client.TokenQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	// Token 3 is on the second page; the third page must not be fetched.
	if got := len(f.requests()); got != 2 {
		t.Fatalf("%d requests, want 2", got)
	}
}

func TestAllTokensYieldsErrorOnce(t *testing.T) {
	f := newFake(t)
	f.failPage = "p2"
	c := client.New(f.srv.URL, testKey)
	var ids []int64
	var errs []error
	for tok, err := range c.AllTokens(context.Background(), 1, client.TokenQuery{}) {
		if err != nil {
			errs = append(errs, err)
			continue // the iterator must end by itself
		}
		ids = append(ids, tok.ID)
	}
	if !reflect.DeepEqual(ids, []int64{1, 2}) || len(errs) != 1 || !client.IsUnavailable(errs[0]) {
		t.Fatalf("ids = %v, errs = %v", ids, errs)
	}
}

func TestAllTokensRefusesRepeatedPageToken(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, 200, wire.TokenList{Tokens: []wire.Token{{ID: 1}}, NextPageToken: "same"})
	}))
	defer srv.Close()
	var err error
	n := 0
	for _, e := range client.New(srv.URL, testKey).AllTokens(context.Background(), 1, client.TokenQuery{}) {
		if e != nil {
			err = e
		}
		if n++; n > 10 {
			t.Fatal("iterator does not stop")
		}
	}
	if err == nil || calls != 2 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}

func TestAllClients(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	var got []string
	for cl, err := range c.AllClients(context.Background(), 1, client.ClientQuery{PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cl.ClientID)
	}
	if want := []string{"app-1", "app-2", "app-3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("clients = %v, want %v", got, want)
	}
	if uri := f.requests()[2].URI; uri != "/v1/services/1/clients?page_size=1&page_token=c3" {
		t.Fatalf("third URI = %s", uri)
	}
}

// TestSecretsStayOutOfURLs drives every call that carries a token value or
// hash and checks each reaches the server in the body only.
func TestSecretsStayOutOfURLs(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	ctx := context.Background()
	const value, hash = "raw-secret-value", "hash-3"

	if tok, err := c.LookupToken(ctx, 1, wire.TokenLookup{Token: value}); err != nil || tok.ID != 3 {
		t.Fatalf("LookupToken(value) = %+v, %v", tok, err)
	}
	if tok, err := c.LookupToken(ctx, 1, wire.TokenLookup{Hash: hash}); err != nil || tok.ID != 3 {
		t.Fatalf("LookupToken(hash) = %+v, %v", tok, err)
	}
	if res, err := c.RevokeTokens(ctx, 1, wire.RevokeRequest{Token: value, Reason: "leaked"}); err != nil || res.Count != 2 {
		t.Fatalf("RevokeTokens = %+v, %v", res, err)
	}
	if _, err := c.RevokeTokens(ctx, 1, wire.RevokeRequest{Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.RevokeToken(ctx, 1, 3, wire.RevokeReason{Reason: "stolen laptop"}); err != nil || res.Count != 1 {
		t.Fatalf("RevokeToken = %+v, %v", res, err)
	}

	reqs := f.requests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if strings.Contains(r.URI, value) || strings.Contains(r.URI, hash) {
			t.Errorf("secret in URL: %s %s", r.Method, r.URI)
		}
		if r.Method != "POST" {
			t.Errorf("%s %s: lookups and revocations must be POSTs", r.Method, r.URI)
		}
	}
	if got := string(reqs[0].Body); got != `{"token":"raw-secret-value"}` {
		t.Errorf("lookup body = %s", got)
	}
	if got := string(reqs[2].Body); got != `{"token":"raw-secret-value","reason":"leaked"}` {
		t.Errorf("revoke body = %s", got)
	}
	if reqs[4].URI != "/v1/services/1/tokens/3/revoke" {
		t.Errorf("revoke by id URI = %s", reqs[4].URI)
	}
}

func TestSubjectPathEscaping(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	ctx := context.Background()
	subject := "user/1 x?y#z%"
	g, err := c.SubjectGrants(ctx, 1, subject)
	if err != nil {
		t.Fatal(err)
	}
	if g.Subject != subject {
		t.Fatalf("server saw subject %q, want %q", g.Subject, subject)
	}
	res, err := c.RevokeSubjectGrant(ctx, 1, subject, "web app")
	if err != nil || res.Count != 3 {
		t.Fatalf("RevokeSubjectGrant = %+v, %v", res, err)
	}
	if uri := f.requests()[1].URI; uri != "/v1/services/1/subjects/user%2F1%20x%3Fy%23z%25/grants/web%20app" {
		t.Fatalf("URI = %s", uri)
	}

	// "." and ".." would be cleaned away by the router and hit another
	// resource, so they are refused before any request goes out.
	for _, bad := range []string{"", ".", ".."} {
		if _, err := c.SubjectGrants(ctx, 1, bad); !client.IsInvalid(err) {
			t.Errorf("SubjectGrants(%q): err = %v", bad, err)
		}
		if err := c.DeleteClient(ctx, 1, bad); !client.IsInvalid(err) {
			t.Errorf("DeleteClient(%q): err = %v", bad, err)
		}
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestRotateClientSecret(t *testing.T) {
	f := newFake(t)
	cl, err := client.New(f.srv.URL, testKey).RotateClientSecret(context.Background(), 1, "web")
	if err != nil || cl.ClientSecret != "new-secret" {
		t.Fatalf("RotateClientSecret = %+v, %v", cl, err)
	}
	if r := f.requests()[0]; r.Method != "POST" || r.URI != "/v1/services/1/clients/web/secret" {
		t.Fatalf("request = %s %s", r.Method, r.URI)
	}
}

func TestContextCancellation(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := client.New(srv.URL, testKey)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.ListTokens(ctx, 1, client.TokenQuery{})
		done <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListTokens did not return after cancel")
	}

	// An iterator over a dead context yields the error instead of looping.
	var errs []error
	for _, err := range c.AllTokens(ctx, 1, client.TokenQuery{}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("AllTokens on canceled ctx yielded %v", errs)
	}
}

func TestWithHTTPClient(t *testing.T) {
	f := newFake(t)
	var seen []string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.Path)
		return http.DefaultTransport.RoundTrip(r)
	})}
	// The answer does not matter, only that the request went through hc.
	client.New(f.srv.URL, testKey, client.WithHTTPClient(hc)).ListServices(context.Background())
	if !reflect.DeepEqual(seen, []string{"/v1/services"}) {
		t.Fatalf("custom transport saw %v", seen)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBadBaseURL(t *testing.T) {
	_, err := client.New("http://[::1", testKey).ListServices(context.Background())
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) {
		t.Fatalf("err = %v", err)
	}
}
