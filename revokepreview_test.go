package tokend_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func TestPreviewRevoke(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	mint := func(subject string, ttl time.Duration) *tokend.IssuedToken {
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantPassword, Subject: subject,
			Scopes: []string{"read"}, AccessTokenTTL: ttl, RefreshTokenTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	mint("alice", time.Minute) // expires below: still revocable, so counted
	var newest *tokend.IssuedToken
	for range 3 {
		f.clock.Advance(time.Second)
		newest = mint("alice", time.Hour)
	}
	gone := mint("alice", time.Hour)
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: gone.Token.ID}); err != nil {
		t.Fatal(err)
	}
	mint("bob", time.Hour)
	f.clock.Advance(2 * time.Minute)
	alice, bob, nobody := "alice", "bob", "nobody"
	readOnly, _, err := f.core.CreateKey(ctx, f.org, f.svc.ID, tokend.KeyInput{Name: "ro", Permissions: []tokend.Permission{tokend.PermTokensRead}})
	if err != nil {
		t.Fatal(err)
	}
	ro := &tokend.Principal{KeyID: readOnly.ID, ServiceID: f.svc.ID, Permissions: readOnly.Permissions}

	tests := []struct {
		name      string
		p         *tokend.Principal
		req       tokend.RevokeRequest
		wantCount int
		wantCode  string
		wantField string
	}{
		{"OKSubject", f.org, tokend.RevokeRequest{Subject: &alice}, 4, "", ""},
		{"OKClient", f.org, tokend.RevokeRequest{Client: f.cl.ClientID}, 5, "", ""},
		{"OKClientAndSubject", f.org, tokend.RevokeRequest{Client: f.cl.ClientID, Subject: &bob}, 1, "", ""},
		{"OKNothing", f.org, tokend.RevokeRequest{Subject: &nobody}, 0, "", ""},
		{"ErrOneToken", f.org, tokend.RevokeRequest{TokenID: newest.Token.ID}, 0, tokend.EINVALID, "token"},
		{"ErrNothingNamed", f.org, tokend.RevokeRequest{}, 0, tokend.EINVALID, "client"},
		{"ErrUnknownClient", f.org, tokend.RevokeRequest{Client: "no-such-client"}, 0, tokend.ENOTFOUND, ""},
		{"ErrReadOnlyKey", ro, tokend.RevokeRequest{Subject: &alice}, 0, tokend.EFORBIDDEN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.core.PreviewRevoke(ctx, tt.p, f.svc.ID, tt.req, 2)
			if tt.wantCode != "" {
				if tokend.ErrorCode(err) != tt.wantCode || tokend.ErrorField(err) != tt.wantField {
					t.Fatalf("err = %v, want %s field %q", err, tt.wantCode, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Count != tt.wantCount || len(got.Sample) != min(2, tt.wantCount) {
				t.Fatalf("preview: count %d with %d samples, want %d", got.Count, len(got.Sample), tt.wantCount)
			}
		})
	}
	t.Run("OKRevokeRevokesWhatThePreviewCounted", func(t *testing.T) {
		req := tokend.RevokeRequest{Subject: &alice}
		before, err := f.core.PreviewRevoke(ctx, f.org, f.svc.ID, req, 1)
		if err != nil {
			t.Fatal(err)
		}
		n, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, req)
		if err != nil || n != before.Count {
			t.Fatalf("RevokeTokens = %d, %v; the preview said %d", n, err, before.Count)
		}
		after, err := f.core.PreviewRevoke(ctx, f.org, f.svc.ID, req, 1)
		if err != nil || after.Count != 0 {
			t.Fatalf("preview after revoking: %+v, %v; want 0", after, err)
		}
	})
	t.Run("OKSampleIsNewestFirst", func(t *testing.T) {
		carol := "carol"
		var last *tokend.IssuedToken
		for range 3 {
			f.clock.Advance(time.Second)
			last = mint(carol, time.Hour)
		}
		got, err := f.core.PreviewRevoke(ctx, f.org, f.svc.ID, tokend.RevokeRequest{Subject: &carol}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != 3 || len(got.Sample) != 1 || got.Sample[0].ID != last.Token.ID {
			t.Fatalf("preview %+v, want 3 with the newest (%d) as sample", got, last.Token.ID)
		}
	})
}
