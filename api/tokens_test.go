package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

// webRedirect is the web client's one registered redirect URI, which
// authorization codes are minted for.
const webRedirect = "https://web.example.com/cb"

// fixture is a service with two confidential clients.
type fixture struct {
	e        *env
	svc      wire.Service
	web, cli wire.Client
	base     string // /v1/services/{sid}/tokens
}

func MustFixture(tb testing.TB) *fixture {
	tb.Helper()
	e := MustEnv(tb)
	svc := MustPhotos(tb, e, "photos")
	return &fixture{
		e:    e,
		svc:  svc,
		web:  MustClient(tb, e, e.root, svc.ID, wire.ClientInput{Name: ptr("web"), ClientID: ptr("web-app"), RedirectURIs: &[]string{webRedirect}}),
		cli:  MustClient(tb, e, e.root, svc.ID, wire.ClientInput{Name: ptr("cli"), ClientID: ptr("cli-app")}),
		base: fmt.Sprintf("/v1/services/%d/tokens", svc.ID),
	}
}

func (f *fixture) mint(tb testing.TB, in wire.TokenInput) wire.Token {
	tb.Helper()
	if in.Client == "" {
		in.Client = f.web.ClientID
	}
	if in.GrantType == "" {
		in.GrantType = "AUTHORIZATION_CODE"
	}
	if in.Subject == "" && in.GrantType != "CLIENT_CREDENTIALS" {
		in.Subject = "alice"
	}
	return MustToken(tb, f.e, f.svc.ID, in)
}

