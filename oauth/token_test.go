package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tokend/tokend/internal/testutil"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokend/tokend"
)

func TestClientCredentials(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"OKInHeader", oauth2.AuthStyleInHeader},
		{"OKInParams", oauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := e.ccConfig(svc.ID, cl.ClientID, secret, tc.style, "read", "write").Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" {
				t.Fatalf("token_type %q refresh_token %q, want Bearer and none (RFC 6749 §4.4.3)", tok.TokenType, tok.RefreshToken)
			}
			if got := tok.Extra("scope"); got != "read write" {
				t.Fatalf("scope = %v, want \"read write\"", got)
			}
			in := e.Introspect(t, svc.ID, tok.AccessToken)
			if in["active"] != true || in["client_id"] != cl.ClientID || in["sub"] != nil {
				t.Fatalf("introspect = %v", in)
			}
		})
	}
	t.Run("ErrWrongSecret", func(t *testing.T) {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			_, err := e.ccConfig(svc.ID, cl.ClientID, tokend.NewSecret(tokend.KindClientSecret), style).Token(context.Background())
			MustRetrieveError(t, err, http.StatusUnauthorized, "invalid_client")
		}
	})
}

func TestTokenResponseShape(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{AccessTokenTTL: ptr(90 * time.Second)})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	r := e.Post(t, svc.ID, "token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, basic(cl.ClientID, secret))
	b := MustTokenResponse(t, r)
	if b.TokenType != "Bearer" || b.ExpiresIn == nil || *b.ExpiresIn != 90 || b.Scope != "read" || b.RefreshToken != "" {
		t.Fatalf("response = %+v (%s)", b, r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	if !tokend.WellFormed(b.AccessToken, tokend.KindAccessToken, false) {
		t.Fatalf("access_token %q is not a tokend access token", b.AccessToken)
	}
}

func TestPasswordGrant(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	_, err := e.core.CreateUser(context.Background(), e.root, svc.ID, tokend.UserInput{
		Username: "alice", Password: ptr("correct horse battery"), AccountID: ptr("acct-7"), Roles: &[]string{"editor"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader, "read")

	t.Run("OK", func(t *testing.T) {
		tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		in := e.Introspect(t, svc.ID, tok.AccessToken)
		if in["sub"] != "alice" || in["username"] != "alice" || in["account_id"] != "acct-7" || fmt.Sprint(in["roles"]) != "[editor]" || in["scope"] != "read" {
			t.Fatalf("introspect = %v", in)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		_, err := cfg.PasswordCredentialsToken(context.Background(), "alice", "wrong horse battery")
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		_, err := cfg.PasswordCredentialsToken(context.Background(), "mallory", "correct horse battery")
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ErrMissingPassword", func(t *testing.T) {
		r := e.Post(t, svc.ID, "token", url.Values{"grant_type": {"password"}, "username": {"alice"}}, basic(cl.ClientID, secret))
		b := MustOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		if !strings.Contains(b.Description, "password") {
			t.Fatalf("description %q does not name the parameter", b.Description)
		}
	})
	t.Run("ErrUnsupportedByService", func(t *testing.T) {
		other := MustService(t, e, tokend.ServiceInput{GrantTypesSupported: &[]tokend.GrantType{tokend.GrantClientCredentials}})
		ocl, osecret := MustClient(t, e, other.ID, tokend.ClientInput{})
		_, err := e.oauthConfig(other.ID, ocl.ClientID, osecret, oauth2.AuthStyleInHeader).PasswordCredentialsToken(context.Background(), "alice", "correct horse battery")
		MustRetrieveError(t, err, http.StatusBadRequest, "unsupported_grant_type")
	})
}

// hostApp is a host application's password check endpoint.
func hostApp(t *testing.T, seen *atomic.Int64) string {
	t.Helper()
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		var in struct{ Username, Password string }
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch in.Password {
		case "open sesame 1":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"subject":"user-%s","account_id":"acct-9","roles":["viewer"]}`, in.Username)
		case "forbidden pass":
			w.WriteHeader(http.StatusForbidden)
		case "host is broken":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	return srv.URL
}

func TestPasswordGrantCallback(t *testing.T) {
	e := MustEnv(t, Options{})
	var calls atomic.Int64
	host := hostApp(t, &calls)
	svc := MustService(t, e, tokend.ServiceInput{PasswordCallbackURL: ptr(host + "/check")})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	cfg := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInParams)

	t.Run("OK", func(t *testing.T) {
		tok, err := cfg.PasswordCredentialsToken(context.Background(), "bob", "open sesame 1")
		if err != nil {
			t.Fatal(err)
		}
		in := e.Introspect(t, svc.ID, tok.AccessToken)
		if in["sub"] != "user-bob" || in["account_id"] != "acct-9" || fmt.Sprint(in["roles"]) != "[viewer]" {
			t.Fatalf("introspect = %v", in)
		}
	})
	for _, tc := range []struct {
		name, password string
		status         int
		code           string
	}{
		{"ErrRejected401", "nope nope nope", http.StatusBadRequest, "invalid_grant"},
		{"ErrRejected403", "forbidden pass", http.StatusBadRequest, "invalid_grant"},
		{"ErrHostFailing", "host is broken", http.StatusServiceUnavailable, "temporarily_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, svc.ID, "token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {tc.password}}, basic(cl.ClientID, secret))
			MustOAuthError(t, r, tc.status, tc.code)
			if tc.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
	t.Run("ErrHostUnreachable", func(t *testing.T) {
		gone := newLoopbackServer(t, http.NotFoundHandler())
		gone.Close()
		down := MustService(t, e, tokend.ServiceInput{PasswordCallbackURL: ptr(gone.URL + "/check")})
		dcl, dsecret := MustClient(t, e, down.ID, tokend.ClientInput{})
		r := e.Post(t, down.ID, "token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"open sesame 1"}}, basic(dcl.ClientID, dsecret))
		MustOAuthError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
	})
	if calls.Load() == 0 {
		t.Fatal("the host was never asked")
	}
	for _, p := range []string{"open sesame 1", "host is broken", "nope nope nope"} {
		if strings.Contains(e.logs.String(), p) {
			t.Fatalf("a password reached the log:\n%s", e.logs)
		}
	}
}

func TestRefreshRotation(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	MustUser(t, e, svc.ID, "alice")
	cfg := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader, "read", "write")
	tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", userPassword)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{tok.RefreshToken: true}
	rt, last := tok.RefreshToken, tok
	for i := range 3 {
		next, err := refresh(cfg, rt)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if next.RefreshToken == "" || seen[next.RefreshToken] {
			t.Fatalf("refresh %d: refresh token not rotated (%q)", i, next.RefreshToken)
		}
		seen[next.RefreshToken] = true
		e.MustActive(t, svc.ID, last.AccessToken, false) // one record: the old access token is replaced
		e.MustActive(t, svc.ID, next.AccessToken, true)
		rt, last = next.RefreshToken, next
	}

	t.Run("ErrReuseRevokesGrant", func(t *testing.T) {
		_, err := refresh(cfg, tok.RefreshToken) // retired two rotations ago
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		e.MustActive(t, svc.ID, last.AccessToken, false)
		_, err = refresh(cfg, last.RefreshToken)
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
}

const userPassword = "correct horse battery"

func MustUser(tb testing.TB, e *env, sid int64, name string) {
	tb.Helper()
	if _, err := e.core.CreateUser(context.Background(), e.root, sid, tokend.UserInput{Username: name, Password: ptr(userPassword)}); err != nil {
		tb.Fatal(err)
	}
}

func TestRefreshScopes(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	other, otherSecret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	MustUser(t, e, svc.ID, "alice")
	cfg := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader, "read", "write")
	tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", userPassword)
	if err != nil {
		t.Fatal(err)
	}
	post := func(t *testing.T, id, sec, rt, scope string) result {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return e.Post(t, svc.ID, "token", f, basic(id, sec))
	}
	rt := tok.RefreshToken
	t.Run("OKNarrowing", func(t *testing.T) {
		b := MustTokenResponse(t, post(t, cl.ClientID, secret, rt, "read"))
		if b.Scope != "read" {
			t.Fatalf("scope = %q, want read", b.Scope)
		}
		rt = b.RefreshToken
		// The refresh token keeps its original scopes: narrowing one access
		// token does not shrink what later refreshes may ask for.
		b = MustTokenResponse(t, post(t, cl.ClientID, secret, rt, ""))
		if b.Scope != "read write" {
			t.Fatalf("scope after a plain refresh = %q, want \"read write\"", b.Scope)
		}
		rt = b.RefreshToken
	})
	t.Run("ErrWidening", func(t *testing.T) {
		MustOAuthError(t, post(t, cl.ClientID, secret, rt, "read write admin"), http.StatusBadRequest, "invalid_scope")
	})
	t.Run("ErrOtherClient", func(t *testing.T) {
		MustOAuthError(t, post(t, other.ClientID, otherSecret, rt, ""), http.StatusBadRequest, "invalid_grant")
		// Another client's attempt changes nothing for the owner.
		MustTokenResponse(t, post(t, cl.ClientID, secret, rt, ""))
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		before := e.store.lookups.Load()
		bad := testutil.Mistype(rt)
		MustOAuthError(t, post(t, cl.ClientID, secret, bad, ""), http.StatusBadRequest, "invalid_grant")
		if e.store.lookups.Load() != before {
			t.Fatal("a refresh token failing its checksum reached the store")
		}
	})
}

func TestRefreshGrace(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{RefreshReuseGrace: ptr(30 * time.Second)})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	MustUser(t, e, svc.ID, "alice")
	cfg := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInParams, "read")
	tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", userPassword)
	if err != nil {
		t.Fatal(err)
	}
	first, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	t.Run("OKReplayWithinGrace", func(t *testing.T) {
		again, err := refresh(cfg, tok.RefreshToken) // the first response was "lost"
		if err != nil {
			t.Fatal(err)
		}
		if again.AccessToken != first.AccessToken || again.RefreshToken != first.RefreshToken {
			t.Fatal("a replay within the grace period did not return the identical successor")
		}
		e.MustActive(t, svc.ID, first.AccessToken, true)
	})
	t.Run("ErrReplayAfterGrace", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		_, err := refresh(cfg, tok.RefreshToken)
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		e.MustActive(t, svc.ID, first.AccessToken, false)
		_, err = refresh(cfg, first.RefreshToken)
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
}

// TestRefreshConcurrent fires one refresh token from many goroutines at
// once: rotation must let exactly one through, and the store must not
// buckle under the contention.
func TestRefreshConcurrent(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	MustUser(t, e, svc.ID, "alice")
	tok, err := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader, "read").PasswordCredentialsToken(context.Background(), "alice", userPassword)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode()
	reqs := make([]*http.Request, n)
	for i := range reqs {
		req, err := http.NewRequest(http.MethodPost, e.endpoint(svc.ID, "token"), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		basic(cl.ClientID, secret)(req)
		reqs[i] = req
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	start := make(chan struct{})
	results := make([]result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := client.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			var b errorBody
			_ = json.NewDecoder(res.Body).Decode(&b)
			results[i] = result{status: res.StatusCode, body: []byte(b.Error)}
		})
	}
	close(start)
	wg.Wait()
	ok, grant := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		switch {
		case r.status == http.StatusOK:
			ok++
		case r.status == http.StatusBadRequest && string(r.body) == "invalid_grant":
			grant++
		default:
			t.Errorf("request %d: %d %s", i, r.status, r.body)
		}
	}
	if ok != 1 || grant != n-1 {
		t.Fatalf("%d × 200 and %d × invalid_grant, want 1 and %d", ok, grant, n-1)
	}
	if logs := e.logs.String(); strings.Contains(logs, "database is locked") || strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("the server logged errors:\n%s", logs)
	}
}

// brokenStore fails refresh rotation with an internal error, as a
// misbehaving backend would.
type brokenStore struct{ *countingStore }

func (brokenStore) RotateRefreshToken(context.Context, tokend.Hash, tokend.RetiredRefresh, func(*tokend.Token) error) (*tokend.Token, error) {
	return nil, errors.New("disk on fire at /var/lib/tokend/secret-path")
}

// TestTokenErrors covers RFC 6749 §5.2's codes and their statuses, one
// cause each (and a few more for invalid_request and invalid_client).
func TestTokenErrors(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	ccOnly, ccSecret := MustClient(t, e, svc.ID, tokend.ClientInput{GrantTypes: &[]tokend.GrantType{tokend.GrantClientCredentials}})
	pub, _ := MustClient(t, e, svc.ID, tokend.ClientInput{Type: ptr(tokend.ClientPublic)})
	cc := url.Values{"grant_type": {"client_credentials"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = append([]string(nil), vs...)
		}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	post := func(sid int64, f url.Values, modify ...func(*http.Request)) func(t *testing.T) result {
		return func(t *testing.T) result {
			return e.Post(t, sid, "token", f, func(r *http.Request) {
				for _, m := range modify {
					m(r)
				}
			})
		}
	}
	wrong := tokend.NewSecret(tokend.KindClientSecret)
	for _, tc := range []struct {
		name      string
		send      func(t *testing.T) result
		status    int
		code      string
		challenge bool // WWW-Authenticate: Basic expected
	}{
		{"ErrNoGrantType", post(svc.ID, url.Values{}, basic(cl.ClientID, secret)), 400, "invalid_request", false},
		{"ErrRepeatedParameter", post(svc.ID, with(cc, "scope", "read", "scope", "write"), basic(cl.ClientID, secret)), 400, "invalid_request", false},
		{"ErrJSONBody", func(t *testing.T) result {
			return e.Post(t, svc.ID, "token", nil, func(r *http.Request) {
				r.Header.Set("Content-Type", "application/json")
				basic(cl.ClientID, secret)(r)
			})
		}, 400, "invalid_request", false},
		{"ErrParametersInQuery", func(t *testing.T) result {
			req, _ := http.NewRequest(http.MethodPost, e.endpoint(svc.ID, "token")+"?client_secret="+secret, strings.NewReader(cc.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			basic(cl.ClientID, secret)(req)
			return do(t, http.DefaultClient, req)
		}, 400, "invalid_request", false},
		{"ErrTwoAuthMethods", post(svc.ID, with(cc, "client_id", cl.ClientID, "client_secret", secret), basic(cl.ClientID, secret)), 400, "invalid_request", false},
		{"ErrBasicAndOtherClientID", post(svc.ID, with(cc, "client_id", ccOnly.ClientID), basic(cl.ClientID, secret)), 400, "invalid_request", false},
		{"ErrWrongSecretBasic", post(svc.ID, cc, basic(cl.ClientID, wrong)), 401, "invalid_client", true},
		{"ErrWrongSecretPost", post(svc.ID, with(cc, "client_id", cl.ClientID, "client_secret", wrong)), 401, "invalid_client", false},
		{"ErrUnknownClient", post(svc.ID, cc, basic("no-such-client", wrong)), 401, "invalid_client", true},
		{"ErrNoClientAuth", post(svc.ID, cc), 401, "invalid_client", false},
		{"ErrMalformedBasic", post(svc.ID, cc, func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }), 401, "invalid_client", true},
		{"ErrUnsupportedScheme", post(svc.ID, cc, bearer(e.key)), 401, "invalid_client", true},
		{"ErrPublicClientWithSecret", post(svc.ID, with(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "client_id", pub.ClientID, "client_secret", wrong)), 401, "invalid_client", false},
		{"ErrInvalidGrant", post(svc.ID, with(url.Values{"grant_type": {"refresh_token"}}, "refresh_token", tokend.NewSecret(tokend.KindRefreshToken)), basic(cl.ClientID, secret)), 400, "invalid_grant", false},
		{"ErrUnauthorizedClient", post(svc.ID, with(url.Values{"grant_type": {"password"}}, "username", "a", "password", "b"), basic(ccOnly.ClientID, ccSecret)), 400, "unauthorized_client", false},
		{"ErrPublicClientCredentials", post(svc.ID, with(cc, "client_id", pub.ClientID)), 400, "unauthorized_client", false},
		{"ErrUnsupportedGrantType", post(svc.ID, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, basic(cl.ClientID, secret)), 400, "unsupported_grant_type", false},
		{"ErrInvalidScope", post(svc.ID, with(cc, "scope", "read nonexistent"), basic(cl.ClientID, secret)), 400, "invalid_scope", false},
		{"ErrUnknownService", post(svc.ID+1, cc, basic(cl.ClientID, secret)), 404, "not_found", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.send(t)
			b := MustOAuthError(t, r, tc.status, tc.code)
			if b.Description == "" && tc.status != http.StatusNotFound {
				t.Fatalf("%s: no error_description", r)
			}
			if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), wrong) {
				t.Fatalf("a secret in the response: %s", r)
			}
			if got := r.header.Get("WWW-Authenticate"); (got == `Basic realm="tokend"`) != tc.challenge {
				t.Fatalf("WWW-Authenticate = %q, want Basic challenge: %v", got, tc.challenge)
			}
		})
	}

	t.Run("ErrNonNumericService", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/photos/token", strings.NewReader(cc.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		MustOAuthError(t, do(t, http.DefaultClient, req), http.StatusNotFound, "not_found")
	})
	t.Run("ErrRepeatedNamesParameter", func(t *testing.T) {
		b := MustOAuthError(t, post(svc.ID, with(cc, "scope", "read", "scope", "write"), basic(cl.ClientID, secret))(t), 400, "invalid_request")
		if !strings.Contains(b.Description, "scope") {
			t.Fatalf("description %q does not name the parameter", b.Description)
		}
	})
	t.Run("ErrServerError", func(t *testing.T) {
		MustUser(t, e, svc.ID, "alice")
		tok, err := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader).PasswordCredentialsToken(context.Background(), "alice", userPassword)
		if err != nil {
			t.Fatal(err)
		}
		// A second server over the same store, whose store fails.
		broken := tokend.New(brokenStore{e.store}, tokend.Config{BaseURL: e.url, Now: e.clock.Now})
		logs := &testutil.SyncBuffer{}
		mux := http.NewServeMux()
		New(broken, slogTo(logs), Options{}).Register(mux)
		srv := newLoopbackServer(t, mux)
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/oauth/%d/token", srv.URL, svc.ID),
			strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		basic(cl.ClientID, secret)(req)
		r := do(t, http.DefaultClient, req)
		MustOAuthError(t, r, http.StatusInternalServerError, "server_error")
		if strings.Contains(string(r.body), "disk on fire") {
			t.Fatalf("internals leaked: %s", r)
		}
		if !strings.Contains(logs.String(), "disk on fire") {
			t.Fatal("the internal error was not logged")
		}
	})
}

// TestBasicEncoding: RFC 6749 §2.3.1 form-url-encodes client_id and secret
// before base64, so a client_id may hold ':' and '%'.
func TestBasicEncoding(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	id := "urn:app:one%two+three/four&five"
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{ClientID: ptr(id)})
	t.Run("OKOAuth2Library", func(t *testing.T) {
		if _, err := e.ccConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader).Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKPost", func(t *testing.T) {
		MustTokenResponse(t, e.Post(t, svc.ID, "token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}, nil))
	})
	t.Run("ErrNotEncoded", func(t *testing.T) {
		// Sent raw, the id's '%tw' is no valid escape and its first ':'
		// would end the id: the credentials cannot mean this client.
		r := e.Post(t, svc.ID, "token", url.Values{"grant_type": {"client_credentials"}}, func(r *http.Request) { r.SetBasicAuth(id, secret) })
		MustOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
	})
}

func TestPublicClient(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	pub, _ := MustClient(t, e, svc.ID, tokend.ClientInput{Type: ptr(tokend.ClientPublic)})
	MustUser(t, e, svc.ID, "alice")
	cfg := e.oauthConfig(svc.ID, pub.ClientID, "", oauth2.AuthStyleInParams, "read")
	t.Run("OKNone", func(t *testing.T) {
		tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", userPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := refresh(cfg, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrWithSecret", func(t *testing.T) {
		cfg := e.oauthConfig(svc.ID, pub.ClientID, tokend.NewSecret(tokend.KindClientSecret), oauth2.AuthStyleInParams)
		_, err := cfg.PasswordCredentialsToken(context.Background(), "alice", userPassword)
		MustRetrieveError(t, err, http.StatusUnauthorized, "invalid_client")
	})
}
