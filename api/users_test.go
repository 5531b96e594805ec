package api

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

// s256 is RFC 7636's S256 code challenge of verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B

func TestServiceOAuthFields(t *testing.T) {
	e := MustEnv(t)
	s := MustService(t, e, e.root, wire.ServiceInput{Name: ptr("photos")})
	want := fmt.Sprintf("%s/oauth/%d/", baseURL, s.ID)
	if s.TokenEndpoint != want+"token" || s.IntrospectionEndpoint != want+"introspect" || s.RevocationEndpoint != want+"revoke" {
		t.Errorf("endpoints %q %q %q", s.TokenEndpoint, s.IntrospectionEndpoint, s.RevocationEndpoint)
	}
	if want := fmt.Sprintf("%s/.well-known/oauth-authorization-server/oauth/%d", baseURL, s.ID); s.DiscoveryURL != want {
		t.Errorf("discovery_url = %q, want %q", s.DiscoveryURL, want)
	}
	if s.PasswordCallbackURL != "" || s.AllowPlainPKCE {
		t.Errorf("defaults: callback %q plain %v", s.PasswordCallbackURL, s.AllowPlainPKCE)
	}

	path := fmt.Sprintf("/v1/services/%d", s.ID)
	var upd wire.Service
	e.MustDo(t, "PATCH", path, e.root, wire.ServiceInput{
		Issuer: ptr("https://id.example.org/tenants/photos/"), PasswordCallbackURL: ptr("https://app.example.org/check"), AllowPlainPKCE: ptr(true),
	}, http.StatusOK, &upd)
	// RFC 8414 §3: the well-known path goes before the issuer's path, on
	// the issuer's host; the endpoints stay on the deployment.
	if upd.DiscoveryURL != "https://id.example.org/.well-known/oauth-authorization-server/tenants/photos" {
		t.Errorf("custom issuer: discovery_url = %q", upd.DiscoveryURL)
	}
	if upd.TokenEndpoint != s.TokenEndpoint || upd.PasswordCallbackURL != "https://app.example.org/check" || !upd.AllowPlainPKCE {
		t.Errorf("patched %+v", upd)
	}
	// A PATCH without the fields leaves them; "" clears the callback.
	e.MustDo(t, "PATCH", path, e.root, wire.ServiceInput{Description: ptr("d")}, http.StatusOK, &upd)
	if upd.PasswordCallbackURL == "" || !upd.AllowPlainPKCE {
		t.Errorf("an unrelated PATCH changed them: %+v", upd)
	}
	e.MustDo(t, "PATCH", path, e.root, wire.ServiceInput{PasswordCallbackURL: ptr(""), AllowPlainPKCE: ptr(false)}, http.StatusOK, &upd)
	if upd.PasswordCallbackURL != "" || upd.AllowPlainPKCE {
		t.Errorf("cleared %+v", upd)
	}
	if got := discoveryURL("https://a.example:8443"); got != "https://a.example:8443/.well-known/oauth-authorization-server" {
		t.Errorf("issuer without a path: %q", got)
	}
}

