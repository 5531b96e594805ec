package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func testRotation(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 131)
	cl := mustClient(t, s, svc.ID, 1_000_000_000_131)

	// rotate replaces the refresh and access hashes, as the refresh grant does.
	rotate := func(tok *tokend.Token, at time.Time) (next *tokend.Token, update func(*tokend.Token) error) {
		n := *tok
		n.AccessHash, n.RefreshHash, n.LastRefreshedAt = newHash(), newHash(), at
		n.AccessExpiresAt = at.Add(time.Hour)
		return &n, func(cur *tokend.Token) error {
			cur.AccessHash, cur.RefreshHash, cur.LastRefreshedAt = n.AccessHash, n.RefreshHash, n.LastRefreshedAt
			cur.AccessExpiresAt = n.AccessExpiresAt
			return nil
		}
	}

	t.Run("RecordsTheRetiredTokenAndWritesTheUpdate", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "alice"))
		old := tok.RefreshHash
		at := t0.Add(5 * time.Minute)
		want, update := rotate(tok, at)
		// Every byte value, so that a backend storing text would mangle it.
		successor := make([]byte, 256)
		for i := range successor {
			successor[i] = byte(i)
		}
		got, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: at, Successor: successor},
			func(cur *tokend.Token) error {
				mustEqual(t, "token seen by update", cur, tok)
				return update(cur)
			})
		mustNoErr(t, err, "RotateRefreshToken")
		mustEqual(t, "returned token", got, want)
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), want)
		byNew, err := s.GetTokenByRefreshHash(t.Context(), want.RefreshHash)
		mustNoErr(t, err, "GetTokenByRefreshHash of the new value")
		mustEqual(t, "token by new refresh hash", byNew, want)
		_, err = s.GetTokenByRefreshHash(t.Context(), old)
		wantCode(t, err, tokend.ENOTFOUND, "")

		r, err := s.GetRetiredRefresh(t.Context(), old)
		mustNoErr(t, err, "GetRetiredRefresh")
		mustEqual(t, "retired", r, &tokend.RetiredRefresh{Hash: old, TokenID: tok.ID, RetiredAt: at, Successor: successor})

		// The retired value is gone: a second rotation must not find it.
		_, err = s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: at.Add(time.Second)},
			func(*tokend.Token) error {
				t.Error("update called for a retired refresh token")
				return nil
			})
		wantCode(t, err, tokend.ENOTFOUND, "")
		r, err = s.GetRetiredRefresh(t.Context(), old)
		mustNoErr(t, err, "GetRetiredRefresh")
		if !r.RetiredAt.Equal(at) {
			t.Errorf("the failed rotation rewrote the record: retired at %v, want %v", r.RetiredAt, at)
		}
	})
	t.Run("ChainOfRotationsWithoutSuccessor", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "alice"))
		var retired []tokend.Hash
		for i := range 3 {
			old := tok.RefreshHash
			next, update := rotate(tok, t0.Add(time.Duration(i+1)*time.Minute))
			_, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: next.LastRefreshedAt}, update)
			mustNoErr(t, err, "RotateRefreshToken %d", i)
			retired, tok = append(retired, old), next
		}
		for i, h := range retired {
			r, err := s.GetRetiredRefresh(t.Context(), h)
			mustNoErr(t, err, "GetRetiredRefresh %d", i)
			mustEqual(t, "retired", r, &tokend.RetiredRefresh{Hash: h, TokenID: tok.ID, RetiredAt: t0.Add(time.Duration(i+1) * time.Minute)})
		}
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), tok)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		called := false
		_, err := s.RotateRefreshToken(t.Context(), newHash(), tokend.RetiredRefresh{RetiredAt: t0},
			func(*tokend.Token) error { called = true; return nil })
		wantCode(t, err, tokend.ENOTFOUND, "")
		// Tokens without a refresh token have the zero hash; it names none.
		mustToken(t, s, &tokend.Token{ServiceID: svc.ID, ClientID: cl.ID, GrantType: tokend.GrantClientCredentials,
			AccessHash: newHash(), CreatedAt: t0, AccessExpiresAt: t0.Add(time.Hour)})
		_, err = s.RotateRefreshToken(t.Context(), tokend.Hash{}, tokend.RetiredRefresh{RetiredAt: t0},
			func(*tokend.Token) error { called = true; return nil })
		wantCode(t, err, tokend.ENOTFOUND, "")
		if called {
			t.Error("update called without a token")
		}
		_, err = s.GetRetiredRefresh(t.Context(), newHash())
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "bob"))
		old := tok.RefreshHash
		_, update := rotate(tok, t0.Add(time.Minute))
		_, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0, Successor: []byte("x")},
			func(cur *tokend.Token) error {
				update(cur)
				cur.Subject = "never"
				return errAbort
			})
		if err != errAbort {
			t.Fatalf("got %v, want the update function's error unchanged", err)
		}
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), tok)
		_, err = s.GetRetiredRefresh(t.Context(), old)
		wantCode(t, err, tokend.ENOTFOUND, "")
		got, err := s.GetTokenByRefreshHash(t.Context(), old)
		mustNoErr(t, err, "GetTokenByRefreshHash")
		mustEqual(t, "token by the unretired hash", got, tok)
	})
	t.Run("ConflictChangesNothing", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "bob"))
		taken := mustToken(t, s, fullToken(svc.ID, cl.ID, "carol"))
		old := tok.RefreshHash
		_, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0},
			func(cur *tokend.Token) error {
				cur.RefreshHash = taken.RefreshHash
				return nil
			})
		wantCode(t, err, tokend.ECONFLICT, "refresh_token")
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), tok)
		_, err = s.GetRetiredRefresh(t.Context(), old)
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
	t.Run("UpdateCannotChangeIdentity", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "dave"))
		other := mustToken(t, s, fullToken(svc.ID, cl.ID, "erin"))
		old := tok.RefreshHash
		want, update := rotate(tok, t0.Add(time.Minute))
		got, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0},
			func(cur *tokend.Token) error {
				cur.ID, cur.ServiceID = other.ID, 999
				return update(cur)
			})
		mustNoErr(t, err, "RotateRefreshToken")
		mustEqual(t, "returned token", got, want)
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), want)
		mustEqual(t, "other token", mustGetToken(t, s, other.ID), other)
		r, err := s.GetRetiredRefresh(t.Context(), old)
		mustNoErr(t, err, "GetRetiredRefresh")
		if r.TokenID != tok.ID {
			t.Errorf("retired record names token %d, want %d", r.TokenID, tok.ID)
		}
	})
	// The store-level guarantee behind reuse detection: of concurrent
	// refreshes with one value, one rotates and the rest see it retired.
	t.Run("ConcurrentRotationsHaveOneWinner", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "frank"))
		old := tok.RefreshHash
		const n = 50
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
			next  = make([]*tokend.Token, n)
			ups   = make([]func(*tokend.Token) error, n)
		)
		for i := range n {
			next[i], ups[i] = rotate(tok, t0.Add(time.Duration(i+1)*time.Second))
			wg.Go(func() {
				<-start
				_, errs[i] = s.RotateRefreshToken(t.Context(), old,
					tokend.RetiredRefresh{Hash: old, RetiredAt: next[i].LastRefreshedAt, Successor: []byte{byte(i)}}, ups[i])
			})
		}
		close(start)
		wg.Wait()
		winner, lost := -1, 0
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("rotations %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case tokend.ErrorCode(err) == tokend.ENOTFOUND:
				lost++
			default:
				t.Fatalf("rotation %d: %v, want success or %s", i, err, tokend.ENOTFOUND)
			}
		}
		if winner < 0 || lost != n-1 {
			t.Fatalf("%d winners and %d not found, want 1 and %d", max(0, n-lost), lost, n-1)
		}
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), next[winner])
		r, err := s.GetRetiredRefresh(t.Context(), old)
		mustNoErr(t, err, "GetRetiredRefresh")
		mustEqual(t, "retired", r, &tokend.RetiredRefresh{Hash: old, TokenID: tok.ID,
			RetiredAt: next[winner].LastRefreshedAt, Successor: []byte{byte(winner)}})
	})
	// Beyond the contract's words: a deleted token's history must not
	// outlive it, or the table grows with every token ever deleted.
	t.Run("DeleteTokenRemovesItsHistory", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "gina"))
		old := tok.RefreshHash
		_, update := rotate(tok, t0.Add(time.Minute))
		_, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0}, update)
		mustNoErr(t, err, "RotateRefreshToken")
		mustNoErr(t, s.DeleteToken(t.Context(), tok.ID), "DeleteToken")
		_, err = s.GetRetiredRefresh(t.Context(), old)
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
}
