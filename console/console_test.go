package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/console"
	"github.com/tokend/tokend/wire"
)

// TestSecurityHeaders: every console answer, page or error, forbids
// scripts, framing and caching.
func TestSecurityHeaders(t *testing.T) {
	e := MustEnv(t)
	b := e.browser(t)
	for _, path := range []string{"/console/signin", "/console/", "/", "/console/services/1/tokens", "/console/apps/signin"} {
		t.Run(strings.Trim(path, "/"), func(t *testing.T) {
			r := b.get(path)
			csp := r.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
				t.Errorf("CSP %q allows scripts", csp)
			}
			for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
	t.Run("OKNoInlineScriptOrStyle", func(t *testing.T) {
		b.mustSignIn(e.key)
		MustFixture(t, e)
		r := b.get("/console/")
		for _, bad := range []string{"<script", "style=", "<style", "javascript:"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("page contains %q", bad)
			}
		}
	})
}

// TestSignIn covers the operator's session: the key never leaves the
// server, the cookie is HttpOnly and SameSite=Strict, a wrong key gets the
// form again, and signing out ends the session on the server.
func TestSignIn(t *testing.T) {
	e := MustEnv(t)
	t.Run("OKRedirectWithoutSession", func(t *testing.T) {
		r := e.browser(t).get("/console/")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/signin" {
			t.Fatalf("%d to %q", r.status, r.header.Get("Location"))
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		r := e.browser(t).post("/console/signin", url.Values{"key": {"tkk_wrong"}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "invalid management key") || r.header.Get("Set-Cookie") != "" {
			t.Fatalf("%d cookie %q\n%s", r.status, r.header.Get("Set-Cookie"), r.body)
		}
	})
	t.Run("OKCookieAndSignOut", func(t *testing.T) {
		b := e.browser(t)
		r := b.post("/console/signin", url.Values{"key": {e.key}})
		cookie := r.header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(cookie, e.key) || strings.Contains(r.header.Get("Location"), e.key) {
			t.Fatal("the key left the server")
		}
		home := b.get("/console/")
		if home.status != 200 || !strings.Contains(home.body, "key:") || strings.Contains(home.body, e.key) {
			t.Fatalf("home: %d\n%s", home.status, home.body)
		}
		old := b.hc.Jar.Cookies(mustURL(t, e.url+"/console/"))
		if r := b.post("/console/signout", url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", r.status)
		}
		// The old cookie, replayed, no longer opens anything.
		replay := e.browser(t)
		replay.hc.Jar.SetCookies(mustURL(t, e.url+"/console/"), old)
		if r := replay.get("/console/"); r.status != http.StatusSeeOther {
			t.Fatalf("a signed-out session still works: %d", r.status)
		}
	})
	t.Run("OKSecureCookieOverHTTPS", func(t *testing.T) {
		c := console.New(e.core, slog.New(slog.DiscardHandler), console.Options{Secure: true})
		mux := http.NewServeMux()
		c.Register(mux)
		w := httptest.NewRecorder()
		req, _ := http.NewRequest("POST", "/console/signin", strings.NewReader("key="+url.QueryEscape(e.key)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		mux.ServeHTTP(w, req)
		cookie := w.Header().Get("Set-Cookie")
		if !strings.HasPrefix(cookie, "__Host-tokend-console=") || !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "Path=/;") {
			t.Fatalf("cookie over https: %q", cookie)
		}
	})
	t.Run("ErrKeyDeletedEndsSession", func(t *testing.T) {
		ctx := context.Background()
		k, err := e.api.CreateKey(ctx, wire.KeyInput{Name: "temp", Permissions: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser(t)
		b.mustSignIn(k.Key)
		if r := b.get("/console/"); r.status != 200 {
			t.Fatalf("home: %d", r.status)
		}
		if err := e.api.DeleteKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/console/"); r.status != http.StatusSeeOther {
			t.Fatalf("a deleted key's session still works: %d", r.status)
		}
	})
	t.Run("OKIdleSessionEnds", func(t *testing.T) {
		b := e.browser(t)
		b.mustSignIn(e.key)
		e.clock.Advance(31 * time.Minute)
		if r := b.get("/console/"); r.status != http.StatusSeeOther {
			t.Fatalf("a session idle for 31 minutes still works: %d", r.status)
		}
	})
}

// TestCrossOriginRefused: a form posted from another site changes
// nothing, whatever cookie the browser sends along.
func TestCrossOriginRefused(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := e.browser(t)
	b.mustSignIn(e.key)
	tok := f.aliceApp[0]
	for name, h := range map[string]map[string]string{
		"ErrSecFetchSite": {"Sec-Fetch-Site": "cross-site"},
		"ErrOrigin":       {"Origin": "https://evil.example"},
	} {
		t.Run(name, func(t *testing.T) {
			r := b.do("POST", fmt.Sprintf("%s/tokens/%d/revoke", servicePath(f), tok.ID), url.Values{}, h)
			if r.status != http.StatusForbidden {
				t.Fatalf("cross-origin revoke: %d", r.status)
			}
			got, err := e.api.GetToken(context.Background(), f.svc.ID, tok.ID)
			if err != nil || got.Status != "active" {
				t.Fatalf("the token is %v (%v) after a refused request", got.Status, err)
			}
		})
	}
	t.Run("OKSameOrigin", func(t *testing.T) {
		r := b.do("POST", fmt.Sprintf("%s/tokens/%d/revoke", servicePath(f), tok.ID), url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if r.status != http.StatusSeeOther {
			t.Fatalf("same-origin revoke: %d %s", r.status, r.body)
		}
	})
}

// TestEscaping: what clients choose to call themselves is shown, never run.
func TestEscaping(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	cl, err := e.api.CreateClient(context.Background(), f.svc.ID, wire.ClientInput{Name: ptr(evil), Description: ptr(evil)})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.mustSignIn(e.key)
	for _, path := range []string{fmt.Sprintf("%s/clients/%d", servicePath(f), cl.ID), servicePath(f) + "/clients", servicePath(f) + "/tokens?subject=" + url.QueryEscape(evil)} {
		r := b.get(path)
		if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
			t.Fatalf("%s shows the markup unescaped", path)
		}
	}
}

// TestTokenList: filters, cursor paging and the filters' errors, as the
// list API has them.
func TestTokenList(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := e.browser(t)
	b.mustSignIn(e.key)
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantTotal  string
		wantInBody string
	}{
		{"OKAll", "", 200, "33", ""},
		{"OKSubject", "subject=bob", 200, "1", ""},
		{"OKClientByClientID", "client=" + f.printer.ClientID, 200, "2", "EasyPDF"},
		{"OKScope", "scope=photos.write", 200, "1", ""},
		{"OKEmptyFieldsAreUnset", "subject=&client=&grant_type=&status=", 200, "33", ""},
		{"OKCreatedAfterLocalTime", "created_after=2026-04-01T09:32", 200, "1", ""},
		{"ErrStatus", "status=sleeping", 400, "", "status: must be"},
		{"ErrCreatedAfter", "created_after=yesterday", 400, "", "created_after"},
		{"ErrPageSize", "page_size=5000", 400, "", "page_size"},
		{"ErrUnknownClient", "client=nobody", 404, "", "client not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(servicePath(f) + "/tokens?" + tt.query)
			if r.status != tt.wantStatus {
				t.Fatalf("%d, want %d\n%s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantTotal != "" && !strings.Contains(r.body, `<span id="total">`+tt.wantTotal+`</span>`) {
				t.Errorf("total is not %s", tt.wantTotal)
			}
			if !strings.Contains(r.body, tt.wantInBody) {
				t.Errorf("body lacks %q", tt.wantInBody)
			}
		})
	}
	t.Run("OKPagesCoverAllOnce", func(t *testing.T) {
		seen := map[string]bool{}
		path := servicePath(f) + "/tokens?subject=alice&client=" + f.app.ClientID + "&page_size=7"
		for pages := 0; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			r := b.get(path)
			for _, id := range between(r.body, `data-token-id="`, `"`) {
				if seen[id] {
					t.Fatalf("token %s on two pages", id)
				}
				seen[id] = true
			}
			path = linkTo(r.body, "next-page")
		}
		if len(seen) != 30 {
			t.Fatalf("pages showed %d tokens, want 30", len(seen))
		}
	})
}

// linkTo returns the href of the link with the given id, "" when the page
// has none.
func linkTo(body, id string) string {
	end := strings.Index(body, `" id="`+id+`"`)
	if end < 0 {
		return ""
	}
	start := strings.LastIndex(body[:end], `href="`)
	return strings.ReplaceAll(body[start+len(`href="`):end], "&amp;", "&")
}

// between returns every substring of s that starts after open and ends
// before the next close.
func between(s, open, close string) []string {
	var out []string
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return out
		}
		s = s[i+len(open):]
		j := strings.Index(s, close)
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j:]
	}
}

