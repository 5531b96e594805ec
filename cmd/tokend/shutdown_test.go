package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/sqlite"
)

// TestShutdownDrainsInFlightRequests: a token request in flight when the
// server is asked to stop (its password check held up at the host
// application) is answered, and its token stored, before the server
// stops; meanwhile no new connection is accepted.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	ctx := context.Background()
	hit, release := make(chan struct{}), make(chan struct{})
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(hit)
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"subject":"alice"}`)
	}))
	defer host.Close()

	db := filepath.Join(t.TempDir(), "drain.db")
	stderr := &testutil.SyncBuffer{}
	cfg, err := parseServeFlags("serve", []string{"--addr", "127.0.0.1:0", "--store", "sqlite:" + db}, stderr, mapEnv(map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := startServer(ctx, cfg, stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.shutdown(context.Background()) })
	org, err := s.core.AuthenticateKey(ctx, testKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := s.core.CreateService(ctx, org, tokend.ServiceInput{Name: ptr("drain"), ScopesSupported: &[]string{"read"},
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantPassword}, PasswordCallbackURL: ptr(host.URL)})
	if err != nil {
		t.Fatal(err)
	}
	cl, secret, err := s.core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("app")})
	if err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw"}, "scope": {"read"}}
		req, _ := http.NewRequest("POST", s.url+"/oauth/"+jsonNumber(svc.ID)+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cl.ClientID, secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answered <- answer{status: res.StatusCode, body: string(b)}
	}()
	<-hit // the request is in flight, inside the core

	stopped := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- s.shutdown(sctx)
	}()
	// The listener closes at once: new connections are refused.
	addr := strings.TrimPrefix(s.url, "http://")
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if i == 500 {
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("shutdown returned (%v) with a request in flight", err)
	case a := <-answered:
		t.Fatalf("the request was answered (%+v) before it could finish", a)
	default:
	}

	close(release)
	a := <-answered
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("the in-flight request: %d %s %v; want 200", a.status, a.body, a.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	var tok struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(a.body), &tok); err != nil || tok.Access == "" {
		t.Fatalf("answer %s", a.body)
	}
	store, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.GetTokenByAccessHash(ctx, tokend.HashSecret(tok.Access)); err != nil {
		t.Fatalf("the token the drained request returned is not in the store: %v", err)
	}
}
