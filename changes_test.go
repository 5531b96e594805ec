package tokend_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/sqlite"
)

// Two cores on one store stand for two nodes on one database: what one
// changes, the other holds in memory until it is told (ApplyChange).
func TestApplyChange(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nodes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clk := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	// TTLs far longer than the test: only a change can refresh B.
	cfg := tokend.Config{BaseURL: "https://a.example", Now: clk.Now, CacheTTL: time.Hour, TokenCacheTTL: time.Hour}
	a, b := tokend.New(store, cfg), tokend.New(store, cfg)
	org := &tokend.Principal{Permissions: []tokend.Permission{tokend.PermAll}}
	svc, err := a.CreateService(ctx, org, tokend.ServiceInput{Name: ptr("s"), ScopesSupported: &[]string{"read"}})
	if err != nil {
		t.Fatal(err)
	}

	type setup struct {
		svc    *tokend.Service
		cl     *tokend.Client
		secret string
		token  *tokend.IssuedToken
	}
	newSetup := func(t *testing.T) setup {
		t.Helper()
		cl, secret, err := a.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("c"), Scopes: &[]string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		it, err := a.CreateToken(ctx, org, svc.ID, tokend.TokenInput{Client: cl.ClientID,
			GrantType: tokend.GrantAuthorizationCode, Subject: "alice-" + t.Name(), Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		return setup{svc, cl, secret, it}
	}
	// tokenActive introspects on B.
	tokenActive := func(t *testing.T, s setup) bool {
		t.Helper()
		in, err := b.Introspect(ctx, s.svc, s.token.AccessToken, "")
		if err != nil {
			t.Fatal(err)
		}
		return in.Active
	}
	// clientKnown authenticates the client on B.
	clientKnown := func(t *testing.T, s setup) bool {
		t.Helper()
		_, _, err := b.AuthenticateClient(ctx, s.svc.ID, tokend.ClientCredentials{ClientID: s.cl.ClientID, Secret: s.secret})
		if err != nil && tokend.ErrorCode(err) != tokend.EUNAUTHORIZED {
			t.Fatal(err)
		}
		return err == nil
	}
	tests := []struct {
		name   string
		change func(t *testing.T, s setup) tokend.Change // made on A
		seenOn func(t *testing.T, s setup) bool          // true once B sees it
	}{
		{"ChangeTokenRevokesOnB", func(t *testing.T, s setup) tokend.Change {
			if _, err := a.RevokeTokens(ctx, org, svc.ID, tokend.RevokeRequest{TokenID: s.token.Token.ID}); err != nil {
				t.Fatal(err)
			}
			return tokend.Change{Kind: tokend.ChangeToken, ServiceID: svc.ID, ID: s.token.Token.ID}
		}, func(t *testing.T, s setup) bool { return !tokenActive(t, s) }},
		{"ChangeTokensRevokesTheSubjectOnB", func(t *testing.T, s setup) tokend.Change {
			subject := s.token.Token.Subject
			if _, err := a.RevokeTokens(ctx, org, svc.ID, tokend.RevokeRequest{Subject: &subject}); err != nil {
				t.Fatal(err)
			}
			return tokend.Change{Kind: tokend.ChangeTokens, ServiceID: svc.ID}
		}, func(t *testing.T, s setup) bool { return !tokenActive(t, s) }},
		{"ChangeClientForgetsADeletedClientOnB", func(t *testing.T, s setup) tokend.Change {
			if err := a.DeleteClient(ctx, org, svc.ID, s.cl.ClientID); err != nil {
				t.Fatal(err)
			}
			return tokend.Change{Kind: tokend.ChangeClient, ServiceID: svc.ID, ID: s.cl.ID}
		}, func(t *testing.T, s setup) bool { return !clientKnown(t, s) }},
		{"ChangeAllForgetsEverythingOnB", func(t *testing.T, s setup) tokend.Change {
			if err := a.DeleteClient(ctx, org, svc.ID, s.cl.ClientID); err != nil {
				t.Fatal(err)
			}
			return tokend.Change{Kind: tokend.ChangeAll}
		}, func(t *testing.T, s setup) bool { return !clientKnown(t, s) && !tokenActive(t, s) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t)
			if !tokenActive(t, s) || !clientKnown(t, s) { // B caches both
				t.Fatal("the fresh token or client is not live on B")
			}
			ch := tt.change(t, s)
			if tt.seenOn(t, s) {
				t.Fatal("B saw A's change before being told: this test no longer shows what ApplyChange does")
			}
			b.ApplyChange(ch)
			if !tt.seenOn(t, s) {
				t.Fatal("B does not see A's change after ApplyChange")
			}
		})
	}
	t.Run("ChangeServiceReloadsSettingsOnB", func(t *testing.T) {
		s := newSetup(t)
		before, _, err := b.AuthenticateClient(ctx, svc.ID, tokend.ClientCredentials{ClientID: s.cl.ClientID, Secret: s.secret})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.UpdateService(ctx, org, svc.ID, tokend.ServiceInput{AccessTokenTTL: ptr(before.AccessTokenTTL + time.Minute)}); err != nil {
			t.Fatal(err)
		}
		b.ApplyChange(tokend.Change{Kind: tokend.ChangeService, ServiceID: svc.ID})
		after, _, err := b.AuthenticateClient(ctx, svc.ID, tokend.ClientCredentials{ClientID: s.cl.ClientID, Secret: s.secret})
		if err != nil {
			t.Fatal(err)
		}
		if after.AccessTokenTTL != before.AccessTokenTTL+time.Minute {
			t.Fatalf("B's service has access TTL %v, want %v", after.AccessTokenTTL, before.AccessTokenTTL+time.Minute)
		}
	})
}

// emptyKeys is a store that always says it has no key, as each of several
// nodes starting at once on an empty database sees it.
type emptyKeys struct{ tokend.Store }

func (emptyKeys) CountKeys(context.Context) (int, error) { return 0, nil }

func TestBootstrapByNodesStartingTogether(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const key = "tokend-shared-bootstrap-key-0123456789"
	for i, want := range []string{key, ""} {
		got, err := tokend.New(emptyKeys{store}, tokend.Config{}).Bootstrap(context.Background(), key)
		if err != nil || got != want {
			t.Fatalf("node %d: Bootstrap = %q, %v; want %q and no error", i, got, err, want)
		}
	}
	if n, err := store.CountKeys(context.Background()); err != nil || n != 1 {
		t.Fatalf("%d keys stored, %v; want 1", n, err)
	}
}
