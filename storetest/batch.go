package storetest

import (
	"sync"
	"testing"

	"github.com/tokend/tokend"
)

// testConcurrentCreates issues many CreateTokens at once with a few that
// must conflict mixed in. A backend that groups concurrent writes into one
// transaction (SQLite's group commit) must still treat each call as its own:
// a conflict fails that call alone and leaves nothing behind, and every other
// call is committed.
func testConcurrentCreates(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 151)
	taken := mustToken(t, s, fullToken(svc.ID, 1, "taken"))
	const n = 500
	type kind int
	const (
		plain kind = iota
		dupAccess
		dupRefresh
		pairA // pairA and pairB share a fresh access hash: one of them wins
		pairB
	)
	var (
		kinds = make([]kind, n)
		toks  = make([]*tokend.Token, n)
		errs  = make([]error, n)
	)
	pairHash := map[int]tokend.Hash{}
	for i := range n {
		toks[i] = fullToken(svc.ID, int64(1+i%7), "crowd")
		switch {
		case i%97 == 13:
			kinds[i] = dupAccess
			toks[i].AccessHash = taken.AccessHash
		case i%89 == 17:
			kinds[i] = dupRefresh
			toks[i].RefreshHash = taken.RefreshHash
		case i%101 == 50 && i+1 < n:
			kinds[i], kinds[i+1] = pairA, pairB
			pairHash[i] = newHash()
			toks[i].AccessHash = pairHash[i]
		case i > 0 && kinds[i-1] == pairA:
			toks[i].AccessHash = pairHash[i-1]
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateToken(t.Context(), toks[i])
		})
	}
	close(start)
	wg.Wait()

	stored := 0
	for i := range n {
		switch kinds[i] {
		case plain:
			mustNoErr(t, errs[i], "CreateToken %d", i)
			got, err := s.GetTokenByAccessHash(t.Context(), toks[i].AccessHash)
			mustNoErr(t, err, "GetTokenByAccessHash %d", i)
			mustEqual(t, "token", got, toks[i])
			stored++
		case dupAccess:
			wantCode(t, errs[i], tokend.ECONFLICT, "access_token")
		case dupRefresh:
			wantCode(t, errs[i], tokend.ECONFLICT, "refresh_token")
		case pairA:
			a, b := errs[i], errs[i+1]
			if (a == nil) == (b == nil) {
				t.Fatalf("tokens %d and %d share an access hash: got %v and %v, want exactly one stored", i, i+1, a, b)
			}
			winner, loser := i, i+1
			if a != nil {
				winner, loser = i+1, i
			}
			wantCode(t, errs[loser], tokend.ECONFLICT, "access_token")
			got, err := s.GetTokenByAccessHash(t.Context(), pairHash[i])
			mustNoErr(t, err, "GetTokenByAccessHash of pair %d", i)
			mustEqual(t, "pair winner", got, toks[winner])
			// The loser's refresh hash must not have been kept either.
			_, err = s.GetTokenByRefreshHash(t.Context(), toks[loser].RefreshHash)
			wantCode(t, err, tokend.ENOTFOUND, "")
			stored++
		}
	}
	if got := countTokens(t, s, svc.ID); got != stored+1 {
		t.Fatalf("%d tokens stored, want %d", got, stored+1)
	}
	ids := map[int64]bool{}
	for i := range n {
		if errs[i] == nil {
			if ids[toks[i].ID] {
				t.Fatalf("id %d handed out twice", toks[i].ID)
			}
			ids[toks[i].ID] = true
		}
	}
	mustEqual(t, "the taken token", mustGetToken(t, s, taken.ID), taken)
}
