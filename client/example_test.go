package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

// exampleServer stands in for a running tokend so the examples can run:
// service 1 holds three tokens of alice, served one per page, and knows
// one token value.
func exampleServer() *httptest.Server {
	tokens := []wire.Token{
		{ID: 1, ServiceID: 1, Client: 7, Subject: "alice", GrantType: "AUTHORIZATION_CODE", Status: "active", Scopes: []string{"profile"}},
		{ID: 2, ServiceID: 1, Client: 7, Subject: "alice", GrantType: "REFRESH_TOKEN", Status: "active", Scopes: []string{"profile", "email"}},
		{ID: 3, ServiceID: 1, Client: 8, Subject: "alice", GrantType: "PASSWORD", Status: "active", Scopes: []string{"orders"}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/services/1/tokens", func(w http.ResponseWriter, r *http.Request) {
		i := 0
		fmt.Sscan(r.URL.Query().Get("page_token"), &i)
		list := wire.TokenList{Tokens: tokens[i : i+1], TotalCount: len(tokens)}
		if i+1 < len(tokens) {
			list.NextPageToken = fmt.Sprint(i + 1)
		}
		writeJSON(w, 200, list)
	})
	mux.HandleFunc("POST /v1/services/1/tokens/lookup", func(w http.ResponseWriter, r *http.Request) {
		var in wire.TokenLookup
		json.NewDecoder(r.Body).Decode(&in)
		if in.Token != "at_example" {
			writeJSON(w, 404, wire.Error{Error: "not_found", Message: "token not found"})
			return
		}
		writeJSON(w, 200, tokens[1])
	})
	mux.HandleFunc("POST /v1/services/1/tokens/revoke", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, wire.RevokeResult{Count: 3})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, wire.Error{Error: "not_found", Message: "service not found"})
	})
	return httptest.NewServer(mux)
}

func Example() {
	srv := exampleServer()
	defer srv.Close()

	// Real programs read the key from the environment or a secret store.
	c := client.New(srv.URL, os.Getenv("TOKEND_KEY"))
	ctx := context.Background()

	page, err := c.ListTokens(ctx, 1, client.TokenQuery{Subject: "alice", PageSize: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d tokens in all; first page holds token %d\n", page.TotalCount, page.Tokens[0].ID)
	// Output: 3 tokens in all; first page holds token 1
}

func ExampleClient_AllTokens() {
	srv := exampleServer()
	defer srv.Close()
	c := client.New(srv.URL, "mk_example")

	// Pages are fetched as the loop needs them.
	q := client.TokenQuery{Subject: "alice", Status: "active", CreatedAfter: time.Now().Add(-24 * time.Hour)}
	for tok, err := range c.AllTokens(context.Background(), 1, q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.ID, tok.GrantType, strings.Join(tok.Scopes, " "))
	}
	// Output:
	// 1 AUTHORIZATION_CODE profile
	// 2 REFRESH_TOKEN profile email
	// 3 PASSWORD orders
}

func ExampleClient_LookupToken() {
	srv := exampleServer()
	defer srv.Close()
	c := client.New(srv.URL, "mk_example")

	// The value goes in the request body, never in the URL.
	tok, err := c.LookupToken(context.Background(), 1, wire.TokenLookup{Token: "at_example"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.ID, tok.Subject, tok.Status)
	// Output: 2 alice active
}

func ExampleClient_RevokeTokens() {
	srv := exampleServer()
	defer srv.Close()
	c := client.New(srv.URL, "mk_example")

	// Sign alice out of every app of service 1.
	subject := "alice"
	res, err := c.RevokeTokens(context.Background(), 1, wire.RevokeRequest{Subject: &subject, Reason: "password reset"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked", res.Count)
	// Output: revoked 3
}

func ExampleIsNotFound() {
	srv := exampleServer()
	defer srv.Close()
	c := client.New(srv.URL, "mk_example")

	_, err := c.GetService(context.Background(), 42)
	if client.IsNotFound(err) {
		fmt.Println("no such service")
	}
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, e.Message)
	}
	// Output:
	// no such service
	// 404 not_found service not found
}

func ExampleWithHTTPClient() {
	// Bound every call, including slow responses, to ten seconds.
	c := client.New("https://tokend.example.com", os.Getenv("TOKEND_KEY"),
		client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	_ = c
}
