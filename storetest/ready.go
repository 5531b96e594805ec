package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/tokend/tokend"
)

// testReady: a freshly opened store (migrated by its constructor) is ready,
// and a probe whose caller gave up reports that, not readiness.
func testReady(t *testing.T, s tokend.Store) {
	t.Run("OKFresh", func(t *testing.T) {
		if err := s.Ready(t.Context()); err != nil {
			t.Fatalf("Ready on a migrated store: %v", err)
		}
	})
	t.Run("OKAfterWrites", func(t *testing.T) {
		svc := mustService(t, s, 131)
		mustToken(t, s, fullToken(svc.ID, 1, "alice"))
		if err := s.Ready(t.Context()); err != nil {
			t.Fatalf("Ready after writes: %v", err)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Ready(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Ready with a canceled context = %v, want context.Canceled", err)
		}
	})
}