func TestMintToken(t *testing.T) {
	f := MustFixture(t)
	tok := f.mint(t, wire.TokenInput{Scopes: []string{"photos.read", "openid"}, AccessTokenTTL: 600})
	if !strings.HasPrefix(tok.AccessToken, "tka_") || !strings.HasPrefix(tok.RefreshToken, "tkr_") {
		t.Fatalf("minted values %q %q", tok.AccessToken, tok.RefreshToken)
	}
	if tok.ExpiresIn == nil || *tok.ExpiresIn != 600 || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(f.e.clock.Now().Add(10*time.Minute)) {
		t.Errorf("expires_at %v expires_in %v", tok.ExpiresAt, tok.ExpiresIn)
	}
	if tok.AccessTokenHash != tokend.HashSecret(tok.AccessToken).String() || tok.RefreshTokenHash != tokend.HashSecret(tok.RefreshToken).String() {
		t.Errorf("hashes do not match the values")
	}
	if tok.TokenType != "Bearer" || tok.Status != "active" || tok.Client != f.web.ID || tok.Subject != "alice" || tok.GrantID != tok.ID {
		t.Errorf("minted %+v", tok)
	}

	var got wire.Token
	f.e.MustDo(t, "GET", fmt.Sprintf("%s/%d", f.base, tok.ID), f.e.root, nil, http.StatusOK, &got)
	if got.AccessToken != "" || got.RefreshToken != "" || got.ExpiresIn != nil || got.AccessTokenHash != tok.AccessTokenHash {
		t.Errorf("GET shows %+v", got)
	}

	t.Run("CallerSupplied", func(t *testing.T) {
		tok := f.mint(t, wire.TokenInput{AccessToken: "legacy-access-0123456789", RefreshToken: "legacy-refresh-0123456789", Subject: "bob"})
		if tok.AccessToken != "" || tok.RefreshToken != "" {
			t.Errorf("caller-supplied values echoed back: %+v", tok)
		}
		if tok.AccessTokenHash != tokend.HashSecret("legacy-access-0123456789").String() {
			t.Errorf("hash of supplied value wrong")
		}
		got := MustLookup(t, f.e, f.svc.ID, wire.TokenLookup{Token: "legacy-refresh-0123456789"})
		if got.ID != tok.ID {
			t.Errorf("lookup by supplied refresh value found %d, want %d", got.ID, tok.ID)
		}
		before := MustSnapshot(t, f.e)
		f.e.MustError(t, "POST", f.base, f.e.root, wire.TokenInput{
			Client: "web-app", GrantType: "AUTHORIZATION_CODE", Subject: "carol", AccessToken: "legacy-access-0123456789",
		}, http.StatusConflict, "conflict", "access_token")
		f.e.MustError(t, "POST", f.base, f.e.root, wire.TokenInput{
			Client: "web-app", GrantType: "AUTHORIZATION_CODE", Subject: "carol", RefreshToken: "legacy-refresh-0123456789",
		}, http.StatusConflict, "conflict", "refresh_token")
		MustUnchanged(t, f.e, before)
	})

	t.Run("ClientCredentials", func(t *testing.T) {
		tok := f.mint(t, wire.TokenInput{GrantType: "CLIENT_CREDENTIALS", Client: fmt.Sprint(f.cli.ID)})
		if tok.RefreshToken != "" || tok.RefreshTokenHash != "" || tok.Subject != "" || tok.Client != f.cli.ID {
			t.Errorf("client credentials token %+v", tok)
		}
	})

	t.Run("PersistentDPoP", func(t *testing.T) {
		tok := f.mint(t, wire.TokenInput{
			Persistent: true, NoRefreshToken: true, DPoPKeyThumbprint: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
			Properties: []wire.Property{{Key: "tier", Value: "gold", Hidden: true}}, AccountID: "acct-1", Roles: []string{"admin"},
			AuthTime: ptr(f.e.clock.Now().Add(-time.Minute)), ACR: "urn:mace:incommon:iap:silver", SessionID: "sess-1",
			Resources: []string{"https://api.example.com"}, AuthorizationDetails: []byte(`[{"type":"payment","amount":"10"}]`),
		})
		if tok.TokenType != "DPoP" || tok.ExpiresAt != nil || tok.ExpiresIn != nil || !tok.Persistent || tok.RefreshToken != "" {
			t.Errorf("persistent DPoP token %+v", tok)
		}
		var got wire.Token
		f.e.MustDo(t, "GET", fmt.Sprintf("%s/%d", f.base, tok.ID), f.e.root, nil, http.StatusOK, &got)
		if len(got.Properties) != 1 || !got.Properties[0].Hidden || got.AccountID != "acct-1" || !slices.Equal(got.Roles, []string{"admin"}) ||
			got.AuthTime == nil || got.ACR == "" || got.SessionID != "sess-1" || len(got.Resources) != 1 ||
			!bytes.Contains(got.AuthorizationDetails, []byte(`"payment"`)) || got.TokenType != "DPoP" {
			t.Errorf("stored attributes %+v", got)
		}
	})
}