// TestBulkRevoke: the preview counts and changes nothing; the confirmation
// revokes what it counted.
func TestBulkRevoke(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := e.browser(t)
	b.mustSignIn(e.key)
	r := b.get(servicePath(f) + "/revoke?subject=alice&client=" + f.printer.ClientID)
	if r.status != 200 || !strings.Contains(r.body, `<strong id="preview-count">2</strong>`) {
		t.Fatalf("preview: %d\n%s", r.status, r.body)
	}
	list, err := e.api.ListTokens(context.Background(), f.svc.ID, client.TokenQuery{Client: f.printer.ClientID})
	if err != nil || list.TotalCount != 2 {
		t.Fatalf("after the preview, %v active tokens (%v), want 2", list, err)
	}
	r = b.post(servicePath(f)+"/revoke", url.Values{"subject": {"alice"}, "client": {f.printer.ClientID}, "reason": {"leaked"}})
	if r.status != 200 || !strings.Contains(r.body, `<span id="revoked-count">2</span>`) {
		t.Fatalf("revoke: %d\n%s", r.status, r.body)
	}
	list, err = e.api.ListTokens(context.Background(), f.svc.ID, client.TokenQuery{Client: f.printer.ClientID, Status: "revoked"})
	if err != nil || list.TotalCount != 2 || list.Tokens[0].RevokedReason != "leaked" {
		t.Fatalf("revoked tokens: %+v, %v", list, err)
	}
	t.Run("ErrNothingNamed", func(t *testing.T) {
		if r := b.post(servicePath(f)+"/revoke", url.Values{}); r.status != 400 {
			t.Fatalf("empty bulk revoke: %d", r.status)
		}
	})
	t.Run("ErrReadOnlyKey", func(t *testing.T) {
		k, err := e.api.CreateServiceKey(context.Background(), f.svc.ID, wire.KeyInput{Name: "ro", Permissions: []string{"tokens.read"}})
		if err != nil {
			t.Fatal(err)
		}
		ro := e.browser(t)
		ro.mustSignIn(k.Key)
		if r := ro.get(servicePath(f) + "/revoke?subject=bob"); r.status != http.StatusForbidden {
			t.Fatalf("preview with a read-only key: %d", r.status)
		}
		if r := ro.post(servicePath(f)+"/revoke", url.Values{"subject": {"bob"}}); r.status != http.StatusForbidden {
			t.Fatalf("bulk revoke with a read-only key: %d", r.status)
		}
	})
}

