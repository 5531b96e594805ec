package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/tokend/tokend"
)

func TestDiscovery(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	custom := MustService(t, e, tokend.ServiceInput{
		Name: ptr("custom"), Issuer: ptr("https://login.example.com/tenants/blue"), AllowPlainPKCE: ptr(true),
		GrantTypesSupported: &[]tokend.GrantType{tokend.GrantClientCredentials}, ScopesSupported: &[]string{},
	})
	endpoints := func(s *tokend.Service) (string, string, string) {
		base := fmt.Sprintf("%s/oauth/%d/", e.url, s.ID)
		return base + "token", base + "introspect", base + "revoke"
	}
	tokenURL, introspectURL, revokeURL := endpoints(svc)
	wantDefault := map[string]any{
		"issuer":                                        fmt.Sprintf("%s/oauth/%d", e.url, svc.ID),
		"token_endpoint":                                tokenURL,
		"introspection_endpoint":                        introspectURL,
		"revocation_endpoint":                           revokeURL,
		"grant_types_supported":                         []any{"authorization_code", "client_credentials", "refresh_token", "password"},
		"response_types_supported":                      []any{"code"},
		"scopes_supported":                              []any{"read", "write", "admin"},
		"token_endpoint_auth_methods_supported":         []any{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":              []any{"S256"},
	}
	tokenURL, introspectURL, revokeURL = endpoints(custom)
	wantCustom := map[string]any{
		"issuer":                                        "https://login.example.com/tenants/blue",
		"token_endpoint":                                tokenURL,
		"introspection_endpoint":                        introspectURL,
		"revocation_endpoint":                           revokeURL,
		"grant_types_supported":                         []any{"client_credentials"},
		"response_types_supported":                      []any{},
		"scopes_supported":                              []any{},
		"token_endpoint_auth_methods_supported":         []any{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":              []any{"S256", "plain"},
	}
	for _, tc := range []struct {
		name, path string
		want       map[string]any
	}{
		{"OKDefaultInserted", fmt.Sprintf("/.well-known/oauth-authorization-server/oauth/%d", svc.ID), wantDefault},
		{"OKDefaultAppended", fmt.Sprintf("/oauth/%d/.well-known/oauth-authorization-server", svc.ID), wantDefault},
		{"OKCustomInserted", "/.well-known/oauth-authorization-server/tenants/blue", wantCustom},
		{"OKCustomAppended", fmt.Sprintf("/oauth/%d/.well-known/oauth-authorization-server", custom.ID), wantCustom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Get(t, tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %s", tc.path, r)
			}
			var got map[string]any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("metadata\n got %v\nwant %v", got, tc.want)
			}
			if cc := r.header.Get("Cache-Control"); cc != metadataMaxAge {
				t.Fatalf("Cache-Control = %q, want %q", cc, metadataMaxAge)
			}
		})
	}
	for _, tc := range []struct{ name, path string }{
		{"ErrUnknownIssuerPath", "/.well-known/oauth-authorization-server/oauth/1"},
		{"ErrDefaultPathOfCustomIssuer", fmt.Sprintf("/.well-known/oauth-authorization-server/oauth/%d", custom.ID)},
		{"ErrRoot", "/.well-known/oauth-authorization-server"},
		{"ErrUnknownService", "/oauth/1/.well-known/oauth-authorization-server"},
		{"ErrNonNumericService", "/oauth/blue/.well-known/oauth-authorization-server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Get(t, tc.path)
			if r.status != http.StatusNotFound || r.oauthErr(t).Error != "not_found" {
				t.Fatalf("GET %s = %s, want 404 not_found", tc.path, r)
			}
		})
	}
}
