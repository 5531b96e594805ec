package authlete

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func TestTokenList(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	first := e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read"}, Properties: []tokend.Property{{Key: "plan", Value: "gold"}}})
	e.clock.Advance(time.Second)
	short := e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read", "write"}, AccessTokenTTL: time.Minute, NoRefreshToken: true})
	e.clock.Advance(time.Second)
	revoked := e.MustIssue(t, tokend.TokenInput{})
	if _, err := e.core.RevokeTokens(ctx, e.org, e.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	ann := e.MustIssue(t, tokend.TokenInput{Subject: "ann"})
	cc := e.MustIssue(t, tokend.TokenInput{GrantType: tokend.GrantClientCredentials})
	e.clock.Advance(2 * time.Minute) // short has expired; the rest live

	list := func(t *testing.T, query string) obj {
		return e.MustResult(t, "GET", e.path("auth/token/get/list?%s", query), e.root, nil, "A101101")
	}
	hashes := func(o obj) []string {
		var out []string
		for _, t := range o.objs("accessTokens") {
			out = append(out, t.str("accessTokenHash"))
		}
		return out
	}
	h := func(its ...*tokend.IssuedToken) []string {
		var out []string
		for _, it := range its {
			out = append(out, it.Token.AccessHash.String())
		}
		return out
	}

	t.Run("DefaultsAllNotRevokedOldestFirstFive", func(t *testing.T) {
		o := list(t, "")
		if got, want := hashes(o), h(first, short, ann, cc); !slices.Equal(got, want) {
			t.Fatalf("tokens %v, want %v (revoked never listed)", got, want)
		}
		if o.num("start") != 0 || o.num("end") != 4 || o.num("totalCount") != 4 || o["client"] != nil || o["subject"] != nil {
			t.Fatalf("list head %v", o)
		}
	})
	t.Run("FieldValues", func(t *testing.T) {
		o := list(t, "subject=john&tokenStatus=VALID")
		got := o.objs("accessTokens")
		if len(got) != 1 {
			t.Fatalf("john's valid tokens: %v", got)
		}
		tok := got[0]
		ft := first.Token
		checks := map[string][2]any{
			"accessTokenHash":       {tok.str("accessTokenHash"), ft.AccessHash.String()},
			"refreshTokenHash":      {tok.str("refreshTokenHash"), ft.RefreshHash.String()},
			"accessTokenExpiresAt":  {tok.num("accessTokenExpiresAt"), ft.AccessExpiresAt.UnixMilli()},
			"refreshTokenExpiresAt": {tok.num("refreshTokenExpiresAt"), ft.RefreshExpiresAt.UnixMilli()},
			"createdAt":             {tok.num("createdAt"), ft.CreatedAt.UnixMilli()},
			"lastRefreshedAt":       {tok.num("lastRefreshedAt"), int64(0)},
			"clientId":              {tok.num("clientId"), e.cl.ID},
			"subject":               {tok.str("subject"), "john"},
			"grantType":             {tok.str("grantType"), "AUTHORIZATION_CODE"},
		}
		for k, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s = %v, want %v", k, c[0], c[1])
			}
		}
		if !slices.Equal(tok.strs("scopes"), []string{"read"}) || !slices.Equal(tok.strs("refreshTokenScopes"), []string{"read"}) {
			t.Errorf("scopes %v refresh %v", tok.strs("scopes"), tok.strs("refreshTokenScopes"))
		}
		if p := tok.objs("properties"); len(p) != 1 || p[0].str("key") != "plan" || p[0].str("value") != "gold" {
			t.Errorf("properties %v", p)
		}
		if o.str("subject") != "john" {
			t.Errorf("subject echo %q", o.str("subject"))
		}
	})
	t.Run("StatusInvalidIsExpired", func(t *testing.T) {
		if got, want := hashes(list(t, "tokenStatus=INVALID")), h(short); !slices.Equal(got, want) {
			t.Fatalf("INVALID: %v, want %v", got, want)
		}
	})
	t.Run("RangeAndTotal", func(t *testing.T) {
		o := list(t, "start=1&end=3")
		if got, want := hashes(o), h(short, ann); !slices.Equal(got, want) || o.num("start") != 1 || o.num("end") != 3 || o.num("totalCount") != 4 {
			t.Fatalf("range 1..3: %v (%v), want %v", got, o, want)
		}
		o = list(t, "start=2&end=2")
		if len(o.objs("accessTokens")) != 0 || o.num("end") != 2 || o.num("totalCount") != 4 {
			t.Fatalf("empty range: %v", o)
		}
		o = list(t, "start=3&end=100")
		if o.num("end") != 4 {
			t.Fatalf("end is where the tokens stopped: %v", o)
		}
	})
	t.Run("ByClientNumberOrAliasWithSummary", func(t *testing.T) {
		for _, ref := range []string{strconv.FormatInt(e.cl.ID, 10), e.cl.ClientID} {
			o := list(t, "clientIdentifier="+url.QueryEscape(ref))
			c := o.obj("client")
			if c.num("clientId") != e.cl.ID || c.num("number") != e.cl.ID || c.str("clientIdAlias") != e.cl.ClientID ||
				!c.boolean("clientIdAliasEnabled") || c.str("clientName") != "app" || c.str("clientType") != "CONFIDENTIAL" {
				t.Fatalf("client summary %v", c)
			}
			if o.num("totalCount") != 4 {
				t.Fatalf("tokens of the client: %v", o)
			}
		}
		o := list(t, "clientIdentifier="+e.pub.ClientID)
		if o.num("totalCount") != 0 || o.obj("client").num("clientId") != e.pub.ID {
			t.Fatalf("a client with no tokens: %v", o)
		}
	})
	t.Run("TokensReadSufficesForTheSummary", func(t *testing.T) {
		key := e.MustKey(t, e.svc.ID, tokend.PermTokensRead)
		e.MustResult(t, "GET", e.path("auth/token/get/list?clientIdentifier=%d", e.cl.ID), key, nil, "A101101")
	})
	refusals := []struct {
		name, query string
		status      int
		code, field string
	}{
		{"ErrStartNotNumber", "start=x", 400, "A101201", "start"},
		{"ErrNegativeEnd", "end=-1", 400, "A101201", "end"},
		{"ErrEndBeforeStart", "start=3&end=1", 400, "A101201", "end"},
		{"ErrRangeTooWide", "end=1001", 400, "A101201", "end"},
		{"ErrUnknownStatus", "tokenStatus=REVOKED", 400, "A101201", "tokenStatus"},
		{"ErrEmptySubject", "subject=", 400, "A101201", "subject"},
		{"ErrRepeatedParameter", "subject=a&subject=b", 400, "A101201", "subject"},
		{"ErrUnknownClient", "clientIdentifier=nobody", 404, "A101301", ""},
		{"ErrEmptyClientIdentifier", "clientIdentifier=", 400, "A101201", "clientIdentifier"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			e.MustError(t, "GET", e.path("auth/token/get/list?%s", tt.query), e.root, nil, tt.status, tt.code, tt.field)
		})
	}
}