func TestUsers(t *testing.T) {
	f := MustFixture(t)
	e := f.e
	base := fmt.Sprintf("/v1/services/%d/users", f.svc.ID)
	const password = "s3cret-Passphrase!"
	// A name that needs escaping in a path: "/" and "%" must reach the
	// core as they were created, not split the path or be decoded twice.
	name := "ops/alice%41 b"
	var u wire.User
	res := e.MustDo(t, "POST", base, e.root, wire.UserInput{Username: name, Password: ptr(password), AccountID: ptr("acct-1"), Roles: &[]string{"admin"}}, http.StatusCreated, &u)
	if u.ID == 0 || u.ServiceID != f.svc.ID || u.Username != name || u.AccountID != "acct-1" || !slices.Equal(u.Roles, []string{"admin"}) || !u.CreatedAt.Equal(e.clock.Now()) {
		t.Fatalf("created %+v", u)
	}
	if strings.Contains(string(res.body), password) || strings.Contains(string(res.body), "argon2") {
		t.Fatalf("the response shows the password or its hash: %s", res.body)
	}
	userPath := base + "/" + url.PathEscape(name)
	var got wire.User
	e.MustDo(t, "GET", userPath, e.root, nil, http.StatusOK, &got)
	if got.ID != u.ID || got.Username != name {
		t.Fatalf("GET %s = %+v", userPath, got)
	}
	e.MustError(t, "GET", base+"/ops%2Falice", e.root, nil, http.StatusNotFound, "not_found", "")
	e.MustError(t, "POST", base, e.root, wire.UserInput{Username: name, Password: ptr(password)}, http.StatusConflict, "conflict", "username")

	e.clock.Advance(time.Second)
	var upd wire.User
	res = e.MustDo(t, "PATCH", userPath, e.root, wire.UserInput{Password: ptr("another passphrase"), Roles: &[]string{}}, http.StatusOK, &upd)
	if upd.AccountID != "acct-1" || len(upd.Roles) != 0 || upd.Roles == nil || !upd.UpdatedAt.After(upd.CreatedAt) {
		t.Errorf("patched %+v (roles should be [], not null)", upd)
	}
	if strings.Contains(string(res.body), "another passphrase") || strings.Contains(string(res.body), "argon2") {
		t.Fatalf("the response shows the password or its hash: %s", res.body)
	}
	// The username is the subject of the user's tokens; repeating it in a
	// PATCH is allowed, changing it is not.
	e.MustDo(t, "PATCH", userPath, e.root, wire.UserInput{Username: name, AccountID: ptr("")}, http.StatusOK, &upd)
	if upd.AccountID != "" {
		t.Errorf("account_id not cleared: %+v", upd)
	}
	e.MustError(t, "PATCH", base+"/nobody", e.root, wire.UserInput{Roles: &[]string{"r"}}, http.StatusNotFound, "not_found", "")

	// Deleting a user revokes the tokens issued for them.
	tok := f.mint(t, wire.TokenInput{Subject: name, GrantType: "PASSWORD"})
	other := f.mint(t, wire.TokenInput{Subject: "someone-else"})
	e.MustDo(t, "DELETE", userPath, e.root, nil, http.StatusNoContent, nil)
	e.MustError(t, "GET", userPath, e.root, nil, http.StatusNotFound, "not_found", "")
	e.MustError(t, "DELETE", userPath, e.root, nil, http.StatusNotFound, "not_found", "")
	var gone, kept wire.Token
	e.MustDo(t, "GET", fmt.Sprintf("%s/%d", f.base, tok.ID), e.root, nil, http.StatusOK, &gone)
	e.MustDo(t, "GET", fmt.Sprintf("%s/%d", f.base, other.ID), e.root, nil, http.StatusOK, &kept)
	if gone.Status != "revoked" || kept.Status != "active" {
		t.Errorf("after delete: user's token %s, other's %s", gone.Status, kept.Status)
	}

	// Users are per service.
	svc2 := MustPhotos(t, e, "other")
	MustUser(t, e, svc2.ID, wire.UserInput{Username: "bob"})
	e.MustError(t, "GET", base+"/bob", e.root, nil, http.StatusNotFound, "not_found", "")
}

// pageUsers lists every page of a service's users with page_size size.
func pageUsers(tb testing.TB, e *env, sid int64, size int) (names []string, pages int) {
	tb.Helper()
	token := ""
	for {
		q := fmt.Sprintf("?page_size=%d", size)
		if token != "" {
			q += "&page_token=" + url.QueryEscape(token)
		}
		var l wire.UserList
		e.MustDo(tb, "GET", fmt.Sprintf("/v1/services/%d/users%s", sid, q), e.root, nil, http.StatusOK, &l)
		if len(l.Users) > size || l.Users == nil {
			tb.Fatalf("page of %v, size %d", l.Users, size)
		}
		pages++
		for _, u := range l.Users {
			names = append(names, u.Username)
		}
		if l.NextPageToken == "" {
			return names, pages
		}
		if len(l.Users) == 0 {
			tb.Fatal("an empty page with a next_page_token")
		}
		if pages > 20 {
			tb.Fatal("paging does not end")
		}
		token = l.NextPageToken
	}
}

