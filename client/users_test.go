package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

func TestUsers(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	ctx := context.Background()
	// "/" and "%" must travel escaped, as one path segment.
	const name = "ops/alice%41"

	u, err := c.CreateUser(ctx, 1, wire.UserInput{Username: name, Password: ptr("correct horse battery"), Roles: &[]string{"admin"}})
	if err != nil || u.Username != name {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	if u, err := c.GetUser(ctx, 1, name); err != nil || u.Username != name {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	if u, err := c.UpdateUser(ctx, 1, name, wire.UserInput{AccountID: ptr("")}); err != nil || !slices.Equal(u.Roles, []string{"admin"}) {
		t.Fatalf("UpdateUser = %+v, %v", u, err)
	}
	if err := c.DeleteUser(ctx, 1, name); err != nil {
		t.Fatal(err)
	}
	// Names a router would clean away are refused before sending.
	for _, bad := range []string{"", ".", ".."} {
		if _, err := c.GetUser(ctx, 1, bad); !client.IsInvalid(err) {
			t.Errorf("GetUser(%q) = %v, want an invalid error", bad, err)
		}
		if err := c.DeleteUser(ctx, 1, bad); !client.IsInvalid(err) {
			t.Errorf("DeleteUser(%q) = %v, want an invalid error", bad, err)
		}
	}

	want := []request{
		{"POST", "/v1/services/1/users", "Bearer " + testKey, []byte(`{"username":"ops/alice%41","password":"correct horse battery","roles":["admin"]}`)},
		{"GET", "/v1/services/1/users/ops%2Falice%2541", "Bearer " + testKey, []byte{}},
		{"PATCH", "/v1/services/1/users/ops%2Falice%2541", "Bearer " + testKey, []byte(`{"account_id":""}`)},
		{"DELETE", "/v1/services/1/users/ops%2Falice%2541", "Bearer " + testKey, []byte{}},
	}
	got := f.requests()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Method != want[i].Method || got[i].URI != want[i].URI || got[i].Auth != want[i].Auth || string(got[i].Body) != string(want[i].Body) {
			t.Errorf("request %d = %s %s %s, want %s %s %s", i, got[i].Method, got[i].URI, got[i].Body, want[i].Method, want[i].URI, want[i].Body)
		}
	}
}

func TestAllUsers(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	var names []string
	for u, err := range c.AllUsers(context.Background(), 1, client.UserQuery{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, u.Username)
	}
	if !slices.Equal(names, []string{"ann", "ben", "cat", "dan", "eve"}) {
		t.Fatalf("names %v", names)
	}
	var uris []string
	for _, r := range f.requests() {
		uris = append(uris, r.URI)
	}
	if !slices.Equal(uris, []string{"/v1/services/1/users?page_size=2", "/v1/services/1/users?page_size=2&page_token=u2", "/v1/services/1/users?page_size=2&page_token=u4"}) {
		t.Fatalf("URIs %v", uris)
	}
	// Starting from a token resumes there.
	names = nil
	for u, err := range c.AllUsers(context.Background(), 1, client.UserQuery{PageToken: "u4"}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, u.Username)
	}
	if !slices.Equal(names, []string{"eve"}) {
		t.Fatalf("from u4: %v", names)
	}
}

func TestAllUsersRefusesRepeatedPageToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.UserList{Users: []wire.User{{Username: "loop"}}, NextPageToken: "same"})
	}))
	defer srv.Close()
	c := client.New(srv.URL, testKey)
	n, errs := 0, 0
	for _, err := range c.AllUsers(context.Background(), 1, client.UserQuery{}) {
		if err != nil {
			errs++
			continue
		}
		if n++; n > 10 {
			t.Fatal("the iterator does not stop")
		}
	}
	if n != 2 || errs != 1 {
		t.Fatalf("%d users, %d errors; want 2 and 1", n, errs)
	}
}

func TestCreateAuthorizationCode(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	code, err := c.CreateAuthorizationCode(context.Background(), 1, wire.CodeInput{
		Client: "web", Subject: "alice", Scopes: []string{"openid"}, RedirectURI: "https://app.example/cb", CodeChallenge: "abc",
	})
	if err != nil || code.Code != "tkc_once" || code.ExpiresIn != 60 || code.RedirectURI != "https://app.example/cb" {
		t.Fatalf("code = %+v, %v", code, err)
	}
	r := f.requests()[0]
	want := `{"client":"web","subject":"alice","scopes":["openid"],"redirect_uri":"https://app.example/cb","code_challenge":"abc"}`
	if r.Method != "POST" || r.URI != "/v1/services/1/authorization-codes" || string(r.Body) != want {
		t.Fatalf("request %s %s %s", r.Method, r.URI, r.Body)
	}
}

func TestRevokeTokenReason(t *testing.T) {
	f := newFake(t)
	c := client.New(f.srv.URL, testKey)
	if _, err := c.RevokeToken(context.Background(), 1, 3, wire.RevokeReason{Reason: "stolen laptop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeToken(context.Background(), 1, 4, wire.RevokeReason{}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if string(reqs[0].Body) != `{"reason":"stolen laptop"}` || reqs[0].URI != "/v1/services/1/tokens/3/revoke" || string(reqs[1].Body) != `{}` {
		t.Fatalf("bodies %s, %s", reqs[0].Body, reqs[1].Body)
	}
}