func TestUpdateDeleteToken(t *testing.T) {
	f := MustFixture(t)
	tok := f.mint(t, wire.TokenInput{Scopes: []string{"photos.read", "photos.write"}})
	path := fmt.Sprintf("%s/%d", f.base, tok.ID)
	newExp := f.e.clock.Now().Add(2 * time.Hour)
	var upd wire.Token
	f.e.MustDo(t, "PATCH", path, f.e.root, wire.TokenUpdate{
		Scopes: &[]string{"photos.read"}, ExpiresAt: &newExp, Roles: &[]string{"viewer"},
	}, http.StatusOK, &upd)
	if !slices.Equal(upd.Scopes, []string{"photos.read"}) || !upd.ExpiresAt.Equal(newExp) || !slices.Equal(upd.Roles, []string{"viewer"}) || upd.AccessToken != "" {
		t.Fatalf("patched %+v", upd)
	}

	f.e.MustDo(t, "PATCH", path, f.e.root, wire.TokenUpdate{NewAccessToken: true}, http.StatusOK, &upd)
	if !strings.HasPrefix(upd.AccessToken, "tka_") || upd.RefreshToken != "" {
		t.Fatalf("new access token: %+v", upd)
	}
	f.e.MustError(t, "POST", f.base+"/lookup", f.e.root, wire.TokenLookup{Token: tok.AccessToken}, http.StatusNotFound, "not_found", "")
	if got := MustLookup(t, f.e, f.svc.ID, wire.TokenLookup{Token: upd.AccessToken}); got.ID != tok.ID {
		t.Fatalf("new value finds %d", got.ID)
	}

	var rr wire.RevokeResult
	f.e.MustDo(t, "POST", path+"/revoke", f.e.root, map[string]string{"reason": "leaked"}, http.StatusOK, &rr)
	if rr.Count != 1 {
		t.Fatalf("revoke count %d", rr.Count)
	}
	f.e.MustDo(t, "POST", path+"/revoke", f.e.root, nil, http.StatusOK, &rr)
	if rr.Count != 0 {
		t.Fatalf("second revoke count %d, want 0", rr.Count)
	}
	var got wire.Token
	f.e.MustDo(t, "GET", path, f.e.root, nil, http.StatusOK, &got)
	if got.Status != "revoked" || got.RevokedReason != "leaked" || got.RevokedAt == nil {
		t.Fatalf("revoked token %+v", got)
	}
	f.e.MustError(t, "PATCH", path, f.e.root, wire.TokenUpdate{Roles: &[]string{"x"}}, http.StatusConflict, "conflict", "")

	f.e.MustDo(t, "DELETE", path, f.e.root, nil, http.StatusNoContent, nil)
	f.e.MustError(t, "GET", path, f.e.root, nil, http.StatusNotFound, "not_found", "")
	f.e.MustError(t, "DELETE", path, f.e.root, nil, http.StatusNotFound, "not_found", "")
	f.e.MustError(t, "GET", f.base+"/abc", f.e.root, nil, http.StatusBadRequest, "invalid", "id")
	f.e.MustError(t, "GET", f.base+"/lookup", f.e.root, nil, http.StatusBadRequest, "invalid", "id")
	f.e.MustError(t, "GET", "/v1/services/x/tokens/1", f.e.root, nil, http.StatusBadRequest, "invalid", "sid")

	// A token of another service is not found through this one.
	other := MustPhotos(t, f.e, "other")
	oc := MustClient(t, f.e, f.e.root, other.ID, wire.ClientInput{})
	ot := MustToken(t, f.e, other.ID, wire.TokenInput{Client: oc.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: "alice"})
	f.e.MustError(t, "GET", fmt.Sprintf("%s/%d", f.base, ot.ID), f.e.root, nil, http.StatusNotFound, "not_found", "")
	f.e.MustError(t, "POST", f.base+"/lookup", f.e.root, wire.TokenLookup{Token: ot.AccessToken}, http.StatusNotFound, "not_found", "")
}

