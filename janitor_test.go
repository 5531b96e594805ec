package tokend_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

func TestSweepRefusesBadConfig(t *testing.T) {
	f := MustFixture(t)
	for _, tt := range []struct {
		name  string
		cfg   tokend.JanitorConfig
		field string
	}{
		{"ErrNegativeRetention", tokend.JanitorConfig{Retention: -time.Second}, "retention"},
		{"ErrNegativeBatch", tokend.JanitorConfig{BatchSize: -1}, "batch"},
		{"ErrHugeBatch", tokend.JanitorConfig{BatchSize: tokend.MaxJanitorBatch + 1}, "batch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.core.Sweep(context.Background(), tt.cfg)
			if tokend.ErrorCode(err) != tokend.EINVALID || tokend.ErrorField(err) != tt.field {
				t.Fatalf("Sweep = %v, want %s on %s", err, tokend.EINVALID, tt.field)
			}
		})
	}
}

func TestSweep(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	revoked := f.MustIssue(t, "revoked", "read")
	expired := f.MustIssue(t, "expired", "read")
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	// expired's refresh token lives 30 days; then a week's retention.
	f.clock.Advance(tokend.DefaultRefreshTokenTTL + tokend.DefaultJanitorRetention - time.Hour)
	live := f.MustIssue(t, "live", "read")

	t.Run("KeepsWhatIsWithinTheRetention", func(t *testing.T) {
		rep, err := f.core.Sweep(ctx, tokend.JanitorConfig{Retention: tokend.DefaultJanitorRetention})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Tokens != 1 || rep.Skipped {
			t.Fatalf("report %+v, want the token revoked 37 days ago deleted", rep)
		}
	})
	t.Run("DeletesOnceTheRetentionIsOver", func(t *testing.T) {
		f.clock.Advance(2 * time.Hour)
		rep, err := f.core.Sweep(ctx, tokend.JanitorConfig{Retention: tokend.DefaultJanitorRetention})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Tokens != 1 || !rep.Cutoff.Equal(f.core.Now().Add(-tokend.DefaultJanitorRetention)) {
			t.Fatalf("report %+v, want the expired token deleted", rep)
		}
		if _, err := f.core.GetToken(ctx, f.org, f.svc.ID, expired.Token.ID); tokend.ErrorCode(err) != tokend.ENOTFOUND {
			t.Fatalf("the expired token is still there: %v", err)
		}
		if _, err := f.core.GetToken(ctx, f.org, f.svc.ID, live.Token.ID); err != nil {
			t.Fatalf("the live token: %v", err)
		}
	})
}

// lockedStore is a store whose janitor lock another process holds.
type lockedStore struct{ tokend.Store }

func (lockedStore) LockJanitor(context.Context) (func(), bool, error) { return nil, false, nil }

func TestSweepSkipsWhenAnotherRuns(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "locked.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	core := tokend.New(lockedStore{store}, tokend.Config{})
	rep, err := core.Sweep(context.Background(), tokend.JanitorConfig{})
	if err != nil || !rep.Skipped || rep.Tokens != 0 || rep.Batches != 0 {
		t.Fatalf("Sweep = %+v, %v; want skipped", rep, err)
	}
}