func TestUserPaging(t *testing.T) {
	e := MustEnv(t)
	svc := MustPhotos(t, e, "photos")
	var want []string
	for i := range 6 {
		want = append(want, MustUser(t, e, svc.ID, wire.UserInput{Username: fmt.Sprint("user", i)}).Username)
	}
	// 6 users in pages of 3 are two pages: the second must not promise a
	// third, empty one.
	for size, pages := range map[int]int{1: 6, 3: 2, 4: 2, 6: 1, 7: 1, tokend.MaxPageSize: 1} {
		got, n := pageUsers(t, e, svc.ID, size)
		if !slices.Equal(got, want) || n != pages {
			t.Errorf("page_size %d: %v in %d pages, want %v in %d", size, got, n, want, pages)
		}
	}
	empty := MustService(t, e, e.root, wire.ServiceInput{Name: ptr("empty")})
	if got, n := pageUsers(t, e, empty.ID, 5); len(got) != 0 || n != 1 {
		t.Errorf("no users: %v in %d pages", got, n)
	}
}

func TestAuthorizationCodes(t *testing.T) {
	f := MustFixture(t)
	e := f.e
	path := fmt.Sprintf("/v1/services/%d/authorization-codes", f.svc.ID)
	authTime := e.clock.Now().Add(-time.Minute)
	var c wire.Code
	e.MustDo(t, "POST", path, e.root, wire.CodeInput{
		Client: "web-app", Subject: "alice", Scopes: []string{"photos.read", "openid"}, RedirectURI: webRedirect,
		CodeChallenge: s256(verifier), AccountID: "acct-1", Roles: []string{"admin"}, AuthTime: &authTime, ACR: "urn:mace:incommon:iap:silver",
	}, http.StatusCreated, &c)
	if !strings.HasPrefix(c.Code, "tkc_") || c.Client != f.web.ID || c.Subject != "alice" || c.RedirectURI != webRedirect ||
		!slices.Equal(c.Scopes, []string{"photos.read", "openid"}) {
		t.Fatalf("minted %+v", c)
	}
	if c.ExpiresIn != int64(tokend.AuthorizationCodeTTL/time.Second) || !c.ExpiresAt.Equal(e.clock.Now().Add(tokend.AuthorizationCodeTTL)) {
		t.Errorf("expires_at %v expires_in %d", c.ExpiresAt, c.ExpiresIn)
	}
	if e.codes.codes.Load() != 1 {
		t.Errorf("%d codes stored, want 1", e.codes.codes.Load())
	}
	// By numeric id, without scopes, for a confidential client without PKCE.
	var c2 wire.Code
	e.MustDo(t, "POST", path, e.root, wire.CodeInput{Client: fmt.Sprint(f.web.ID), Subject: "bob", RedirectURI: webRedirect}, http.StatusCreated, &c2)
	if c2.Code == c.Code || c2.Scopes == nil {
		t.Errorf("second code %+v", c2)
	}

	// plain PKCE only when the service allows it.
	plain := wire.CodeInput{Client: "web-app", Subject: "alice", RedirectURI: webRedirect, CodeChallenge: verifier, CodeChallengeMethod: "plain"}
	e.MustError(t, "POST", path, e.root, plain, http.StatusBadRequest, "invalid", "code_challenge_method")
	e.MustDo(t, "PATCH", fmt.Sprintf("/v1/services/%d", f.svc.ID), e.root, wire.ServiceInput{AllowPlainPKCE: ptr(true)}, http.StatusOK, nil)
	e.MustDo(t, "POST", path, e.root, plain, http.StatusCreated, nil)
}
