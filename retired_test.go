package tokend_test

import (
	"context"
	"testing"

	"github.com/tokend/tokend"
)

// TestRevokeRetiredRefreshToken: a client that revokes the refresh token
// it holds after a refresh already rotated it (its sign-out racing a
// background refresh) revokes the successor too; another client cannot.
func TestRevokeRetiredRefreshToken(t *testing.T) {
	f := MustOAuthFixture(t)
	ctx := context.Background()
	svc, _ := f.core.CachedService(ctx, f.svc.ID)
	for _, tt := range []struct {
		name   string
		revoke func(old string) error
	}{
		{"OAuth", func(old string) error { return f.core.RevokeByClient(ctx, svc, f.conf, old, "refresh_token") }},
		{"ValueOrHash", func(old string) error { return f.core.RevokeByClientValueOrHash(ctx, svc, f.conf, old, "") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first := f.MustPasswordToken(t)
			next, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.core.RevokeByClient(ctx, svc, f.pub, first.RefreshToken, ""); tokend.ErrorCode(err) != tokend.EFORBIDDEN {
				t.Fatalf("another client revoked through a retired token: %v", err)
			}
			if in, _ := f.core.Introspect(ctx, svc, next.AccessToken, ""); !in.Active {
				t.Fatal("the successor is inactive before its owner revoked anything")
			}
			if err := tt.revoke(first.RefreshToken); err != nil {
				t.Fatal(err)
			}
			for name, v := range map[string]string{"access": next.AccessToken, "refresh": next.RefreshToken} {
				if in, _ := f.core.Introspect(ctx, svc, v, ""); in.Active {
					t.Fatalf("the successor's %s token is still active after its predecessor was revoked", name)
				}
			}
		})
	}
}
