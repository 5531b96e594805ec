package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

var errLost = errors.New("storetest: refresh token already rotated")

func testConcurrency(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 111)

	// Refresh rotation: many requests present the same refresh token at
	// once; the update succeeds only while the token still has it, so
	// exactly one may win.
	t.Run("UpdateTokenHasOneWinner", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, 1, "alice"))
		initial := tok.RefreshHash
		const n = 20
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			errs    = make([]error, n)
			rotated = make([]tokend.Hash, n)
		)
		for i := range n {
			rotated[i] = newHash()
			wg.Go(func() {
				<-start
				_, errs[i] = s.UpdateToken(t.Context(), tok.ID, func(cur *tokend.Token) error {
					if cur.RefreshHash != initial {
						return errLost
					}
					cur.RefreshHash, cur.LastRefreshedAt = rotated[i], t0.Add(time.Duration(i+1)*time.Second)
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("updates %d and %d both won", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, errLost):
				t.Fatalf("update %d: %v, want only the update function's own error", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no update won")
		}
		got := mustGetToken(t, s, tok.ID)
		if got.RefreshHash != rotated[winner] {
			t.Fatal("the stored refresh hash is not the winner's")
		}
	})

	t.Run("CreateTokenInParallelWithReads", func(t *testing.T) {
		const writers, each = 8, 25
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		var (
			wg      sync.WaitGroup
			readers sync.WaitGroup
			mu      sync.Mutex
			failed  []error
		)
		fail := func(err error) {
			mu.Lock()
			failed = append(failed, err)
			mu.Unlock()
		}
		for range 4 {
			readers.Go(func() {
				for ctx.Err() == nil {
					_, err := s.ListTokens(ctx, tokend.TokenFilter{ServiceID: svc.ID, Subject: ptr("crowd"),
						Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: 20, CountTotal: true})
					if err != nil && ctx.Err() == nil {
						fail(err)
						return
					}
				}
			})
		}
		for range writers {
			wg.Go(func() {
				for range each {
					tok := fullToken(svc.ID, 2, "crowd")
					if err := s.CreateToken(t.Context(), tok); err != nil {
						fail(err)
						return
					}
					if _, err := s.GetTokenByAccessHash(t.Context(), tok.AccessHash); err != nil {
						fail(err) // a committed token must be visible to the next read
						return
					}
				}
			})
		}
		wg.Wait()
		stop()
		readers.Wait()
		for _, err := range failed {
			t.Error(err)
		}
		page, err := s.ListTokens(t.Context(), tokend.TokenFilter{ServiceID: svc.ID, Subject: ptr("crowd"),
			Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: 1, CountTotal: true})
		mustNoErr(t, err, "ListTokens")
		if page.Total != writers*each {
			t.Fatalf("stored %d tokens, want %d", page.Total, writers*each)
		}
	})
}

func testContext(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 121)
	tok := mustToken(t, s, fullToken(svc.ID, 1, "alice"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	t.Run("CanceledPassesThrough", func(t *testing.T) {
		checks := map[string]error{}
		_, checks["GetToken"] = s.GetToken(ctx, tok.ID)
		_, checks["ListTokens"] = s.ListTokens(ctx, tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: 5})
		checks["CreateToken"] = s.CreateToken(ctx, fullToken(svc.ID, 1, "bob"))
		_, checks["UpdateToken"] = s.UpdateToken(ctx, tok.ID, func(t *tokend.Token) error { t.Subject = "x"; return nil })
		for name, err := range checks {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: got %v, want context.Canceled", name, err)
			}
		}
		mustEqual(t, "token", mustGetToken(t, s, tok.ID), tok)
	})
}
