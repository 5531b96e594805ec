package api

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend/wire"
)

// listFixture holds tokens with known attributes, each created a second
// after the previous one.
type listFixture struct {
	*fixture
	start  time.Time
	tokens []wire.Token // in creation order, as minted
}

func MustListFixture(tb testing.TB) *listFixture {
	tb.Helper()
	f := &listFixture{fixture: MustFixture(tb)}
	f.start = f.e.clock.Now()
	mint := func(in wire.TokenInput) wire.Token {
		tb.Helper()
		t := f.mint(tb, in)
		f.tokens = append(f.tokens, t)
		f.e.clock.Advance(time.Second)
		return t
	}
	mint(wire.TokenInput{Subject: "alice", Scopes: []string{"photos.read"}, AccessTokenTTL: 3600, RefreshTokenTTL: 7200})                       // 0
	mint(wire.TokenInput{Subject: "alice", Client: "cli-app", Scopes: []string{"photos.write"}, AccountID: "acct-a", Roles: []string{"admin"}}) // 1
	mint(wire.TokenInput{Subject: "bob", GrantType: "PASSWORD", Scopes: []string{"photos.read", "openid"}, AccountID: "acct-b"})                // 2
	mint(wire.TokenInput{GrantType: "CLIENT_CREDENTIALS", Client: "cli-app", AccessTokenTTL: 900})                                              // 3
	mint(wire.TokenInput{Subject: "carol", GrantType: "IMPLICIT", AccessTokenTTL: 10, Roles: []string{"admin", "viewer"}})                      // 4: expires soon
	mint(wire.TokenInput{Subject: "bob", Persistent: true, NoRefreshToken: true})                                                               // 5
	mint(wire.TokenInput{Subject: "dave", Scopes: []string{"profile"}, AccessTokenTTL: 120, RefreshTokenTTL: 300})                              // 6: revoked below
	f.e.MustDo(tb, "POST", fmt.Sprintf("%s/%d/revoke", f.base, f.tokens[6].ID), f.e.root, nil, http.StatusOK, nil)
	f.e.clock.Advance(time.Minute) // token 4 is now expired
	return f
}

func TestListFilters(t *testing.T) {
	f := MustListFixture(t)
	tk := func(is ...int) []int64 {
		var out []int64
		for _, i := range is {
			out = append(out, f.tokens[i].ID)
		}
		slices.Sort(out)
		return out
	}
	at := func(i int) string { return url.QueryEscape(f.tokens[i].CreatedAt.Format(time.RFC3339Nano)) }
	tests := []struct {
		name  string
		query string
		want  []int64
	}{
		{"DefaultActive", "", tk(0, 1, 2, 3, 5)},
		{"StatusAll", "status=all", tk(0, 1, 2, 3, 4, 5, 6)},
		{"StatusExpired", "status=expired", tk(4)},
		{"StatusRevoked", "status=revoked", tk(6)},
		{"Subject", "subject=alice", tk(0, 1)},
		{"SubjectAll", "subject=bob&status=all", tk(2, 5)},
		{"ClientByClientID", "client=cli-app", tk(1, 3)},
		{"ClientByID", fmt.Sprintf("client=%d&status=all", f.web.ID), tk(0, 2, 4, 5, 6)},
		{"GrantType", "grant_type=PASSWORD", tk(2)},
		{"GrantTypeCC", "grant_type=CLIENT_CREDENTIALS", tk(3)},
		{"Scope", "scope=photos.read", tk(0, 2)},
		{"ScopeNone", "scope=photos.delete", nil},
		{"AccountID", "account_id=acct-b", tk(2)},
		{"Role", "role=admin&status=all", tk(1, 4)},
		{"CreatedAfter", "status=all&created_after=" + at(4), tk(5, 6)},
		{"CreatedBefore", "status=all&created_before=" + at(2), tk(0, 1)},
		{"CreatedBetween", "status=all&created_after=" + at(1) + "&created_before=" + at(4), tk(2, 3)},
		{"Combined", "subject=alice&client=web-app&scope=photos.read", tk(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := MustTokens(t, f.e, f.svc.ID, tt.query)
			got := ids(l.Tokens)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("?%s = %v, want %v", tt.query, got, tt.want)
			}
			if l.TotalCount != len(tt.want) || l.NextPageToken != "" {
				t.Errorf("total_count %d next %q, want %d and none", l.TotalCount, l.NextPageToken, len(tt.want))
			}
			if l.Tokens == nil {
				t.Errorf("tokens is null, want []")
			}
			for _, tok := range l.Tokens {
				if tok.AccessToken != "" || tok.RefreshToken != "" {
					t.Errorf("list shows a raw value")
				}
			}
		})
	}
}

