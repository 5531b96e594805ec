package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/sqlite"
	"github.com/tokend/tokend/wire"
)

// exampleKey is the organization key of the examples' server.
const exampleKey = "tokend-example-key-0123456789"

// exampleServer runs tokend's real /v1 handlers over a fresh SQLite store
// in a temporary directory, as `tokend serve` would, so that the examples
// show what a server really answers. stop removes everything.
func exampleServer() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "tokend-example-")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "tokend.db"))
	if err != nil {
		log.Fatal(err)
	}
	core := tokend.New(store, tokend.Config{BaseURL: "https://auth.example.com"})
	if _, err := core.Bootstrap(ctx, exampleKey); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(core, slog.New(slog.DiscardHandler)).Register(mux)
	srv := httptest.NewServer(mux)
	return srv.URL, func() {
		srv.Close()
		store.Close()
		os.RemoveAll(dir)
	}
}

// exampleService makes service "photos" with client "Photo Printer" and
// three tokens of alice's and one of bob's, and returns the service's id.
func exampleService(c *client.Client) (sid int64, printer *wire.Client) {
	ctx := context.Background()
	name, cname := "photos", "Photo Printer"
	svc, err := c.CreateService(ctx, wire.ServiceInput{Name: &name, ScopesSupported: &[]string{"photos.read", "photos.write"}})
	if err != nil {
		log.Fatal(err)
	}
	printer, err = c.CreateClient(ctx, svc.ID, wire.ClientInput{Name: &cname})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range []struct {
		subject string
		scopes  []string
	}{{"alice", []string{"photos.read"}}, {"alice", []string{"photos.read", "photos.write"}}, {"alice", []string{"photos.write"}}, {"bob", []string{"photos.read"}}} {
		if _, err := c.CreateToken(ctx, svc.ID, wire.TokenInput{Client: printer.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: t.subject, Scopes: t.scopes}); err != nil {
			log.Fatal(err)
		}
	}
	return svc.ID, printer
}

func Example() {
	url, stop := exampleServer()
	defer stop()

	// Real programs read the key from the environment or a secret store.
	c := client.New(url, exampleKey)
	ctx := context.Background()
	sid, _ := exampleService(c)

	page, err := c.ListTokens(ctx, sid, client.TokenQuery{Subject: "alice", PageSize: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alice holds %d tokens; the first page shows %d, newest first\n", page.TotalCount, len(page.Tokens))
	fmt.Println("more pages:", page.NextPageToken != "")
	// Output:
	// alice holds 3 tokens; the first page shows 2, newest first
	// more pages: true
}

func ExampleClient_AllTokens() {
	url, stop := exampleServer()
	defer stop()
	c := client.New(url, exampleKey)
	sid, _ := exampleService(c)

	// Pages of two are fetched as the loop needs them; the cursor stays
	// stable while tokens are issued or revoked meanwhile.
	q := client.TokenQuery{Subject: "alice", Order: "asc", PageSize: 2}
	for tok, err := range c.AllTokens(context.Background(), sid, q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.ID, tok.Subject, strings.Join(tok.Scopes, " "))
	}
	// Output:
	// 1 alice photos.read
	// 2 alice photos.read photos.write
	// 3 alice photos.write
}

func ExampleClient_LookupToken() {
	url, stop := exampleServer()
	defer stop()
	c := client.New(url, exampleKey)
	ctx := context.Background()
	sid, printer := exampleService(c)
	minted, err := c.CreateToken(ctx, sid, wire.TokenInput{Client: printer.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: "carol"})
	if err != nil {
		log.Fatal(err)
	}

	// The value goes in the request body, never in the URL; the answer
	// shows its hash, never the value.
	tok, err := c.LookupToken(ctx, sid, wire.TokenLookup{Token: minted.AccessToken})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Subject, tok.Status, tok.AccessTokenHash == minted.AccessTokenHash, tok.AccessToken == "")
	// Output: carol active true true
}

func ExampleClient_RevokeTokens() {
	url, stop := exampleServer()
	defer stop()
	c := client.New(url, exampleKey)
	ctx := context.Background()
	sid, _ := exampleService(c)

	// Sign alice out of every app of the service.
	subject := "alice"
	res, err := c.RevokeTokens(ctx, sid, wire.RevokeRequest{Subject: &subject, Reason: "password reset"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked", res.Count)
	left, err := c.ListTokens(ctx, sid, client.TokenQuery{Subject: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active left", left.TotalCount)
	// Output:
	// revoked 3
	// active left 0
}

func ExampleClient_SubjectGrants() {
	url, stop := exampleServer()
	defer stop()
	c := client.New(url, exampleKey)
	ctx := context.Background()
	sid, printer := exampleService(c)

	// The apps connected to alice's account, and cutting one off.
	apps, err := c.SubjectGrants(ctx, sid, "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range apps.Grants {
		fmt.Printf("%s: %s (%d tokens)\n", g.Client.Name, strings.Join(g.Scopes, " "), g.TokenCount)
	}
	res, err := c.RevokeSubjectGrant(ctx, sid, "alice", printer.ClientID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked", res.Count)
	// Output:
	// Photo Printer: photos.read photos.write (3 tokens)
	// revoked 3
}

func ExampleIsNotFound() {
	url, stop := exampleServer()
	defer stop()
	c := client.New(url, exampleKey)

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

// The server's domain errors come back typed: the code, the HTTP status
// and, for a refused request, the field at fault.
func ExampleError() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	admin := client.New(url, exampleKey)
	sid, printer := exampleService(admin)

	_, err := admin.CreateToken(ctx, sid, wire.TokenInput{Client: printer.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: "alice", Scopes: []string{"photos.delete"}})
	var e *client.Error
	if errors.As(err, &e) && client.IsInvalid(err) {
		fmt.Println(e.Status, e.Code, "field:", e.Field)
	}

	// A key that may read tokens but not revoke them.
	ro, err := admin.CreateServiceKey(ctx, sid, wire.KeyInput{Name: "auditor", Permissions: []string{"tokens.read"}})
	if err != nil {
		log.Fatal(err)
	}
	auditor := client.New(url, ro.Key)
	subject := "bob"
	_, err = auditor.RevokeTokens(ctx, sid, wire.RevokeRequest{Subject: &subject})
	fmt.Println("forbidden:", client.IsForbidden(err))
	_, err = client.New(url, "tkk_not-a-key").ListServices(ctx)
	fmt.Println("unauthorized:", client.IsUnauthorized(err))
	// Output:
	// 400 invalid field: scopes
	// forbidden: true
	// unauthorized: true
}

func ExampleWithHTTPClient() {
	url, stop := exampleServer()
	defer stop()

	// Bound every call, including a slow answer, to ten seconds; a context
	// bounds one call.
	c := client.New(url, exampleKey, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ready(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	// Output: ready
}