func TestTokenCreate(t *testing.T) {
	e := MustEnv(t)
	create := func(t *testing.T, body obj) obj {
		return e.MustResult(t, "POST", e.path("auth/token/create"), e.root, body, "A102101")
	}
	t.Run("OKAuthorizationCode", func(t *testing.T) {
		o := create(t, obj{"grantType": "AUTHORIZATION_CODE", "clientId": e.cl.ID, "subject": "john",
			"scopes": []string{"read", "write"}, "accessTokenDuration": 600, "refreshTokenDuration": 7200,
			"properties": []obj{{"key": "plan", "value": "gold", "hidden": true}}, "acr": "urn:acr:2", "authTime": 1740830000,
			"sessionId": "sess-1", "resources": []string{"https://api.example/"},
			"authorizationDetails": obj{"elements": []obj{{"type": "payment", "actions": []string{"pay"}, "dataTypes": []string{"x"}, "otherFields": `{"amount":"12.50"}`}}}})
		now := e.clock.Now()
		if o.str("action") != "OK" || o.num("expiresIn") != 600 || o.num("expiresAt") != now.Add(600*time.Second).UnixMilli() ||
			o.str("tokenType") != "Bearer" || o.str("grantType") != "AUTHORIZATION_CODE" || o.str("subject") != "john" ||
			o.num("clientId") != e.cl.ID || o.str("sessionId") != "sess-1" {
			t.Fatalf("create response %v", o)
		}
		id, _ := strconv.ParseInt(o.str("tokenId"), 10, 64)
		tok := e.MustToken(t, id)
		if tok.AccessHash != tokend.HashSecret(o.str("accessToken")) || tok.RefreshHash != tokend.HashSecret(o.str("refreshToken")) {
			t.Fatal("the values answered are not the stored token's")
		}
		if !tok.RefreshExpiresAt.Equal(now.Add(2*time.Hour)) || tok.ACR != "urn:acr:2" || tok.AuthTime.Unix() != 1740830000 ||
			!tok.Properties[0].Hidden || string(tok.AuthorizationDetails) != `[{"actions":["pay"],"amount":"12.50","datatypes":["x"],"type":"payment"}]` {
			t.Fatalf("stored %+v (details %s)", tok, tok.AuthorizationDetails)
		}
		el := o.obj("authorizationDetails").objs("elements")
		if len(el) != 1 || el[0].str("type") != "payment" || el[0].str("otherFields") != `{"amount":"12.50"}` || !slices.Equal(el[0].strs("dataTypes"), []string{"x"}) {
			t.Fatalf("authorizationDetails answered %v", o["authorizationDetails"])
		}
	})
	t.Run("OKMigratedValuesEchoed", func(t *testing.T) {
		o := create(t, obj{"grantType": "PASSWORD", "clientId": 0, "clientIdentifier": e.cl.ClientID, "subject": "mig",
			"accessToken": "tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco", "refreshToken": "jv4B_7_kpY-Rez_E7bYIxGYnZk43w18uigkaeUe6tc4"})
		if o.str("accessToken") != "tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco" || o.str("clientIdentifier") != e.cl.ClientID {
			t.Fatalf("migrated: %v", o)
		}
		before := e.MustSnapshot(t)
		e.MustError(t, "POST", e.path("auth/token/create"), e.root, obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "mig",
			"accessToken": "tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco"}, http.StatusBadRequest, "A102202", "accessToken")
		e.MustUnchanged(t, before)
	})
	t.Run("OKClientCredentialsIgnoresSubjectAsAuthleteDoes", func(t *testing.T) {
		o := create(t, obj{"grantType": "CLIENT_CREDENTIALS", "clientId": e.cl.ID, "subject": "ignored", "refreshTokenDuration": 99})
		if o["refreshToken"] != nil || o["subject"] != nil || o["refreshTokenScopes"] != nil {
			t.Fatalf("client credentials: %v", o)
		}
	})
	t.Run("OKPersistentIgnoresDuration", func(t *testing.T) {
		o := create(t, obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "p", "accessTokenPersistent": true, "accessTokenDuration": 60})
		id, _ := strconv.ParseInt(o.str("tokenId"), 10, 64)
		if o.num("expiresAt") != 0 || o.num("expiresIn") != 0 || !e.MustToken(t, id).Persistent {
			t.Fatalf("persistent: %v", o)
		}
	})
	t.Run("OKDPoPBound", func(t *testing.T) {
		o := create(t, obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "d", "dpopKeyThumbprint": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"})
		if o.str("tokenType") != "DPoP" {
			t.Fatalf("tokenType %q", o.str("tokenType"))
		}
	})
	refusals := []struct {
		name   string
		body   obj
		status int
		code   string
		field  string
	}{
		{"ErrNoClient", obj{"grantType": "PASSWORD", "subject": "x"}, 400, "A102201", "clientId"},
		{"ErrClientIdAndIdentifierDiffer", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "clientIdentifier": e.pub.ClientID, "subject": "x"}, 400, "A102201", "clientIdentifier"},
		{"ErrUnknownClient", obj{"grantType": "PASSWORD", "clientId": 12345, "subject": "x"}, 404, "A102301", ""},
		{"ErrAnotherServicesClient", obj{"grantType": "PASSWORD", "clientIdentifier": "nope", "subject": "x"}, 404, "A102301", ""},
		{"ErrSubjectRequired", obj{"grantType": "PASSWORD", "clientId": e.cl.ID}, 400, "A102201", "subject"},
		{"ErrScopeNotAllowed", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "scopes": []string{"admin"}}, 400, "A102201", "scopes"},
		{"ErrNegativeDuration", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "accessTokenDuration": -1}, 400, "A102201", "accessTokenDuration"},
		{"ErrDurationTooLong", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "accessTokenDuration": 4000000000}, 400, "A102201", "accessTokenDuration"},
		{"ErrJWTClaims", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "jwtAtClaims": "{}"}, 400, "A102203", "jwtAtClaims"},
		{"ErrExternalAttachment", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "forExternalAttachment": true}, 400, "A102203", "forExternalAttachment"},
		{"ErrEntityID", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "clientEntityIdUsed": true}, 400, "A102203", "clientEntityIdUsed"},
		{"ErrOtherFieldsNotObject", obj{"grantType": "PASSWORD", "clientId": e.cl.ID, "subject": "x", "authorizationDetails": obj{"elements": []obj{{"type": "a", "otherFields": "[1]"}}}}, 400, "A102201", "authorizationDetails"},
		{"ErrPublicClientCredentials", obj{"grantType": "CLIENT_CREDENTIALS", "clientId": e.pub.ID}, 400, "A102201", "grantType"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			e.MustError(t, "POST", e.path("auth/token/create"), e.root, tt.body, tt.status, tt.code, tt.field)
			e.MustUnchanged(t, before)
		})
	}
}

