package postgres

import (
	"context"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/pgtest"
	"github.com/tokend/tokend/storetest"
)

// mustOpen opens a store on a fresh database and closes it when the test
// ends.
func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), pgtest.NewDatabase(tb))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) tokend.Store { return mustOpen(t) })
}
