package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/pgtest"
)

// TestDeadlockIsRetried: two writes that lock the same two rows in
// opposite orders deadlock; PostgreSQL aborts one (40P01), the store runs
// it again, and both succeed, each exactly once in effect.
func TestDeadlockIsRetried(t *testing.T) {
	s := openOn(t, pgtest.NewDatabase(t))
	mustService(t, s, 1)
	mustService(t, s, 2)
	var (
		wg       sync.WaitGroup
		bothHold sync.WaitGroup // each holds its first lock before taking the second
		attempts atomic.Int32
		errs     [2]error
	)
	bothHold.Add(2)
	for i, order := range [2][2]int64{{1, 2}, {2, 1}} {
		wg.Go(func() {
			first := true
			errs[i] = s.inTx(t.Context(), func(ctx context.Context, tx *tx) error {
				attempts.Add(1)
				if _, err := tx.Exec(ctx, `UPDATE services SET description = description || 'x' WHERE id = $1`, order[0]); err != nil {
					return err
				}
				if first {
					first = false
					bothHold.Done()
					bothHold.Wait()
				}
				_, err := tx.Exec(ctx, `UPDATE services SET description = description || 'y' WHERE id = $1`, order[1])
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v; a deadlock must be retried", i, err)
		}
	}
	if n := attempts.Load(); n < 3 {
		t.Fatalf("%d attempts: the deadlock did not happen", n)
	}
	for _, id := range []int64{1, 2} {
		sv, err := s.GetService(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		// One write appended x to it, the other y: each once.
		if sv.Description != "xy" && sv.Description != "yx" {
			t.Fatalf("service %d: %q, want each write once", id, sv.Description)
		}
	}
}

// TestSerializationFailureRetryIsBounded: a transaction that keeps being
// aborted is run maxAttempts times, then fails with EUNAVAILABLE, which
// the surfaces answer with 503 and Retry-After.
func TestSerializationFailureRetryIsBounded(t *testing.T) {
	s := openOn(t, pgtest.NewDatabase(t))
	var attempts atomic.Int32
	err := s.inTx(t.Context(), func(ctx context.Context, tx *tx) error {
		attempts.Add(1)
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	})
	if n := attempts.Load(); n != maxAttempts {
		t.Fatalf("%d attempts, want %d", n, maxAttempts)
	}
	if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
		t.Fatalf("after %d failures: %v, want EUNAVAILABLE", maxAttempts, err)
	}
}