func TestTokenUpdate(t *testing.T) {
	e := MustEnv(t)
	update := func(t *testing.T, body obj) obj {
		return e.MustResult(t, "POST", e.path("auth/token/update"), e.root, body, "A103101")
	}
	it := e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read"}, Properties: []tokend.Property{{Key: "a", Value: "1"}}})
	t.Run("OKByValueScopesAndExpiry", func(t *testing.T) {
		exp := e.clock.Now().Add(10 * time.Minute)
		o := update(t, obj{"accessToken": it.AccessToken, "scopes": []string{"read", "write"}, "accessTokenExpiresAt": exp.UnixMilli()})
		tok := e.MustToken(t, it.Token.ID)
		if o.str("action") != "OK" || o.str("accessToken") != it.AccessToken || o.num("accessTokenExpiresAt") != exp.UnixMilli() ||
			!slices.Equal(o.strs("scopes"), []string{"read", "write"}) || o.str("tokenId") != strconv.FormatInt(tok.ID, 10) || o.str("tokenType") != "Bearer" {
			t.Fatalf("update response %v", o)
		}
		if !slices.Equal(tok.Scopes, []string{"read", "write"}) || !tok.AccessExpiresAt.Equal(exp) || len(tok.Properties) != 1 {
			t.Fatalf("stored %+v: properties (not sent) must be kept", tok)
		}
	})
	t.Run("OKByHashZeroAndNullMeanUnchanged", func(t *testing.T) {
		before := e.MustToken(t, it.Token.ID)
		o := update(t, obj{"accessToken": "", "accessTokenHash": hashOf(it.AccessToken), "accessTokenExpiresAt": 0, "scopes": nil, "properties": nil})
		after := e.MustToken(t, it.Token.ID)
		if !after.AccessExpiresAt.Equal(before.AccessExpiresAt) || !slices.Equal(after.Scopes, before.Scopes) || len(after.Properties) != 1 {
			t.Fatalf("an update with nothing to change changed %+v into %+v", before, after)
		}
		if o["accessToken"] != nil {
			t.Fatalf("by hash, no value to answer: %v", o)
		}
	})
	t.Run("OKPersistentAndBack", func(t *testing.T) {
		update(t, obj{"accessToken": it.AccessToken, "accessTokenPersistent": true, "accessTokenExpiresAt": 1})
		if tok := e.MustToken(t, it.Token.ID); !tok.Persistent {
			t.Fatalf("not persistent: %+v", tok)
		}
		exp := e.clock.Now().Add(time.Hour)
		update(t, obj{"accessToken": it.AccessToken, "accessTokenExpiresAt": exp.UnixMilli()})
		if tok := e.MustToken(t, it.Token.ID); tok.Persistent || !tok.AccessExpiresAt.Equal(exp) {
			t.Fatalf("a new expiry ends persistence: %+v", tok)
		}
	})
	t.Run("OKNewValue", func(t *testing.T) {
		o := update(t, obj{"accessToken": it.AccessToken, "accessTokenValueUpdated": true, "properties": []obj{}})
		if o.str("accessToken") == it.AccessToken || e.MustToken(t, it.Token.ID).AccessHash != tokend.HashSecret(o.str("accessToken")) {
			t.Fatalf("new value %q not stored", o.str("accessToken"))
		}
		if len(e.MustToken(t, it.Token.ID).Properties) != 0 {
			t.Fatal("properties [] clears them")
		}
		e.MustError(t, "POST", e.path("auth/token/update"), e.root, obj{"accessToken": it.AccessToken}, 404, "A103301", "")
		it.AccessToken = o.str("accessToken")
	})
	revoked := e.MustIssue(t, tokend.TokenInput{})
	if _, err := e.core.RevokeTokens(context.Background(), e.org, e.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	refusals := []struct {
		name   string
		body   obj
		status int
		code   string
		field  string
		action string
	}{
		{"ErrNoToken", obj{"scopes": []string{"read"}}, 400, "A103201", "accessToken", "BAD_REQUEST"},
		{"ErrUnknownToken", obj{"accessToken": "no-such-token-value"}, 404, "A103301", "", "NOT_FOUND"},
		{"ErrRevokedIsGone", obj{"accessToken": revoked.AccessToken, "scopes": []string{}}, 404, "A103301", "", "NOT_FOUND"},
		{"ErrBadHash", obj{"accessTokenHash": "short"}, 400, "A103201", "accessTokenHash", "BAD_REQUEST"},
		{"ErrScopeNotAllowed", obj{"accessToken": it.AccessToken, "scopes": []string{"admin"}}, 400, "A103201", "scopes", "BAD_REQUEST"},
		{"ErrTooFar", obj{"accessToken": it.AccessToken, "accessTokenExpiresAt": e.clock.Now().AddDate(200, 0, 0).UnixMilli()}, 400, "A103201", "accessTokenExpiresAt", "BAD_REQUEST"},
		{"ErrOtherTokenID", obj{"accessToken": it.AccessToken, "tokenId": "999"}, 400, "A103203", "tokenId", "BAD_REQUEST"},
		{"ErrExternalAttachment", obj{"accessToken": it.AccessToken, "forExternalAttachment": true}, 400, "A103203", "forExternalAttachment", "BAD_REQUEST"},
		{"ErrForbidden", obj{"accessToken": it.AccessToken}, 403, "A103403", "", "FORBIDDEN"},
	}
	readOnly := e.MustKey(t, e.svc.ID, tokend.PermTokensRead)
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			key := e.root
			if tt.status == 403 {
				key = readOnly
			}
			before := e.MustSnapshot(t)
			o := e.MustError(t, "POST", e.path("auth/token/update"), key, tt.body, tt.status, tt.code, tt.field)
			if o.str("action") != tt.action {
				t.Fatalf("action %q, want %q", o.str("action"), tt.action)
			}
			e.MustUnchanged(t, before)
		})
	}
}