func TestRevokeCascades(t *testing.T) {
	f := MustFixture(t)
	t.Run("AccessRevokesRefresh", func(t *testing.T) {
		tok := f.mint(t, wire.TokenInput{Subject: "dave"})
		var rr wire.RevokeResult
		f.e.MustDo(t, "POST", f.base+"/revoke", f.e.root, wire.RevokeRequest{Token: tok.AccessToken}, http.StatusOK, &rr)
		if rr.Count != 1 {
			t.Fatalf("count %d", rr.Count)
		}
		got := MustLookup(t, f.e, f.svc.ID, wire.TokenLookup{Hash: tok.RefreshTokenHash})
		if got.ID != tok.ID || got.Status != "revoked" {
			t.Fatalf("refresh token after revoking the access token: %+v", got)
		}
	})
	t.Run("ByEachSelector", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  func(tok wire.Token) wire.RevokeRequest
		}{
			{"ID", func(tok wire.Token) wire.RevokeRequest { return wire.RevokeRequest{ID: tok.ID} }},
			{"RefreshValue", func(tok wire.Token) wire.RevokeRequest { return wire.RevokeRequest{Token: tok.RefreshToken} }},
			{"Hash", func(tok wire.Token) wire.RevokeRequest { return wire.RevokeRequest{Hash: tok.AccessTokenHash} }},
		} {
			tok := f.mint(t, wire.TokenInput{Subject: "erin-" + tc.name})
			var rr wire.RevokeResult
			f.e.MustDo(t, "POST", f.base+"/revoke", f.e.root, tc.req(tok), http.StatusOK, &rr)
			got := MustLookup(t, f.e, f.svc.ID, wire.TokenLookup{Token: tok.AccessToken})
			if rr.Count != 1 || got.Status != "revoked" || got.RevokedReason != "revoked" {
				t.Errorf("%s: count %d, token %+v", tc.name, rr.Count, got)
			}
		}
	})
	t.Run("ClientSubject", func(t *testing.T) {
		a1 := f.mint(t, wire.TokenInput{Subject: "frank"})
		a2 := f.mint(t, wire.TokenInput{Subject: "frank", Client: "cli-app"})
		b1 := f.mint(t, wire.TokenInput{Subject: "gina"})
		var rr wire.RevokeResult
		f.e.MustDo(t, "POST", f.base+"/revoke", f.e.root, wire.RevokeRequest{Client: "web-app", Subject: ptr("frank"), Reason: "user asked"}, http.StatusOK, &rr)
		if rr.Count != 1 {
			t.Fatalf("client+subject count %d, want 1", rr.Count)
		}
		f.e.MustDo(t, "POST", f.base+"/revoke", f.e.root, wire.RevokeRequest{Subject: ptr("frank")}, http.StatusOK, &rr)
		if rr.Count != 1 {
			t.Fatalf("subject count %d, want 1", rr.Count)
		}
		for _, tc := range []struct {
			tok    wire.Token
			status string
		}{{a1, "revoked"}, {a2, "revoked"}, {b1, "active"}} {
			if got := MustLookup(t, f.e, f.svc.ID, wire.TokenLookup{Hash: tc.tok.AccessTokenHash}); got.Status != tc.status {
				t.Errorf("token of %s via %d: %s, want %s", tc.tok.Subject, tc.tok.Client, got.Status, tc.status)
			}
		}
		f.e.MustDo(t, "POST", f.base+"/revoke", f.e.root, wire.RevokeRequest{Client: fmt.Sprint(f.web.ID)}, http.StatusOK, &rr)
		if got := MustLookup(t, f.e, f.svc.ID, wire.TokenLookup{Hash: b1.AccessTokenHash}); rr.Count < 1 || got.Status != "revoked" {
			t.Errorf("client revoke: count %d, token %s", rr.Count, got.Status)
		}
	})
	t.Run("DeleteClient", func(t *testing.T) {
		c := MustClient(t, f.e, f.e.root, f.svc.ID, wire.ClientInput{Name: ptr("doomed")})
		t1 := f.mint(t, wire.TokenInput{Client: c.ClientID, Subject: "hank"})
		t2 := f.mint(t, wire.TokenInput{Client: c.ClientID, Subject: "ivy"})
		f.e.MustDo(t, "DELETE", fmt.Sprintf("/v1/services/%d/clients/%s", f.svc.ID, c.ClientID), f.e.root, nil, http.StatusNoContent, nil)
		l := MustTokens(t, f.e, f.svc.ID, fmt.Sprintf("client=%d&status=all", c.ID))
		if !slices.Equal(ids(l.Tokens), []int64{t2.ID, t1.ID}) {
			t.Fatalf("tokens of the deleted client: %v", ids(l.Tokens))
		}
		for _, tok := range l.Tokens {
			if tok.Status != "revoked" || tok.RevokedReason != tokend.ClientReason {
				t.Errorf("token %d after client deletion: %s %q", tok.ID, tok.Status, tok.RevokedReason)
			}
		}
	})
}