// TestCreateClient: the secret is on the creation page once; the client's
// own page never shows it.
func TestCreateClient(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := e.browser(t)
	b.mustSignIn(e.key)
	form := url.Values{"name": {"Backup"}, "type": {"CONFIDENTIAL"}, "scopes": {"photos.read"}, "grant_types": {"CLIENT_CREDENTIALS"}}
	r := b.post(servicePath(f)+"/clients", form)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	secret := between(r.body, `<code id="client-secret" class="secret">`, `</code>`)
	clientID := between(r.body, `<code id="client-id">`, `</code>`)
	if len(secret) != 1 || !strings.HasPrefix(secret[0], "tks_") || len(clientID) != 1 {
		t.Fatalf("no secret shown:\n%s", r.body)
	}
	got, err := e.api.GetClient(context.Background(), f.svc.ID, clientID[0])
	if err != nil || got.Name != "Backup" || strings.Join(got.Scopes, " ") != "photos.read" || strings.Join(got.GrantTypes, " ") != "CLIENT_CREDENTIALS" {
		t.Fatalf("created %+v, %v", got, err)
	}
	page := b.get(fmt.Sprintf("%s/clients/%d", servicePath(f), got.ID))
	if page.status != 200 || strings.Contains(page.body, secret[0]) {
		t.Fatalf("the client page shows the secret (status %d)", page.status)
	}
	if strings.Contains(e.logs.String(), secret[0]) {
		t.Fatal("the secret is in the log")
	}
	t.Run("ErrInvalidKeepsTheForm", func(t *testing.T) {
		r := b.post(servicePath(f)+"/clients", url.Values{"name": {"Bad"}, "scopes": {"admin"}})
		if r.status != 400 || !strings.Contains(r.body, "scopes") || !strings.Contains(r.body, `value="Bad"`) {
			t.Fatalf("invalid client: %d\n%s", r.status, r.body)
		}
	})
}

