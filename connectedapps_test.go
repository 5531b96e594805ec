package tokend_test

import (
	"context"
	"testing"

	"github.com/tokend/tokend"
)

func TestOpenUserSessionByToken(t *testing.T) {
	f := MustSessionFixture(t)
	ctx := context.Background()
	viaSuper := f.mint(t, f.super, "alice", tokend.TokenInput{})
	viaOther := f.mint(t, f.other, "alice", tokend.TokenInput{})
	clientToken, err := f.core.Exchange(ctx, f.svc, f.cl, tokend.TokenRequest{GrantType: "client_credentials", Scope: "read"})
	if err != nil {
		t.Fatal(err)
	}
	revoked := f.mint(t, f.super, "alice", tokend.TokenInput{})
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		token     string
		wantCode  string
		wantField string
	}{
		{"OK", viaSuper.AccessToken, "", ""},
		{"ErrNotFirstParty", viaOther.AccessToken, tokend.EFORBIDDEN, ""},
		{"ErrClientCredentials", clientToken.AccessToken, tokend.EUNAUTHORIZED, "user"},
		{"ErrRevoked", revoked.AccessToken, tokend.EUNAUTHORIZED, "user"},
		{"ErrRefreshToken", viaSuper.RefreshToken, tokend.EUNAUTHORIZED, "user"},
		{"ErrUnknown", "tka_unknown-value-000000000000000000000", tokend.EUNAUTHORIZED, "user"},
		{"ErrMissing", "", tokend.EUNAUTHORIZED, "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := f.core.OpenUserSessionByToken(ctx, tt.token)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Subject() != "alice" || s.Client().ID != f.super.ID || s.Service().ID != f.svc.ID {
					t.Fatalf("session of %q with client %d in service %d", s.Subject(), s.Client().ID, s.Service().ID)
				}
				return
			}
			if tokend.ErrorCode(err) != tt.wantCode || tokend.ErrorField(err) != tt.wantField {
				t.Fatalf("err = %v, want %s field %q", err, tt.wantCode, tt.wantField)
			}
		})
	}

	t.Run("OKConnectedAppsLeaveOutTheSignIn", func(t *testing.T) {
		s, err := f.core.OpenUserSessionByToken(ctx, viaSuper.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		apps, err := f.core.UserClients(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != 1 || apps[0].Client.ID != f.other.ID {
			t.Fatalf("connected apps %v, want only %s", apps, f.other.ClientID)
		}
		n, err := f.core.RevokeUserClient(ctx, s, f.other.ClientID)
		if err != nil || n != 1 {
			t.Fatalf("RevokeUserClient = %d, %v; want 1", n, err)
		}
		if apps, _ := f.core.UserClients(ctx, s); len(apps) != 0 {
			t.Fatalf("after revoking, connected apps %v", apps)
		}
		// The sign-in itself still works.
		if _, err := f.core.OpenUserSessionByToken(ctx, viaSuper.AccessToken); err != nil {
			t.Fatalf("the page's own token stopped working: %v", err)
		}
	})
}
