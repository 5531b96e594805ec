package tokend_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

// TestLimits checks each bound on what a request may carry at the bound
// (accepted) and one past it (refused, naming the field, storing nothing).
func TestLimits(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	many := func(n int, format string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(format, i)
		}
		return out
	}
	// A service and client that support the most scopes a token may carry.
	scopes := many(tokend.MaxScopes, "s%d")
	svc, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("limits"), ScopesSupported: &scopes})
	if err != nil {
		t.Fatal(err)
	}
	cl, _, err := f.core.CreateClient(ctx, f.org, svc.ID, tokend.ClientInput{Name: ptr("app")})
	if err != nil {
		t.Fatal(err)
	}
	props := func(n, keyLen, valLen int) []tokend.Property {
		out := make([]tokend.Property, n)
		for i := range out {
			k := fmt.Sprintf("%0*d", keyLen, i)
			out[i] = tokend.Property{Key: k, Value: strings.Repeat("v", valLen)}
		}
		return out
	}
	details := func(n int) []byte { return []byte(`[{"type":"` + strings.Repeat("x", n-len(`[{"type":""}]`)) + `"}]`) }
	tests := []struct {
		name  string
		field string
		ok    func(in *tokend.TokenInput)
		bad   func(in *tokend.TokenInput)
	}{
		{"Scopes", "scopes", func(in *tokend.TokenInput) { in.Scopes = scopes },
			func(in *tokend.TokenInput) { in.Scopes = append(scopes, "s-extra") }},
		{"Subject", "subject", func(in *tokend.TokenInput) { in.Subject = strings.Repeat("u", tokend.MaxSubjectLen) },
			func(in *tokend.TokenInput) { in.Subject = strings.Repeat("u", tokend.MaxSubjectLen+1) }},
		{"PropertyCount", "properties", func(in *tokend.TokenInput) { in.Properties = props(tokend.MaxProperties, 3, 1) },
			func(in *tokend.TokenInput) { in.Properties = props(tokend.MaxProperties+1, 3, 1) }},
		{"PropertyKey", "properties", func(in *tokend.TokenInput) { in.Properties = props(1, tokend.MaxPropertyKeyLen, 1) },
			func(in *tokend.TokenInput) { in.Properties = props(1, tokend.MaxPropertyKeyLen+1, 1) }},
		{"PropertyValue", "properties", func(in *tokend.TokenInput) { in.Properties = props(1, 3, tokend.MaxPropertyValLen) },
			func(in *tokend.TokenInput) { in.Properties = props(1, 3, tokend.MaxPropertyValLen+1) }},
		{"Roles", "roles", func(in *tokend.TokenInput) { in.Roles = many(tokend.MaxRoles, "r%d") },
			func(in *tokend.TokenInput) { in.Roles = many(tokend.MaxRoles+1, "r%d") }},
		{"AuthorizationDetails", "authorization_details", func(in *tokend.TokenInput) { in.AuthorizationDetails = details(tokend.MaxAuthzDetails) },
			func(in *tokend.TokenInput) { in.AuthorizationDetails = details(tokend.MaxAuthzDetails + 1) }},
		{"Resources", "resources", func(in *tokend.TokenInput) { in.Resources = many(tokend.MaxListLen, "https://api.example/%d") },
			func(in *tokend.TokenInput) { in.Resources = many(tokend.MaxListLen+1, "https://api.example/%d") }},
	}
	count := func() int {
		l, err := f.core.ListTokens(ctx, f.org, svc.ID, tokend.TokenQuery{Status: tokend.StatusAll, PageSize: tokend.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Tokens)
	}
	for _, tt := range tests {
		input := func(mod func(*tokend.TokenInput)) tokend.TokenInput {
			in := tokend.TokenInput{Client: cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "alice", Scopes: []string{"s1"}}
			mod(&in)
			return in
		}
		t.Run("OK"+tt.name+"AtTheBound", func(t *testing.T) {
			if _, err := f.core.CreateToken(ctx, f.org, svc.ID, input(tt.ok)); err != nil {
				t.Fatalf("at the bound: %v", err)
			}
		})
		t.Run("Err"+tt.name+"PastTheBound", func(t *testing.T) {
			before := count()
			_, err := f.core.CreateToken(ctx, f.org, svc.ID, input(tt.bad))
			wantCode(t, err, tokend.EINVALID, tt.field)
			if count() != before {
				t.Fatal("a refused token was stored")
			}
		})
	}
	t.Run("ErrPageSizePastTheBound", func(t *testing.T) {
		_, err := f.core.ListTokens(ctx, f.org, svc.ID, tokend.TokenQuery{PageSize: tokend.MaxPageSize + 1})
		wantCode(t, err, tokend.EINVALID, "page_size")
	})
	t.Run("ErrServiceScopesPastTheBound", func(t *testing.T) {
		over := many(tokend.MaxScopes+1, "s%d")
		_, err := f.core.UpdateService(ctx, f.org, svc.ID, tokend.ServiceInput{ScopesSupported: &over})
		wantCode(t, err, tokend.EINVALID, "scopes_supported")
	})
}