// TestTokenPage: hashes, never values; revoking from the page.
func TestTokenPage(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := e.browser(t)
	b.mustSignIn(e.key)
	tok := f.aliceApp[3]
	path := fmt.Sprintf("%s/tokens/%d", servicePath(f), tok.ID)
	r := b.get(path)
	if r.status != 200 || !strings.Contains(r.body, tok.AccessTokenHash) || strings.Contains(r.body, tok.AccessToken) {
		t.Fatalf("token page: %d", r.status)
	}
	r = b.post(path+"/revoke", url.Values{"reason": {"user asked"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != path+"?done=revoked" {
		t.Fatalf("revoke: %d %q", r.status, r.header.Get("Location"))
	}
	r = b.get(path + "?done=revoked")
	if !strings.Contains(r.body, "The token was revoked.") || !strings.Contains(r.body, `id="token-status">revoked`) {
		t.Fatalf("after revoking:\n%s", r.body)
	}
	if r := b.get(servicePath(f) + "/tokens/999999999"); r.status != 404 {
		t.Fatalf("unknown token: %d", r.status)
	}
	if r := b.get(fmt.Sprintf("/console/services/%d/tokens/abc", f.svc.ID)); r.status != 404 {
		t.Fatalf("malformed id: %d", r.status)
	}
}

// TestConnectedApps: the end user's page, signed in with an access token
// of the first-party client.
func TestConnectedApps(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	t.Run("ErrThirdPartyToken", func(t *testing.T) {
		r := e.browser(t).post("/console/apps/signin", url.Values{"access_token": {f.aliceApp[0].AccessToken}})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "not a first-party client") {
			t.Fatalf("%d\n%s", r.status, r.body)
		}
	})
	t.Run("ErrOperatorSessionDoesNotOpenApps", func(t *testing.T) {
		b := e.browser(t)
		b.mustSignIn(e.key)
		if r := b.get("/console/apps/"); r.status != http.StatusSeeOther {
			t.Fatalf("apps page with an operator session: %d", r.status)
		}
	})
	b := e.browser(t)
	token := f.portalToken(t, e)
	if r := b.post("/console/apps/signin", url.Values{"access_token": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	r := b.get("/console/apps/")
	if r.status != 200 || !strings.Contains(r.body, "Photo Printer") || !strings.Contains(r.body, "EasyPDF") || strings.Contains(r.body, "Photos Portal") {
		t.Fatalf("apps page: %d\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, token) {
		t.Fatal("the page shows the access token")
	}
	r = b.post("/console/apps/"+f.app.ClientID+"/revoke", url.Values{})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/apps/?revoked=30" {
		t.Fatalf("revoke: %d %q", r.status, r.header.Get("Location"))
	}
	grants, err := e.api.SubjectGrants(context.Background(), f.svc.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants.Grants {
		if g.Client.ClientID == f.app.ClientID {
			t.Fatal("Photo Printer still holds alice's tokens")
		}
	}
	// Bob's token of the same app is untouched.
	if list, err := e.api.ListTokens(context.Background(), f.svc.ID, client.TokenQuery{Subject: "bob"}); err != nil || list.TotalCount != 1 {
		t.Fatalf("bob's tokens: %v, %v", list, err)
	}
	// Revoking the page's own token signs it out.
	if _, err := e.api.RevokeTokens(context.Background(), f.svc.ID, wire.RevokeRequest{Token: token}); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/console/apps/"); r.status != http.StatusSeeOther {
		t.Fatalf("after its token was revoked, the page answered %d", r.status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