func TestTokenDelete(t *testing.T) {
	e := MustEnv(t)
	byValue := e.MustIssue(t, tokend.TokenInput{})
	byHash := e.MustIssue(t, tokend.TokenInput{})
	for _, tt := range []struct {
		name, ident string
		id          int64
	}{{"OKByValue", byValue.AccessToken, byValue.Token.ID}, {"OKByHash", hashOf(byHash.AccessToken), byHash.Token.ID}} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Do(t, "DELETE", e.path("auth/token/delete/%s", url.PathEscape(tt.ident)), e.root, nil)
			if res.status != http.StatusNoContent || len(res.body) != 0 {
				t.Fatalf("delete = %s, want 204 and no body", res)
			}
			if _, err := e.core.GetToken(context.Background(), e.org, e.svc.ID, tt.id); tokend.ErrorCode(err) != tokend.ENOTFOUND {
				t.Fatalf("token %d still there: %v", tt.id, err)
			}
			e.MustError(t, "DELETE", e.path("auth/token/delete/%s", url.PathEscape(tt.ident)), e.root, nil, 404, "A104301", "")
		})
	}
	t.Run("ErrRefreshValueIsNoAccessToken", func(t *testing.T) {
		it := e.MustIssue(t, tokend.TokenInput{})
		before := e.MustSnapshot(t)
		e.MustError(t, "DELETE", e.path("auth/token/delete/%s", it.RefreshToken), e.root, nil, 404, "A104301", "")
		e.MustUnchanged(t, before)
	})
}

