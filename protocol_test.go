package tokend_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func TestOAuthErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"InvalidClient", tokend.Errorf(tokend.EUNAUTHORIZED, "x"), "invalid_client"},
		{"InvalidGrant", tokend.Errorf(tokend.EGRANT, "x"), "invalid_grant"},
		{"UnauthorizedClient", tokend.Errorf(tokend.EFORBIDDEN, "x"), "unauthorized_client"},
		{"UnsupportedGrantType", tokend.Errorf(tokend.EUNSUPPORTED, "x"), "unsupported_grant_type"},
		{"InvalidScope", tokend.Invalid("scope", "x"), "invalid_scope"},
		{"InvalidRequest", tokend.Invalid("code", "x"), "invalid_request"},
		{"NotTheClientsFaultNotFound", tokend.NotFound("service"), ""},
		{"NotTheClientsFaultUnavailable", tokend.Errorf(tokend.EUNAVAILABLE, "x"), ""},
		{"NotTheClientsFaultForeign", errors.New("boom"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokend.OAuthErrorCode(tt.err); got != tt.want {
				t.Fatalf("OAuthErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestTokenResponse(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	it := f.MustIssue(t, "john", "read")
	f.clock.Advance(10 * time.Minute)
	got := f.core.TokenResponse(it)
	if got.AccessToken != it.AccessToken || got.RefreshToken != it.RefreshToken || got.Scope != "read" || got.TokenType != "Bearer" {
		t.Fatalf("TokenResponse = %+v", got)
	}
	if got.ExpiresIn == nil || *got.ExpiresIn != int64((50*time.Minute)/time.Second) {
		t.Fatalf("expires_in = %v, want the 50 minutes left", got.ExpiresIn)
	}
	persistent, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
		Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "john",
		Persistent: true, DPoPThumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
	})
	if err != nil {
		t.Fatal(err)
	}
	got = f.core.TokenResponse(persistent)
	if got.ExpiresIn != nil || got.TokenType != "DPoP" {
		t.Fatalf("persistent DPoP token: %+v, want no expires_in and token_type DPoP", got)
	}
}

func TestIntrospectionResponseProperties(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
		Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "john", Scopes: []string{"read"},
		Properties: []tokend.Property{
			{Key: "plan", Value: "gold"},
			{Key: "internal", Value: "x", Hidden: true},
			{Key: "sub", Value: "forged"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.core.Introspect(ctx, f.svc, it.AccessToken, "")
	if err != nil || !in.Active {
		t.Fatalf("Introspect = %+v, %v", in, err)
	}
	for _, tt := range []struct {
		name         string
		withHidden   bool
		wantInternal bool
	}{{"HiddenLeftOut", false, false}, {"HiddenShownWhenAsked", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(f.core.IntrospectionResponse(f.svc, in, tt.withHidden))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got["active"] != true || got["plan"] != "gold" || got["sub"] != "john" || got["scope"] != "read" {
				t.Fatalf("response %s: want active, plan=gold, the real sub and scope", raw)
			}
			if _, ok := got["internal"]; ok != tt.wantInternal {
				t.Fatalf("response %s: hidden property shown = %v, want %v", raw, ok, tt.wantInternal)
			}
		})
	}
	t.Run("InactiveSaysNothingElse", func(t *testing.T) {
		raw, _ := json.Marshal(f.core.IntrospectionResponse(f.svc, &tokend.Introspection{}, true))
		if string(raw) != `{"active":false}` {
			t.Fatalf("inactive = %s", raw)
		}
	})
}

func TestOAuthParameters(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"OK", "token=abc&token_type_hint=access_token", map[string]string{"token": "abc", "token_type_hint": "access_token"}, false},
		{"OKEmptyIsOmitted", "token=abc&scope=", map[string]string{"token": "abc"}, false},
		{"OKDecoded", "scope=read+write&x=%2F", map[string]string{"scope": "read write", "x": "/"}, false},
		{"ErrRepeated", "token=a&token=b", nil, true},
		{"ErrMalformed", "token=%zz", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokend.OAuthParameters(tt.in)
			if tt.wantErr {
				wantCode(t, err, tokend.EINVALID, "body")
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("OAuthParameters(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
	if g, ok := tokend.WireGrant("refresh_token"); !ok || g != tokend.GrantRefreshToken {
		t.Fatalf("WireGrant(refresh_token) = %v, %v", g, ok)
	}
	if _, ok := tokend.WireGrant("implicit"); ok {
		t.Fatal("WireGrant(implicit): the token endpoint serves no implicit grant")
	}
}