func TestConnectedApps(t *testing.T) {
	f := MustFixture(t)
	const subject = "user/42 x?y#z%" // a slash must survive the path as %2F, and ?#% their escapes
	esc := url.PathEscape(subject)
	w1 := f.mint(t, wire.TokenInput{Subject: subject, Scopes: []string{"photos.read"}})
	f.e.clock.Advance(time.Second)
	f.mint(t, wire.TokenInput{Subject: subject, Scopes: []string{"openid", "photos.read"}})
	f.e.clock.Advance(time.Second)
	c1 := f.mint(t, wire.TokenInput{Subject: subject, Client: "cli-app", Scopes: []string{"photos.write"}})
	f.mint(t, wire.TokenInput{Subject: "user/43"})
	revoked := f.mint(t, wire.TokenInput{Subject: subject, Client: "cli-app", Scopes: []string{"profile"}})
	f.e.MustDo(t, "POST", fmt.Sprintf("%s/%d/revoke", f.base, revoked.ID), f.e.root, nil, http.StatusOK, nil)

	path := fmt.Sprintf("/v1/services/%d/subjects/%s/grants", f.svc.ID, esc)
	if !strings.Contains(path, "%2F") {
		t.Fatalf("path %q does not escape the slash", path)
	}
	var gl wire.GrantList
	f.e.MustDo(t, "GET", path, f.e.root, nil, http.StatusOK, &gl)
	if gl.Subject != subject || len(gl.Grants) != 2 {
		t.Fatalf("grants %+v", gl)
	}
	cli, web := gl.Grants[0], gl.Grants[1] // newest first
	if cli.Client.ID != f.cli.ID || cli.TokenCount != 1 || !slices.Equal(cli.Scopes, []string{"photos.write"}) || !cli.FirstIssuedAt.Equal(c1.CreatedAt) {
		t.Errorf("cli grant %+v", cli)
	}
	if web.Client.ID != f.web.ID || web.TokenCount != 2 || !slices.Equal(web.Scopes, []string{"openid", "photos.read"}) ||
		!web.FirstIssuedAt.Equal(w1.CreatedAt) || !web.LastIssuedAt.After(web.FirstIssuedAt) || web.Client.ClientSecret != "" {
		t.Errorf("web grant %+v", web)
	}

	var rr wire.RevokeResult
	f.e.MustDo(t, "DELETE", path+"/web-app", f.e.root, nil, http.StatusOK, &rr)
	if rr.Count != 2 {
		t.Fatalf("disconnect count %d, want 2", rr.Count)
	}
	f.e.MustDo(t, "GET", path, f.e.root, nil, http.StatusOK, &gl)
	if len(gl.Grants) != 1 || gl.Grants[0].Client.ID != f.cli.ID {
		t.Fatalf("after disconnect: %+v", gl)
	}
	// The neighbour with a similar name is untouched.
	if l := MustTokens(t, f.e, f.svc.ID, "subject="+url.QueryEscape("user/43")); len(l.Tokens) != 1 || l.Tokens[0].Status != "active" {
		t.Fatalf("user/43: %+v", l.Tokens)
	}
	f.e.MustDo(t, "GET", fmt.Sprintf("/v1/services/%d/subjects/nobody/grants", f.svc.ID), f.e.root, nil, http.StatusOK, &gl)
	if gl.Grants == nil || len(gl.Grants) != 0 {
		t.Fatalf("no grants should be [], got %s", fmt.Sprint(gl.Grants))
	}
	long := strings.Repeat("s", 101)
	f.e.MustError(t, "GET", fmt.Sprintf("/v1/services/%d/subjects/%s/grants", f.svc.ID, long), f.e.root, nil, http.StatusBadRequest, "invalid", "subject")
}

