package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// The list tests compare the store with a model: the same filter applied in
// Go, with Token.Status as the judge of status and Token.OrderValue of order.

func matches(t *tokend.Token, f tokend.TokenFilter) bool {
	switch {
	case t.ServiceID != f.ServiceID,
		f.Subject != nil && t.Subject != *f.Subject,
		f.ClientID != nil && t.ClientID != *f.ClientID,
		f.GrantType != nil && t.GrantType != *f.GrantType,
		f.Scope != nil && !slices.Contains(t.Scopes, *f.Scope),
		f.AccountID != nil && t.AccountID != *f.AccountID,
		f.Role != nil && !slices.Contains(t.Roles, *f.Role),
		f.Status != tokend.StatusAll && t.Status(f.Now) != f.Status,
		!f.CreatedAfter.IsZero() && !t.CreatedAt.After(f.CreatedAfter),
		!f.CreatedBefore.IsZero() && !t.CreatedAt.Before(f.CreatedBefore):
		return false
	}
	return true
}

func compareOrder(a, b *tokend.Token, k tokend.OrderKey, desc bool) int {
	c := cmp.Or(cmp.Compare(a.OrderValue(k), b.OrderValue(k)), cmp.Compare(a.ID, b.ID))
	if desc {
		return -c
	}
	return c
}

// expect returns what the filter selects from tokens, in order, ignoring paging.
func expect(tokens []*tokend.Token, f tokend.TokenFilter) []*tokend.Token {
	var out []*tokend.Token
	for _, t := range tokens {
		if matches(t, f) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *tokend.Token) int { return compareOrder(a, b, f.OrderBy, f.Desc) })
	return out
}

func ids(tokens []*tokend.Token) []int64 {
	out := make([]int64, len(tokens))
	for i, t := range tokens {
		out[i] = t.ID
	}
	return out
}

func cursorOf(t *tokend.Token, k tokend.OrderKey) *tokend.Cursor {
	return &tokend.Cursor{Value: t.OrderValue(k), ID: t.ID}
}

// walk lists every page of f with keyset paging and returns the tokens in
// the order they came, checking the page invariants on the way.
func walk(tb testing.TB, s tokend.Store, f tokend.TokenFilter) []*tokend.Token {
	tb.Helper()
	var all []*tokend.Token
	total := -1
	for range 1000 {
		page, err := s.ListTokens(tb.Context(), f)
		mustNoErr(tb, err, "ListTokens")
		if len(page.Tokens) > f.Limit {
			tb.Fatalf("page of %d tokens, limit %d", len(page.Tokens), f.Limit)
		}
		all = append(all, page.Tokens...)
		if f.CountTotal {
			// Every page counts the same tokens: the first (no cursor)
			// and the later ones (after a cursor) alike.
			if total >= 0 && page.Total != total {
				tb.Fatalf("page %d: Total = %d, the first page said %d", len(all), page.Total, total)
			}
			total = page.Total
		}
		if !page.More {
			if f.CountTotal && total != len(all) {
				tb.Fatalf("Total = %d, but paging listed %d tokens", total, len(all))
			}
			return all
		}
		if len(page.Tokens) == 0 {
			tb.Fatal("an empty page says more follow")
		}
		f.After = cursorOf(page.Tokens[len(page.Tokens)-1], f.OrderBy)
	}
	tb.Fatal("paging does not end")
	return nil
}

// listFixture stores tokens that differ in every filtered attribute, with
// ties in every order key, and returns them with the instant to judge them at.
func listFixture(tb testing.TB, s tokend.Store, serviceID int64, clients []int64) ([]*tokend.Token, time.Time) {
	tb.Helper()
	now := t0.Add(24 * time.Hour)
	subjects := []string{"alice", "bob", "carol c", ""}
	scopeSets := [][]string{{"openid", "read"}, {"openid", "read:all", "profile"}, {}}
	roleSets := [][]string{{"admin", "user"}, {"user"}, {"administrator"}, nil}
	grants := []tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantPassword, tokend.GrantDeviceCode}
	var out []*tokend.Token
	for i := range 56 {
		t := &tokend.Token{
			ServiceID:  serviceID,
			ClientID:   clients[i%5%len(clients)],
			Subject:    subjects[i%4],
			GrantType:  grants[i%3],
			AccessHash: newHash(),
			Scopes:     scopeSets[i%3],
			Roles:      roleSets[i%4],
			CreatedAt:  t0.Add(time.Duration(i/2) * time.Minute), // pairs share a creation time
		}
		if t.Subject == "" {
			t.GrantType = tokend.GrantClientCredentials
		}
		switch i % 6 {
		case 0:
			t.AccountID = "acct-1"
		case 1:
			t.AccountID = "acct-2"
		}
		switch i % 7 {
		case 0: // persistent
			t.Persistent = true
		case 1: // access expired, refresh live: still active
			t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(-time.Hour), newHash(), now.Add(time.Hour)
		case 2: // access live, no refresh
			t.AccessExpiresAt = now.Add(time.Hour)
		case 3: // both expired
			t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(-2*time.Hour), newHash(), now.Add(-time.Hour)
		case 4: // access expires exactly now: expired
			t.AccessExpiresAt = now
		case 5: // a refresh expiry without a refresh token does not keep it alive
			t.AccessExpiresAt, t.RefreshExpiresAt = now.Add(-time.Hour), now.Add(time.Hour)
		case 6: // refresh expires exactly now, access a moment later
			t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(2*time.Millisecond), newHash(), now
		}
		if i%3 != 0 {
			t.LastRefreshedAt = t0.Add(time.Duration(i%5) * time.Hour)
		}
		if i%8 == 7 || i%9 == 4 {
			t.RevokedAt, t.RevokedReason = now.Add(-time.Minute), "revoked"
		}
		out = append(out, mustToken(tb, s, t))
	}
	return out, now
}