func TestListOrder(t *testing.T) {
	f := MustListFixture(t)
	// The record's overall expiry: the later of its two; persistent last.
	expiry := func(t wire.Token) int64 {
		if t.Persistent {
			return 1 << 62
		}
		v := t.ExpiresAt.UnixMilli()
		if t.RefreshTokenExpiresAt != nil {
			v = max(v, t.RefreshTokenExpiresAt.UnixMilli())
		}
		return v
	}
	keys := map[string]func(wire.Token) int64{
		"created_at": func(t wire.Token) int64 { return t.CreatedAt.UnixMilli() },
		"expires_at": expiry,
		"last_refreshed_at": func(t wire.Token) int64 {
			if t.LastRefreshedAt == nil {
				return 0
			}
			return t.LastRefreshedAt.UnixMilli()
		},
	}
	for key, value := range keys {
		for _, order := range []string{"asc", "desc", ""} {
			t.Run(key+"_"+order, func(t *testing.T) {
				q := "status=all&order_by=" + key
				if order != "" {
					q += "&order=" + order
				}
				got := MustTokens(t, f.e, f.svc.ID, q).Tokens
				want := slices.Clone(f.tokens)
				slices.SortFunc(want, func(a, b wire.Token) int {
					return cmp.Or(cmp.Compare(value(a), value(b)), cmp.Compare(a.ID, b.ID))
				})
				if order != "asc" { // desc is the default
					slices.Reverse(want)
				}
				if !slices.Equal(ids(got), ids(want)) {
					t.Fatalf("?%s = %v, want %v", q, ids(got), ids(want))
				}
			})
		}
	}
}

// pageAll lists every page of query with cursor paging, calling between
// after each page but the last.
func pageAll(tb testing.TB, f *fixture, query string, size int, between func(page int)) []wire.Token {
	tb.Helper()
	var all []wire.Token
	token := ""
	for page := 0; ; page++ {
		q := fmt.Sprintf("%s&page_size=%d", query, size)
		if token != "" {
			q += "&page_token=" + url.QueryEscape(token)
		}
		l := MustTokens(tb, f.e, f.svc.ID, q)
		if len(l.Tokens) > size {
			tb.Fatalf("page of %d tokens, size %d", len(l.Tokens), size)
		}
		all = append(all, l.Tokens...)
		if l.NextPageToken == "" {
			return all
		}
		if page > 100 {
			tb.Fatal("paging does not end")
		}
		token = l.NextPageToken
		if between != nil {
			between(page)
		}
	}
}