// TestNoSecretsAtRest mints and creates every kind of secret, then reads
// the database files as bytes: only hashes may be there.
func TestNoSecretsAtRest(t *testing.T) {
	f := MustFixture(t)
	secrets := map[string]string{"client secret (web)": f.web.ClientSecret, "client secret (cli)": f.cli.ClientSecret, "root key": f.e.root}
	gen := f.mint(t, wire.TokenInput{})
	secrets["generated access"], secrets["generated refresh"] = gen.AccessToken, gen.RefreshToken
	supplied := f.mint(t, wire.TokenInput{AccessToken: "SUPPLIEDaccessVALUE0123456789", RefreshToken: "SUPPLIEDrefreshVALUE0123456789"})
	secrets["supplied access"], secrets["supplied refresh"] = "SUPPLIEDaccessVALUE0123456789", "SUPPLIEDrefreshVALUE0123456789"
	var rotated wire.Token
	f.e.MustDo(t, "PATCH", fmt.Sprintf("%s/%d", f.base, supplied.ID), f.e.root, wire.TokenUpdate{NewAccessToken: true}, http.StatusOK, &rotated)
	secrets["replaced access"] = rotated.AccessToken
	secrets["org key"] = MustKey(t, f.e, 0, tokend.PermTokensRead)
	secrets["service key"] = MustKey(t, f.e, f.svc.ID, tokend.PermTokensRead)
	var c wire.Client
	f.e.MustDo(t, "POST", fmt.Sprintf("/v1/services/%d/clients/web-app/secret", f.svc.ID), f.e.root, nil, http.StatusOK, &c)
	secrets["rotated client secret"] = c.ClientSecret
	// A user's password is stored as an argon2id hash, a code as SHA-256.
	secrets["user password"], secrets["changed user password"] = "FIRSTpasswordVALUE-0123", "SECONDpasswordVALUE-4567"
	MustUser(t, f.e, f.svc.ID, wire.UserInput{Username: "alice", Password: ptr(secrets["user password"])})
	f.e.MustDo(t, "PATCH", fmt.Sprintf("/v1/services/%d/users/alice", f.svc.ID), f.e.root, wire.UserInput{Password: ptr(secrets["changed user password"])}, http.StatusOK, nil)
	var code wire.Code
	f.e.MustDo(t, "POST", fmt.Sprintf("/v1/services/%d/authorization-codes", f.svc.ID), f.e.root,
		wire.CodeInput{Client: "web-app", Subject: "alice", RedirectURI: webRedirect}, http.StatusCreated, &code)
	secrets["authorization code"] = code.Code

	var db []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(f.e.dbPath + suffix)
		if err != nil && !(suffix != "" && os.IsNotExist(err)) {
			t.Fatal(err)
		}
		db = append(db, b...)
	}
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("%s: empty", name)
		}
		if bytes.Contains(db, []byte(v)) {
			t.Errorf("the database holds the raw %s", name)
		}
	}
	// The check can find what it looks for: the hashes are stored.
	h := tokend.HashSecret(gen.AccessToken)
	if !bytes.Contains(db, h[:]) && !bytes.Contains(db, []byte(h.String())) {
		t.Fatalf("the generated access token's hash is not in the database; is this the right file?")
	}
	ch := tokend.HashSecret(code.Code)
	if !bytes.Contains(db, ch[:]) && !bytes.Contains(db, []byte(ch.String())) {
		t.Errorf("the authorization code's hash is not in the database; was the code stored in another file?")
	}
	if !bytes.Contains(db, []byte("$argon2id$")) {
		t.Errorf("no argon2id hash in the database; was the user stored in another file?")
	}
	// The logs hold no secret either.
	for name, v := range secrets {
		if strings.Contains(f.e.logs.String(), v) {
			t.Errorf("the log holds the raw %s", name)
		}
	}
}

func TestRequestLog(t *testing.T) {
	f := MustFixture(t)
	req, _ := http.NewRequest("GET", f.e.url+f.base+"?subject=zed", nil)
	req.Header.Set("Authorization", "Bearer "+f.e.root)
	req.Header.Set("X-Request-Id", "trace-abc")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Request-Id") != "trace-abc" {
		t.Fatalf("request id not echoed: %q", res.Header.Get("X-Request-Id"))
	}
	logs := f.e.logs.String()
	var line string
	for l := range strings.Lines(logs) {
		if strings.Contains(l, "trace-abc") {
			line = l
		}
	}
	for _, want := range []string{`"route":"GET /v1/services/{sid}/tokens"`, `"status":200`, `"method":"GET"`, `"duration":`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(logs, "zed") || strings.Contains(logs, f.e.root) {
		t.Errorf("the log holds a query value or the key:\n%s", logs)
	}
}