func orders() []struct {
	key  tokend.OrderKey
	desc bool
} {
	var out []struct {
		key  tokend.OrderKey
		desc bool
	}
	for _, k := range []tokend.OrderKey{tokend.OrderCreatedAt, tokend.OrderExpiresAt, tokend.OrderLastRefreshedAt} {
		out = append(out, struct {
			key  tokend.OrderKey
			desc bool
		}{k, false}, struct {
			key  tokend.OrderKey
			desc bool
		}{k, true})
	}
	return out
}

func testTokenFilters(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 41)
	other := mustService(t, s, 42)
	c1, c2 := int64(1_000_000_000_041), int64(1_000_000_000_042)
	tokens, now := listFixture(t, s, svc.ID, []int64{c1, c1, c1, c2, c2})
	// The same kinds of tokens in another service, which no filter may reach.
	noise, _ := listFixture(t, s, other.ID, []int64{c1, c2})
	byID := map[int64]*tokend.Token{}
	for _, tok := range append(slices.Clone(tokens), noise...) {
		byID[tok.ID] = tok
	}

	filters := []struct {
		name string
		f    tokend.TokenFilter
	}{
		{"All", tokend.TokenFilter{}},
		{"Subject", tokend.TokenFilter{Subject: ptr("alice")}},
		{"SubjectWithSpace", tokend.TokenFilter{Subject: ptr("carol c")}},
		{"SubjectEmpty", tokend.TokenFilter{Subject: ptr("")}},
		{"SubjectUnknown", tokend.TokenFilter{Subject: ptr("nobody")}},
		{"Client", tokend.TokenFilter{ClientID: ptr(c1)}},
		{"ClientOther", tokend.TokenFilter{ClientID: ptr(c2)}},
		{"ClientUnknown", tokend.TokenFilter{ClientID: ptr(int64(5))}},
		{"GrantType", tokend.TokenFilter{GrantType: ptr(tokend.GrantPassword)}},
		{"ScopeWholeWord", tokend.TokenFilter{Scope: ptr("read")}},
		{"ScopeWithColon", tokend.TokenFilter{Scope: ptr("read:all")}},
		{"ScopePrefixMatchesNothing", tokend.TokenFilter{Scope: ptr("open")}},
		{"AccountID", tokend.TokenFilter{AccountID: ptr("acct-2")}},
		{"RoleWholeWord", tokend.TokenFilter{Role: ptr("admin")}},
		{"RoleShared", tokend.TokenFilter{Role: ptr("user")}},
		{"StatusActive", tokend.TokenFilter{Status: tokend.StatusActive}},
		{"StatusExpired", tokend.TokenFilter{Status: tokend.StatusExpired}},
		{"StatusRevoked", tokend.TokenFilter{Status: tokend.StatusRevoked}},
		{"CreatedAfterIsExclusive", tokend.TokenFilter{CreatedAfter: t0.Add(10 * time.Minute)}},
		{"CreatedBeforeIsExclusive", tokend.TokenFilter{CreatedBefore: t0.Add(10 * time.Minute)}},
		{"CreatedRange", tokend.TokenFilter{CreatedAfter: t0.Add(3 * time.Minute), CreatedBefore: t0.Add(20 * time.Minute)}},
		{"SubjectClientStatusScope", tokend.TokenFilter{Subject: ptr("alice"), ClientID: ptr(c1), Status: tokend.StatusActive, Scope: ptr("openid")}},
		{"ClientRoleCreated", tokend.TokenFilter{ClientID: ptr(c2), Role: ptr("user"), CreatedAfter: t0.Add(2 * time.Minute)}},
		{"GrantAccountExpired", tokend.TokenFilter{GrantType: ptr(tokend.GrantAuthorizationCode), AccountID: ptr("acct-1"), Status: tokend.StatusExpired}},
		{"SubjectRevoked", tokend.TokenFilter{Subject: ptr("bob"), Status: tokend.StatusRevoked}},
		{"SubjectEmptyExpired", tokend.TokenFilter{Subject: ptr(""), Status: tokend.StatusExpired}},
	}
	for _, c := range filters {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			f.ServiceID, f.Now, f.CountTotal = svc.ID, now, true
			if f.Status == "" {
				f.Status = tokend.StatusAll
			}
			for _, o := range orders() {
				f.OrderBy, f.Desc, f.Limit = o.key, o.desc, 7
				want := expect(tokens, f)
				page, err := s.ListTokens(t.Context(), f)
				mustNoErr(t, err, "ListTokens")
				if page.Total != len(want) {
					t.Fatalf("order %s desc %v: Total = %d, want %d", o.key, o.desc, page.Total, len(want))
				}
				got := walk(t, s, f)
				if !slices.Equal(ids(got), ids(want)) {
					t.Fatalf("order %s desc %v:\ngot  %v\nwant %v", o.key, o.desc, ids(got), ids(want))
				}
			}
			if strings.HasSuffix(c.name, "Unknown") || strings.HasSuffix(c.name, "MatchesNothing") {
				if len(expect(tokens, f)) != 0 {
					t.Fatal("the fixture has tokens this filter should not select")
				}
				return
			}
			if len(expect(tokens, f)) == 0 {
				t.Fatal("the fixture has no token this filter selects: the case tests nothing")
			}
		})
	}
	t.Run("ListedTokensCarryEveryField", func(t *testing.T) {
		full := mustToken(t, s, fullToken(other.ID, c1, "zoe"))
		page, err := s.ListTokens(t.Context(), tokend.TokenFilter{ServiceID: other.ID, Subject: ptr("zoe"),
			Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: 10})
		mustNoErr(t, err, "ListTokens")
		mustEqual(t, "tokens", page.Tokens, []*tokend.Token{full})
		for _, tok := range walk(t, s, tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusAll, OrderBy: tokend.OrderExpiresAt, Limit: 20}) {
			mustEqual(t, fmt.Sprintf("token %d", tok.ID), tok, byID[tok.ID])
		}
	})
	t.Run("OffsetPaging", func(t *testing.T) {
		for _, o := range orders() {
			f := tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusActive, Now: now, OrderBy: o.key, Desc: o.desc, Limit: 4, CountTotal: true}
			want := expect(tokens, f)
			var got []*tokend.Token
			for f.Offset = 0; ; f.Offset += f.Limit {
				page, err := s.ListTokens(t.Context(), f)
				mustNoErr(t, err, "ListTokens offset %d", f.Offset)
				if page.Total != len(want) {
					t.Fatalf("offset %d: Total = %d, want %d", f.Offset, page.Total, len(want))
				}
				got = append(got, page.Tokens...)
				if page.More != (f.Offset+f.Limit < len(want)) {
					t.Fatalf("offset %d: More = %v with %d tokens in all", f.Offset, page.More, len(want))
				}
				if !page.More {
					break
				}
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("order %s desc %v:\ngot  %v\nwant %v", o.key, o.desc, ids(got), ids(want))
			}
		}
	})
	t.Run("TotalPastTheEnd", func(t *testing.T) {
		// A page that shows the end holds the total too; one past the
		// end, or empty after a cursor, does not, and it must still be right.
		f := tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusActive, Now: now, OrderBy: tokend.OrderCreatedAt, CountTotal: true}
		want := len(expect(tokens, f))
		for _, c := range []struct {
			offset, limit, n int
			more             bool
		}{
			{0, want + 1, want, false}, {0, want, want, false}, {0, want - 1, want - 1, true},
			{want - 2, 5, 2, false}, {want, 5, 0, false}, {want + 3, 5, 0, false},
		} {
			f.Offset, f.Limit = c.offset, c.limit
			page, err := s.ListTokens(t.Context(), f)
			mustNoErr(t, err, "ListTokens")
			if page.Total != want || len(page.Tokens) != c.n || page.More != c.more {
				t.Fatalf("offset %d limit %d: %d tokens of %d, More %v; want %d of %d, More %v",
					c.offset, c.limit, len(page.Tokens), page.Total, page.More, c.n, want, c.more)
			}
		}
		f.Offset, f.Limit = 0, 1
		all := walk(t, s, f)
		f.After = cursorOf(all[len(all)-1], f.OrderBy)
		page, err := s.ListTokens(t.Context(), f)
		mustNoErr(t, err, "ListTokens")
		if page.Total != want || len(page.Tokens) != 0 || page.More {
			t.Fatalf("after the last token: %d tokens of %d, More %v; want none of %d", len(page.Tokens), page.Total, page.More, want)
		}
	})
	t.Run("MoreIsFalseOnAnExactlyFullLastPage", func(t *testing.T) {
		f := tokend.TokenFilter{ServiceID: svc.ID, Subject: ptr("alice"), Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt}
		f.Limit = len(expect(tokens, f))
		page, err := s.ListTokens(t.Context(), f)
		mustNoErr(t, err, "ListTokens")
		if page.More || len(page.Tokens) != f.Limit {
			t.Fatalf("got %d tokens, More %v; want %d and no more", len(page.Tokens), page.More, f.Limit)
		}
	})
}

