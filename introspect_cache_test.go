package tokend_test

import (
	"context"
	"github.com/tokend/tokend/internal/testutil"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

// lookupCounter counts the store reads introspection makes.
type lookupCounter struct {
	tokend.Store
	lookups atomic.Int64
}

func (s *lookupCounter) GetTokenByAccessHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	s.lookups.Add(1)
	return s.Store.GetTokenByAccessHash(ctx, h)
}

func TestIntrospectionCache(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &lookupCounter{Store: db}
	clk := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	core := tokend.New(store, tokend.Config{BaseURL: "https://a.example", Now: clk.Now, CacheTTL: time.Hour})
	org := &tokend.Principal{Permissions: []tokend.Permission{tokend.PermAll}}
	svc, err := core.CreateService(ctx, org, tokend.ServiceInput{Name: ptr("s"), ScopesSupported: &[]string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	cl, _, err := core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("c")})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(subject string) *tokend.IssuedToken {
		t.Helper()
		it, err := core.CreateToken(ctx, org, svc.ID, tokend.TokenInput{Client: cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: subject, Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	active := func(raw string) *tokend.Introspection {
		t.Helper()
		in, err := core.Introspect(ctx, svc, raw, "")
		if err != nil {
			t.Fatal(err)
		}
		return in
	}

	it := issue("alice")
	active(it.AccessToken)
	before := store.lookups.Load()
	for range 10 {
		if !active(it.AccessToken).Active {
			t.Fatal("live token inactive")
		}
	}
	if n := store.lookups.Load() - before; n != 0 {
		t.Fatalf("repeated introspection read the store %d times; want 0", n)
	}

	t.Run("UpdateSeenAtOnce", func(t *testing.T) {
		if _, err := core.UpdateToken(ctx, org, svc.ID, it.Token.ID, tokend.TokenUpdate{Scopes: &[]string{"read", "write"}}); err != nil {
			t.Fatal(err)
		}
		if in := active(it.AccessToken); len(in.Token.Scopes) != 2 {
			t.Fatalf("scopes after update: %v", in.Token.Scopes)
		}
	})
	t.Run("ExpirySeenAtOnce", func(t *testing.T) {
		other := issue("bob")
		active(other.AccessToken)
		clk.Advance(svc.AccessTokenTTL)
		defer clk.Advance(-svc.AccessTokenTTL)
		if active(other.AccessToken).Active {
			t.Fatal("an expired token was active from the cache")
		}
	})
	for name, revoke := range map[string]func(it *tokend.IssuedToken) error{
		"RevokeOne": func(it *tokend.IssuedToken) error {
			_, err := core.RevokeTokens(ctx, org, svc.ID, tokend.RevokeRequest{TokenID: it.Token.ID})
			return err
		},
		"RevokeBySubject": func(it *tokend.IssuedToken) error {
			_, err := core.RevokeTokens(ctx, org, svc.ID, tokend.RevokeRequest{Subject: &it.Token.Subject})
			return err
		},
		"RevokeByClient": func(it *tokend.IssuedToken) error {
			_, err := core.RevokeTokens(ctx, org, svc.ID, tokend.RevokeRequest{Client: cl.ClientID})
			return err
		},
		"RevokeByClientOAuth": func(it *tokend.IssuedToken) error {
			return core.RevokeByClient(ctx, svc, cl, it.RefreshToken, "")
		},
		"DeleteToken": func(it *tokend.IssuedToken) error {
			return core.DeleteToken(ctx, org, svc.ID, it.Token.ID)
		},
	} {
		t.Run(name+"SeenAtOnce", func(t *testing.T) {
			it := issue("carol-" + name)
			if !active(it.AccessToken).Active {
				t.Fatal("new token inactive")
			}
			if err := revoke(it); err != nil {
				t.Fatal(err)
			}
			if active(it.AccessToken).Active {
				t.Fatal("a revoked token was active from the cache")
			}
		})
	}
	t.Run("RevocationRacingIntrospection", func(t *testing.T) {
		// Introspections run while a revocation commits; every one that
		// starts after RevokeTokens returned must see it.
		it := issue("dave")
		var revoked atomic.Bool
		var wg sync.WaitGroup
		var stale atomic.Int64
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 300 {
					after := revoked.Load()
					in, err := core.Introspect(ctx, svc, it.AccessToken, "")
					if err != nil {
						t.Error(err)
						return
					}
					if after && in.Active {
						stale.Add(1)
					}
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		if _, err := core.RevokeTokens(ctx, org, svc.ID, tokend.RevokeRequest{TokenID: it.Token.ID}); err != nil {
			t.Fatal(err)
		}
		revoked.Store(true)
		wg.Wait()
		if n := stale.Load(); n != 0 {
			t.Fatalf("%d introspections after the revocation returned saw the token active", n)
		}
	})
}
