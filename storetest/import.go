package storetest

import (
	"testing"

	"github.com/tokend/tokend"
)

// testImportTokens checks the bulk import: every token stored with its
// attributes, or, on a conflict with a stored token or within the call,
// none of them and none of the given tokens changed.
func testImportTokens(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 171)
	taken := mustToken(t, s, fullToken(svc.ID, 1, "taken"))
	batch := func(n int) []*tokend.Token {
		toks := make([]*tokend.Token, n)
		for i := range toks {
			toks[i] = fullToken(svc.ID, 2, "imported")
		}
		return toks
	}
	count := func(t *testing.T) int {
		page, err := s.ListTokens(t.Context(), tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusAll,
			Now: t0, OrderBy: tokend.OrderCreatedAt, Limit: 1, CountTotal: true})
		mustNoErr(t, err, "ListTokens")
		return page.Total
	}

	t.Run("OK", func(t *testing.T) {
		toks := batch(3)
		toks[1].GrantID = taken.ID
		mustNoErr(t, s.ImportTokens(t.Context(), toks), "ImportTokens")
		for i, tok := range toks {
			if tok.ID == 0 {
				t.Fatalf("token %d has no id", i)
			}
			got, err := s.GetTokenByAccessHash(t.Context(), tok.AccessHash)
			mustNoErr(t, err, "GetTokenByAccessHash %d", i)
			if got.ID != tok.ID || got.Subject != "imported" || got.RefreshHash != tok.RefreshHash || got.ACR != tok.ACR {
				t.Fatalf("token %d read back as %+v, want %+v", i, got, tok)
			}
		}
		if toks[0].GrantID != toks[0].ID || toks[1].GrantID != taken.ID {
			t.Fatalf("grant ids %d, %d: want the token's own id and the one given", toks[0].GrantID, toks[1].GrantID)
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		mustNoErr(t, s.ImportTokens(t.Context(), nil), "ImportTokens(nil)")
	})

	conflicts := []struct {
		name  string
		edit  func(toks []*tokend.Token)
		field string
	}{
		{"ErrAccessStored", func(toks []*tokend.Token) { toks[2].AccessHash = taken.AccessHash }, "access_token"},
		{"ErrRefreshStored", func(toks []*tokend.Token) { toks[2].RefreshHash = taken.RefreshHash }, "refresh_token"},
		{"ErrAccessTwice", func(toks []*tokend.Token) { toks[2].AccessHash = toks[0].AccessHash }, "access_token"},
		{"ErrRefreshTwice", func(toks []*tokend.Token) { toks[2].RefreshHash = toks[1].RefreshHash }, "refresh_token"},
	}
	for _, tt := range conflicts {
		t.Run(tt.name, func(t *testing.T) {
			before := count(t)
			toks := batch(4)
			tt.edit(toks)
			wantCode(t, s.ImportTokens(t.Context(), toks), tokend.ECONFLICT, tt.field)
			if after := count(t); after != before {
				t.Fatalf("%d tokens before a refused import, %d after: want nothing stored", before, after)
			}
			for i, tok := range toks {
				if tok.ID != 0 || tok.GrantID != 0 {
					t.Fatalf("token %d was changed by a refused import: id %d, grant %d", i, tok.ID, tok.GrantID)
				}
			}
		})
	}
}