func TestListPaging(t *testing.T) {
	f := MustListFixture(t)
	for _, order := range []string{"asc", "desc"} {
		for _, key := range []string{"created_at", "expires_at", "last_refreshed_at"} {
			query := "status=all&order_by=" + key + "&order=" + order
			full := MustTokens(t, f.e, f.svc.ID, query)
			for _, size := range []int{1, 2, 3, 7} {
				t.Run(fmt.Sprintf("Cursor_%s_%s_%d", key, order, size), func(t *testing.T) {
					if got := pageAll(t, f.fixture, query, size, nil); !slices.Equal(ids(got), ids(full.Tokens)) {
						t.Fatalf("pages %v, want %v", ids(got), ids(full.Tokens))
					}
				})
				t.Run(fmt.Sprintf("Offset_%s_%s_%d", key, order, size), func(t *testing.T) {
					var got []wire.Token
					for off := 0; off < len(full.Tokens)+size; off += size {
						l := MustTokens(t, f.e, f.svc.ID, fmt.Sprintf("%s&page_size=%d&offset=%d", query, size, off))
						if l.TotalCount != len(full.Tokens) {
							t.Fatalf("total_count %d at offset %d, want %d", l.TotalCount, off, len(full.Tokens))
						}
						got = append(got, l.Tokens...)
					}
					if !slices.Equal(ids(got), ids(full.Tokens)) {
						t.Fatalf("offset pages %v, want %v", ids(got), ids(full.Tokens))
					}
				})
			}
		}
	}
	t.Run("TokenTiedToOrder", func(t *testing.T) {
		l := MustTokens(t, f.e, f.svc.ID, "status=all&page_size=2&order=asc")
		f.e.MustError(t, "GET", f.base+"?status=all&page_size=2&order=desc&page_token="+l.NextPageToken, f.e.root, nil, http.StatusBadRequest, "invalid", "page_token")
		f.e.MustError(t, "GET", f.base+"?status=all&page_size=2&order=asc&offset=2&page_token="+l.NextPageToken, f.e.root, nil, http.StatusBadRequest, "invalid", "offset")
	})
}

// TestCursorStability inserts and revokes tokens between pages: every token
// that existed (and stayed listable) throughout appears exactly once.
func TestCursorStability(t *testing.T) {
	for _, tc := range []struct{ status, order, key string }{
		{"all", "asc", "created_at"}, {"all", "desc", "created_at"},
		{"active", "asc", "created_at"}, {"active", "desc", "created_at"},
		{"all", "asc", "expires_at"}, {"active", "desc", "expires_at"},
		{"all", "desc", "last_refreshed_at"},
	} {
		t.Run(tc.status+"_"+tc.key+"_"+tc.order, func(t *testing.T) {
			f := MustFixture(t)
			var initial []wire.Token
			for i := range 30 {
				// Pairs share a creation time, so ties must be broken by id.
				if i%2 == 0 {
					f.e.clock.Advance(time.Millisecond)
				}
				initial = append(initial, f.mint(t, wire.TokenInput{Subject: fmt.Sprint("u", i), AccessTokenTTL: int64(100 + i%5)}))
			}
			revoked := map[int64]bool{}
			var added []int64
			next := 0
			between := func(page int) {
				f.e.clock.Advance(time.Millisecond)
				for range 3 {
					added = append(added, f.mint(t, wire.TokenInput{Subject: "late", AccessTokenTTL: 50 + int64(page)}).ID)
				}
				// Revoke two of the initial tokens, spread over the range.
				for range 2 {
					victim := initial[(next*7)%len(initial)]
					next++
					f.e.MustDo(t, "POST", fmt.Sprintf("%s/%d/revoke", f.base, victim.ID), f.e.root, nil, http.StatusOK, nil)
					revoked[victim.ID] = true
				}
			}
			got := pageAll(t, f, fmt.Sprintf("status=%s&order=%s&order_by=%s", tc.status, tc.order, tc.key), 4, between)
			seen := map[int64]bool{}
			for _, tok := range got {
				if seen[tok.ID] {
					t.Fatalf("token %d listed twice", tok.ID)
				}
				seen[tok.ID] = true
			}
			for _, tok := range initial {
				stable := tc.status == "all" || !revoked[tok.ID]
				if stable && !seen[tok.ID] {
					t.Errorf("token %d existed throughout but was skipped", tok.ID)
				}
			}
			if len(added) == 0 || len(revoked) == 0 {
				t.Fatal("nothing happened between pages")
			}
		})
	}
}
