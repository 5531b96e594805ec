package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// sweepAll calls SweepTokens until a batch comes back short, as the
// janitor does, checking every batch against the limit.
func sweepAll(tb testing.TB, s tokend.Store, serviceID int64, cutoff time.Time, limit int) (total, batches int) {
	tb.Helper()
	for range 1000 {
		n, err := s.SweepTokens(tb.Context(), serviceID, cutoff, limit)
		mustNoErr(tb, err, "SweepTokens")
		if n > limit {
			tb.Fatalf("a batch deleted %d tokens, limit %d", n, limit)
		}
		total += n
		batches++
		if n < limit {
			return total, batches
		}
	}
	tb.Fatal("sweeping does not end")
	return
}

func testJanitor(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 161)
	other := mustService(t, s, 162)
	cl := mustClient(t, s, svc.ID, 1_000_000_000_161)
	cutoff := t0.Add(30 * 24 * time.Hour)
	long, recent := cutoff.Add(-24*time.Hour), cutoff.Add(time.Hour) // before and after the cutoff

	mk := func(serviceID int64, edit func(*tokend.Token)) *tokend.Token {
		tok := fullToken(serviceID, cl.ID, "alice")
		tok.AccessExpiresAt, tok.RefreshExpiresAt = cutoff.Add(48*time.Hour), cutoff.Add(72*time.Hour)
		if edit != nil {
			edit(tok)
		}
		return mustToken(t, s, tok)
	}
	expiredAt := func(at time.Time) func(*tokend.Token) {
		return func(t *tokend.Token) { t.AccessExpiresAt, t.RefreshExpiresAt = at.Add(-time.Hour), at }
	}
	revokedAt := func(at time.Time) func(*tokend.Token) {
		return func(t *tokend.Token) { t.RevokedAt, t.RevokedReason = at, "r" }
	}
	// retire rotates a token's refresh token, so that it has history.
	retire := func(tok *tokend.Token) tokend.Hash {
		old := tok.RefreshHash
		_, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0},
			func(cur *tokend.Token) error { cur.RefreshHash = newHash(); return nil })
		mustNoErr(t, err, "RotateRefreshToken")
		*tok = *mustGetToken(t, s, tok.ID)
		return old
	}

	live := mk(svc.ID, nil)
	liveRetired := retire(live)
	persistent := mk(svc.ID, func(t *tokend.Token) {
		t.Persistent, t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = true, time.Time{}, tokend.Hash{}, time.Time{}
	})
	// The access token expired long ago, the refresh token lives: not dead.
	refreshLive := mk(svc.ID, func(t *tokend.Token) { t.AccessExpiresAt = long.Add(-time.Hour) })
	expiredRecently := mk(svc.ID, expiredAt(recent))
	revokedRecently := mk(svc.ID, revokedAt(recent))
	expiredLong := mk(svc.ID, expiredAt(long))
	expiredRetired := retire(expiredLong)
	revokedLong := mk(svc.ID, revokedAt(long))
	persistentRevoked := mk(svc.ID, func(t *tokend.Token) {
		t.Persistent, t.AccessExpiresAt = true, time.Time{}
		revokedAt(long)(t)
	})
	// A grant whose first token is dead but whose second lives: reuse of
	// the first one's retired refresh token must still revoke the second.
	heldRoot := mk(svc.ID, expiredAt(long))
	heldRetired := retire(heldRoot)
	heldChild := mk(svc.ID, func(t *tokend.Token) { t.GrantID = heldRoot.ID })
	// The reverse: the first lives, a later one is dead.
	liveRoot := mk(svc.ID, nil)
	deadChild := mk(svc.ID, func(t *tokend.Token) { t.GrantID = liveRoot.ID; revokedAt(long)(t) })
	// A grant dead through and through goes whole.
	goneRoot := mk(svc.ID, revokedAt(long))
	goneChild := mk(svc.ID, func(t *tokend.Token) { t.GrantID = goneRoot.ID; expiredAt(long)(t) })
	// Enough dead tokens for several batches.
	var bulk []*tokend.Token
	for i := range 9 {
		if i%2 == 0 {
			bulk = append(bulk, mk(svc.ID, expiredAt(long)))
		} else {
			bulk = append(bulk, mk(svc.ID, revokedAt(long)))
		}
	}
	otherDead := mk(other.ID, expiredAt(long))

	kept := []*tokend.Token{live, persistent, refreshLive, expiredRecently, revokedRecently, heldRoot, heldChild, liveRoot, deadChild, otherDead}
	gone := append([]*tokend.Token{expiredLong, revokedLong, persistentRevoked, goneRoot, goneChild}, bulk...)

	const limit = 4
	total, batches := sweepAll(t, s, svc.ID, cutoff, limit)

	t.Run("DeletesTheDeadInBatches", func(t *testing.T) {
		if total != len(gone) {
			t.Fatalf("deleted %d tokens, want %d", total, len(gone))
		}
		if want := len(gone)/limit + 1; batches != want {
			t.Fatalf("%d batches, want %d", batches, want)
		}
		for _, tok := range gone {
			_, err := s.GetToken(t.Context(), tok.ID)
			wantCode(t, err, tokend.ENOTFOUND, "")
		}
	})
	t.Run("KeepsTheLiveTheRecentAndTheirGrants", func(t *testing.T) {
		for _, tok := range kept {
			mustEqual(t, "kept token", mustGetToken(t, s, tok.ID), tok)
		}
	})
	t.Run("HistoryGoesWithItsToken", func(t *testing.T) {
		_, err := s.GetRetiredRefresh(t.Context(), expiredRetired)
		wantCode(t, err, tokend.ENOTFOUND, "")
		for _, h := range []tokend.Hash{liveRetired, heldRetired} {
			_, err := s.GetRetiredRefresh(t.Context(), h)
			mustNoErr(t, err, "GetRetiredRefresh of a kept token's history")
		}
	})
	t.Run("NothingLeftToSweep", func(t *testing.T) {
		if n, _ := sweepAll(t, s, svc.ID, cutoff, limit); n != 0 {
			t.Fatalf("a second sweep deleted %d tokens", n)
		}
	})
	t.Run("OnlyTheServiceGiven", func(t *testing.T) {
		mustEqual(t, "other service's token", mustGetToken(t, s, otherDead.ID), otherDead)
		if n, _ := sweepAll(t, s, other.ID, cutoff, limit); n != 1 {
			t.Fatalf("swept %d tokens of the other service, want 1", n)
		}
	})
	t.Run("GrantGoesOnceItsLastTokenDies", func(t *testing.T) {
		_, err := s.RevokeTokens(t.Context(), tokend.RevokeFilter{ServiceID: svc.ID, TokenID: heldChild.ID}, long, "r")
		mustNoErr(t, err, "RevokeTokens")
		if n, _ := sweepAll(t, s, svc.ID, cutoff, limit); n != 2 {
			t.Fatalf("swept %d tokens, want the grant's 2", n)
		}
		_, err = s.GetRetiredRefresh(t.Context(), heldRetired)
		wantCode(t, err, tokend.ENOTFOUND, "")
	})

	t.Run("AuthorizationCodes", func(t *testing.T) {
		var old, fresh []*tokend.AuthorizationCode
		for i := range 5 {
			c := fullCode(svc.ID, cl.ID)
			c.CreatedAt, c.ExpiresAt = long.Add(-time.Minute), long
			if i == 0 {
				c.UsedAt, c.TokenID = long.Add(-time.Second), live.ID
			}
			mustNoErr(t, s.CreateAuthorizationCode(t.Context(), c), "CreateAuthorizationCode")
			old = append(old, c)
		}
		for _, exp := range []time.Time{recent, cutoff.Add(time.Hour * 100)} {
			c := fullCode(other.ID, cl.ID)
			c.ExpiresAt = exp
			mustNoErr(t, s.CreateAuthorizationCode(t.Context(), c), "CreateAuthorizationCode")
			fresh = append(fresh, c)
		}
		var counts []int
		for {
			n, err := s.SweepAuthorizationCodes(t.Context(), cutoff, 2)
			mustNoErr(t, err, "SweepAuthorizationCodes")
			counts = append(counts, n)
			if n < 2 {
				break
			}
		}
		if !slices.Equal(counts, []int{2, 2, 1}) {
			t.Fatalf("batches deleted %v codes, want [2 2 1]", counts)
		}
		for _, c := range old {
			_, _, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, recent, func(*tokend.AuthorizationCode) (*tokend.Token, error) {
				t.Error("mint called for a swept code")
				return nil, errAbort
			})
			wantCode(t, err, tokend.ENOTFOUND, "")
		}
		for _, c := range fresh {
			_, _, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, recent, func(got *tokend.AuthorizationCode) (*tokend.Token, error) {
				mustEqual(t, "kept code", got, c)
				return nil, errAbort
			})
			if err != errAbort {
				t.Fatalf("redeeming a kept code: %v, want mint's error", err)
			}
		}
	})

	t.Run("OneJanitorAtATime", func(t *testing.T) {
		release, ok, err := s.LockJanitor(t.Context())
		mustNoErr(t, err, "LockJanitor")
		if !ok {
			t.Fatal("the free lock was not given")
		}
		if r, ok, err := s.LockJanitor(t.Context()); err != nil || ok {
			if r != nil {
				r()
			}
			t.Fatalf("the held lock was given again (ok %v, err %v)", ok, err)
		}
		release()
		release, ok, err = s.LockJanitor(t.Context())
		mustNoErr(t, err, "LockJanitor")
		if !ok {
			t.Fatal("the released lock was not given")
		}
		release()
	})
}