func testTokenPaging(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 51)
	for i, o := range orders() {
		t.Run(fmt.Sprintf("StableUnderChanges/%s/desc=%v", o.key, o.desc), func(t *testing.T) {
			// Each order gets its own client, so earlier fixtures stay out.
			client := int64(100 + i)
			tokens, now := listFixture(t, s, svc.ID, []int64{client})
			f := tokend.TokenFilter{ServiceID: svc.ID, ClientID: &client, Status: tokend.StatusActive, Now: now,
				OrderBy: o.key, Desc: o.desc, Limit: 5}
			first, err := s.ListTokens(t.Context(), f)
			mustNoErr(t, err, "ListTokens")
			if !first.More {
				t.Fatal("the fixture fits one page: nothing to page through")
			}
			cur := first.Tokens[len(first.Tokens)-1]
			after := func(tok *tokend.Token) bool { return compareOrder(tok, cur, o.key, o.desc) > 0 }
			var rest []*tokend.Token
			for _, tok := range expect(tokens, f) {
				if after(tok) {
					rest = append(rest, tok)
				}
			}
			if len(rest) < 3 {
				t.Fatalf("only %d tokens after the first page", len(rest))
			}

			// Between pages: add copies of listed tokens (higher ids, same
			// or nudged order values) on both sides of the cursor, delete
			// one token still to come and revoke another.
			var added []*tokend.Token
			for j, src := range []*tokend.Token{first.Tokens[0], cur, rest[len(rest)/2], rest[len(rest)-1]} {
				cp := *src
				cp.ID, cp.GrantID, cp.AccessHash = 0, 0, newHash()
				if src.HasRefresh() {
					cp.RefreshHash = newHash()
				}
				if j == 0 && !o.desc {
					// A copy sorts after its original in ascending order;
					// one millisecond less puts it ahead of the cursor.
					nudge(&cp, o.key, -time.Millisecond)
				}
				added = append(added, mustToken(t, s, &cp))
			}
			var addedBefore, addedAfter int
			for _, tok := range added {
				if after(tok) {
					addedAfter++
				} else {
					addedBefore++
				}
			}
			if addedBefore == 0 || addedAfter == 0 {
				t.Fatalf("added %d tokens before the cursor and %d after; want some on each side", addedBefore, addedAfter)
			}
			mustNoErr(t, s.DeleteToken(t.Context(), rest[0].ID), "DeleteToken")
			_, err = s.RevokeTokens(t.Context(), tokend.RevokeFilter{ServiceID: svc.ID, TokenID: rest[1].ID}, now, "x")
			mustNoErr(t, err, "RevokeTokens")

			f.After = cursorOf(cur, o.key)
			got := append(slices.Clone(first.Tokens), walk(t, s, f)...)

			// Want: the first page, then what matches now after the cursor.
			var current []*tokend.Token
			for _, tok := range append(tokens, added...) {
				if tok.ID != rest[0].ID && tok.ID != rest[1].ID {
					current = append(current, tok)
				}
			}
			want := slices.Clone(first.Tokens)
			for _, tok := range expect(current, f) {
				if after(tok) {
					want = append(want, tok)
				}
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("got  %v\nwant %v", ids(got), ids(want))
			}
			seen := map[int64]bool{}
			for _, id := range ids(got) {
				if seen[id] {
					t.Fatalf("token %d listed twice", id)
				}
				seen[id] = true
			}
		})
	}
}

// nudge moves a token's order value for key k by d, keeping it as live as
// it was (the fixture's active tokens outlive now by more than d).
func nudge(t *tokend.Token, k tokend.OrderKey, d time.Duration) {
	switch k {
	case tokend.OrderCreatedAt:
		t.CreatedAt = t.CreatedAt.Add(d)
	case tokend.OrderLastRefreshedAt:
		// From "never" (0) too: a time just before the epoch sorts first.
		t.LastRefreshedAt = time.UnixMilli(t.OrderValue(k)).UTC().Add(d)
	case tokend.OrderExpiresAt:
		if !t.AccessExpiresAt.IsZero() {
			t.AccessExpiresAt = t.AccessExpiresAt.Add(d)
		}
		if !t.RefreshExpiresAt.IsZero() {
			t.RefreshExpiresAt = t.RefreshExpiresAt.Add(d)
		}
	}
}
