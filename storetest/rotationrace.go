package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// testRotationRace: of many concurrent rotations of one refresh token
// exactly one wins, and every loser, once its call has returned ENOTFOUND,
// finds the retired token it lost to. The core tells reuse (or a retry
// within the grace period) by that lookup: a loser that could not see the
// winner's write yet would let reuse pass unnoticed. (A backend that
// answers a failed write before the writes it saw are committed fails
// this: SQLite's group commit did, when the group was held open during
// the previous group's fsync.)
func testRotationRace(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 161)
	for round := range 5 {
		tok := mustToken(t, s, fullToken(svc.ID, 1, "alice"))
		old := tok.RefreshHash
		const n = 50
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			errs    = make([]error, n)
			visible = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0.Add(time.Duration(i) * time.Millisecond)},
					func(cur *tokend.Token) error { cur.RefreshHash = newHash(); return nil })
				if tokend.ErrorCode(errs[i]) == tokend.ENOTFOUND {
					_, visible[i] = s.GetRetiredRefresh(t.Context(), old)
				}
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case tokend.ErrorCode(err) != tokend.ENOTFOUND:
				t.Fatalf("round %d: rotation %d: %v", round, i, err)
			case visible[i] != nil:
				t.Fatalf("round %d: rotation %d lost, but then did not find the retired token: %v", round, i, visible[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d rotations won, want 1", round, won)
		}
	}
}