func TestTokenRevoke(t *testing.T) {
	e := MustEnv(t)
	revoke := func(t *testing.T, body obj, want int) {
		t.Helper()
		o := e.MustResult(t, "POST", e.path("auth/token/revoke"), e.root, body, "A105101")
		if o.num("count") != int64(want) {
			t.Fatalf("revoke %v: count %d, want %d", body, o.num("count"), want)
		}
	}
	live := func(it *tokend.IssuedToken) bool { return e.MustToken(t, it.Token.ID).RevokedAt.IsZero() }
	t.Run("AccessTokenFirst", func(t *testing.T) {
		a, b := e.MustIssue(t, tokend.TokenInput{}), e.MustIssue(t, tokend.TokenInput{})
		revoke(t, obj{"accessTokenIdentifier": a.AccessToken, "refreshTokenIdentifier": b.RefreshToken, "subject": "john"}, 1)
		if live(a) || !live(b) {
			t.Fatal("with an access token given, only it is revoked")
		}
		revoke(t, obj{"accessTokenIdentifier": a.AccessToken}, 0) // revoked is gone
	})
	t.Run("RefreshTokenByHash", func(t *testing.T) {
		a := e.MustIssue(t, tokend.TokenInput{})
		revoke(t, obj{"refreshTokenIdentifier": hashOf(a.RefreshToken), "clientIdentifier": e.cl.ClientID}, 1)
		if live(a) {
			t.Fatal("not revoked")
		}
	})
	t.Run("ClientAndSubject", func(t *testing.T) {
		john, ann := e.MustIssue(t, tokend.TokenInput{}), e.MustIssue(t, tokend.TokenInput{Subject: "ann"})
		revoke(t, obj{"clientIdentifier": strconv.FormatInt(e.cl.ID, 10), "subject": "ann"}, 1)
		if !live(john) || live(ann) {
			t.Fatal("client and subject: only ann's")
		}
	})
	t.Run("SubjectAlone", func(t *testing.T) {
		x1, x2 := e.MustIssue(t, tokend.TokenInput{Subject: "x"}), e.MustIssue(t, tokend.TokenInput{Subject: "x", Client: e.pub.ClientID})
		revoke(t, obj{"subject": "x"}, 2)
		if live(x1) || live(x2) {
			t.Fatal("subject: all of x's tokens")
		}
	})
	t.Run("ClientAlone", func(t *testing.T) {
		p := e.MustIssue(t, tokend.TokenInput{Subject: "y", Client: e.pub.ClientID})
		revoke(t, obj{"clientIdentifier": e.pub.ClientID}, 1)
		if live(p) {
			t.Fatal("client: all its tokens")
		}
	})
	t.Run("UnknownTokenRevokesNone", func(t *testing.T) {
		revoke(t, obj{"accessTokenIdentifier": "no-such-token-value"}, 0)
	})
	refusals := []struct {
		name        string
		body        obj
		status      int
		code, field string
	}{
		{"ErrNothingNamed", obj{}, 400, "A105201", "body"},
		{"ErrUnknownClientAlias", obj{"clientIdentifier": "nobody"}, 404, "A105301", ""},
		{"ErrBadSubject", obj{"subject": ""}, 400, "A105201", "subject"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			e.MustError(t, "POST", e.path("auth/token/revoke"), e.root, tt.body, tt.status, tt.code, tt.field)
			e.MustUnchanged(t, before)
		})
	}
}
