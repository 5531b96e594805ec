package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func testTokenStatus(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 61)
	now := t0.Add(48 * time.Hour)
	mk := func(subject string, edit func(*tokend.Token)) *tokend.Token {
		tok := &tokend.Token{ServiceID: svc.ID, ClientID: 1, Subject: subject, GrantType: tokend.GrantAuthorizationCode,
			AccessHash: newHash(), Scopes: []string{"openid"}, CreatedAt: t0}
		edit(tok)
		return mustToken(t, s, tok)
	}
	cases := []struct {
		tok  *tokend.Token
		want tokend.TokenStatus
	}{
		{mk("persistent", func(t *tokend.Token) { t.Persistent = true }), tokend.StatusActive},
		{mk("persistent-revoked", func(t *tokend.Token) { t.Persistent, t.RevokedAt = true, now.Add(-time.Hour) }), tokend.StatusRevoked},
		{mk("access-live", func(t *tokend.Token) { t.AccessExpiresAt = now.Add(time.Millisecond) }), tokend.StatusActive},
		{mk("access-ends-now", func(t *tokend.Token) { t.AccessExpiresAt = now }), tokend.StatusExpired},
		{mk("refresh-live", func(t *tokend.Token) {
			t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(-time.Hour), newHash(), now.Add(time.Millisecond)
		}), tokend.StatusActive},
		{mk("refresh-ends-now", func(t *tokend.Token) {
			t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(-time.Hour), newHash(), now
		}), tokend.StatusExpired},
		{mk("both-expired", func(t *tokend.Token) {
			t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(-2*time.Hour), newHash(), now.Add(-time.Hour)
		}), tokend.StatusExpired},
		{mk("revoked-while-live", func(t *tokend.Token) {
			t.AccessExpiresAt, t.RevokedAt, t.RevokedReason = now.Add(time.Hour), now.Add(-time.Hour), "r"
		}), tokend.StatusRevoked},
		{mk("revoked-and-expired", func(t *tokend.Token) {
			t.AccessExpiresAt, t.RevokedAt = now.Add(-time.Hour), now.Add(-2*time.Hour)
		}), tokend.StatusRevoked},
	}
	list := func(t *testing.T, status tokend.TokenStatus, at time.Time) []int64 {
		page, err := s.ListTokens(t.Context(), tokend.TokenFilter{ServiceID: svc.ID, Status: status, Now: at,
			OrderBy: tokend.OrderCreatedAt, Limit: 100, CountTotal: true})
		mustNoErr(t, err, "ListTokens %s", status)
		if page.Total != len(page.Tokens) {
			t.Fatalf("status %s: Total %d, %d tokens listed", status, page.Total, len(page.Tokens))
		}
		return ids(page.Tokens)
	}
	statuses := []tokend.TokenStatus{tokend.StatusActive, tokend.StatusExpired, tokend.StatusRevoked, tokend.StatusAll, tokend.StatusNotRevoked}
	for _, status := range statuses {
		t.Run(string(status), func(t *testing.T) {
			var want []int64
			for _, c := range cases {
				if c.tok.Status(now) != c.want {
					t.Fatalf("fixture %s: Token.Status says %s, case says %s", c.tok.Subject, c.tok.Status(now), c.want)
				}
				notRevoked := status == tokend.StatusNotRevoked && c.want != tokend.StatusRevoked
				if status == tokend.StatusAll || c.want == status || notRevoked {
					want = append(want, c.tok.ID)
				}
			}
			if got := list(t, status, now); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	t.Run("JudgedAtNowNotTheClock", func(t *testing.T) {
		var want []int64
		for _, c := range cases {
			if c.tok.RevokedAt.IsZero() {
				want = append(want, c.tok.ID)
			}
		}
		if got := list(t, tokend.StatusActive, now.Add(-24*time.Hour)); !slices.Equal(got, want) {
			t.Fatalf("active a day earlier: got %v, want %v", got, want)
		}
	})
}

func testRevokeTokens(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 71)
	other := mustService(t, s, 72)
	at := t0.Add(time.Hour)
	mk := func(serviceID, client int64, subject string, grant int64) *tokend.Token {
		tok := fullToken(serviceID, client, subject)
		tok.GrantID = grant
		return mustToken(t, s, tok)
	}
	type fixture struct{ a1, a2, b1, cc, famRoot, famChild, otherA *tokend.Token }
	setup := func(t *testing.T) fixture {
		t.Helper()
		f := fixture{
			a1: mk(svc.ID, 1, "alice", 0), a2: mk(svc.ID, 2, "alice", 0), b1: mk(svc.ID, 1, "bob", 0),
			cc: mk(svc.ID, 1, "", 0), otherA: mk(other.ID, 1, "alice", 0),
		}
		f.famRoot = mk(svc.ID, 3, "carol", 0)
		f.famChild = mk(svc.ID, 3, "carol", f.famRoot.ID)
		return f
	}
	revoke := func(t *testing.T, f tokend.RevokeFilter) int {
		t.Helper()
		n, err := s.RevokeTokens(t.Context(), f, at, "test_reason")
		mustNoErr(t, err, "RevokeTokens")
		return n
	}
	check := func(t *testing.T, revoked []*tokend.Token, all ...*tokend.Token) {
		t.Helper()
		for _, tok := range all {
			got := mustGetToken(t, s, tok.ID)
			if slices.Contains(revoked, tok) {
				if !got.RevokedAt.Equal(at) || got.RevokedReason != "test_reason" {
					t.Errorf("token %d (%s): revoked at %v reason %q, want %v %q", tok.ID, tok.Subject, got.RevokedAt, got.RevokedReason, at, "test_reason")
				}
				got.RevokedAt, got.RevokedReason = time.Time{}, ""
			}
			mustEqual(t, "token apart from revocation", got, tok)
		}
	}
	cases := []struct {
		name   string
		filter func(fixture) tokend.RevokeFilter
		want   func(fixture) []*tokend.Token
	}{
		{"ByTokenID", func(f fixture) tokend.RevokeFilter { return tokend.RevokeFilter{ServiceID: svc.ID, TokenID: f.a1.ID} },
			func(f fixture) []*tokend.Token { return []*tokend.Token{f.a1} }},
		{"ByGrantID", func(f fixture) tokend.RevokeFilter {
			return tokend.RevokeFilter{ServiceID: svc.ID, GrantID: f.famRoot.ID}
		},
			func(f fixture) []*tokend.Token { return []*tokend.Token{f.famRoot, f.famChild} }},
		{"ByClient", func(f fixture) tokend.RevokeFilter { return tokend.RevokeFilter{ServiceID: svc.ID, ClientID: 1} },
			func(f fixture) []*tokend.Token { return []*tokend.Token{f.a1, f.b1, f.cc} }},
		{"BySubject", func(f fixture) tokend.RevokeFilter {
			return tokend.RevokeFilter{ServiceID: svc.ID, Subject: ptr("alice")}
		},
			func(f fixture) []*tokend.Token { return []*tokend.Token{f.a1, f.a2} }},
		{"ByClientAndSubject", func(f fixture) tokend.RevokeFilter {
			return tokend.RevokeFilter{ServiceID: svc.ID, ClientID: 1, Subject: ptr("alice")}
		}, func(f fixture) []*tokend.Token { return []*tokend.Token{f.a1} }},
		{"TokenOfAnotherServiceIsLeftAlone", func(f fixture) tokend.RevokeFilter {
			return tokend.RevokeFilter{ServiceID: svc.ID, TokenID: f.otherA.ID}
		}, func(f fixture) []*tokend.Token { return nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each case revokes everything at the end, so fixtures of
			// earlier cases are already revoked and count for nothing.
			f := setup(t)
			all := []*tokend.Token{f.a1, f.a2, f.b1, f.cc, f.famRoot, f.famChild, f.otherA}
			want := c.want(f)
			if n := revoke(t, c.filter(f)); n != len(want) {
				t.Fatalf("revoked %d, want %d", n, len(want))
			}
			check(t, want, all...)
			if n := revoke(t, c.filter(f)); n != 0 {
				t.Fatalf("revoking again counted %d, want 0", n)
			}
			check(t, want, all...) // the first revocation's time and reason stay
			for _, id := range []int64{1, 2, 3} {
				revoke(t, tokend.RevokeFilter{ServiceID: svc.ID, ClientID: id})
			}
		})
	}
	t.Run("CountsOnlyNewlyRevoked", func(t *testing.T) {
		f := setup(t)
		revoke(t, tokend.RevokeFilter{ServiceID: svc.ID, TokenID: f.a1.ID})
		if n := revoke(t, tokend.RevokeFilter{ServiceID: svc.ID, Subject: ptr("alice")}); n != 1 {
			t.Fatalf("revoked %d, want 1 (a2 only)", n)
		}
	})
}

func testDeleteClient(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 81)
	gone := mustClient(t, s, svc.ID, 1_000_000_000_081)
	kept := mustClient(t, s, svc.ID, 1_000_000_000_082)
	live := mustToken(t, s, fullToken(svc.ID, gone.ID, "alice"))
	earlier := fullToken(svc.ID, gone.ID, "bob")
	earlier.RevokedAt, earlier.RevokedReason = t0.Add(time.Minute), "user"
	mustToken(t, s, earlier)
	other := mustToken(t, s, fullToken(svc.ID, kept.ID, "alice"))
	at := t0.Add(time.Hour)

	mustNoErr(t, s.DeleteClient(t.Context(), gone.ID, at, tokend.ClientReason), "DeleteClient")

	t.Run("ClientIsGone", func(t *testing.T) {
		_, err := s.GetClient(t.Context(), gone.ID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetClientByClientID(t.Context(), svc.ID, gone.ClientID)
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
	t.Run("LiveTokensRevokedAndKeepTheirClientID", func(t *testing.T) {
		want := *live
		want.RevokedAt, want.RevokedReason = at, tokend.ClientReason
		mustEqual(t, "token", mustGetToken(t, s, live.ID), &want)
	})
	t.Run("EarlierRevocationKept", func(t *testing.T) {
		mustEqual(t, "token", mustGetToken(t, s, earlier.ID), earlier)
	})
	t.Run("OtherClientUntouched", func(t *testing.T) {
		mustEqual(t, "token", mustGetToken(t, s, other.ID), other)
		got, err := s.GetClient(t.Context(), kept.ID)
		mustNoErr(t, err, "GetClient")
		mustEqual(t, "client", got, kept)
	})
	t.Run("TokensStillListedByClientID", func(t *testing.T) {
		page, err := s.ListTokens(t.Context(), tokend.TokenFilter{ServiceID: svc.ID, ClientID: &gone.ID,
			Status: tokend.StatusRevoked, OrderBy: tokend.OrderCreatedAt, Limit: 10})
		mustNoErr(t, err, "ListTokens")
		if len(page.Tokens) != 2 {
			t.Fatalf("listed %d revoked tokens of the deleted client, want 2", len(page.Tokens))
		}
	})
}

func testDeleteService(t *testing.T, s tokend.Store) {
	gone := mustService(t, s, 91)
	kept := mustService(t, s, 92)
	c := mustClient(t, s, gone.ID, 1_000_000_000_091)
	keptClient := mustClient(t, s, kept.ID, 1_000_000_000_092)
	tok := mustToken(t, s, fullToken(gone.ID, c.ID, "alice"))
	keptTok := mustToken(t, s, fullToken(kept.ID, keptClient.ID, "alice"))
	key := &tokend.Key{ServiceID: gone.ID, Name: "k", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0}
	keptKey := &tokend.Key{ServiceID: kept.ID, Name: "k", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0}
	orgKey := &tokend.Key{Name: "org", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0}
	for _, k := range []*tokend.Key{key, keptKey, orgKey} {
		mustNoErr(t, s.CreateKey(t.Context(), k), "CreateKey")
	}
	code, keptCode := fullCode(gone.ID, c.ID), fullCode(kept.ID, keptClient.ID)
	for _, cd := range []*tokend.AuthorizationCode{code, keptCode} {
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), cd), "CreateAuthorizationCode")
	}
	mustUser(t, s, gone.ID, "alice")
	keptUser := mustUser(t, s, kept.ID, "alice")
	// retire rotates a token's refresh token and returns the retired hash.
	retire := func(tok *tokend.Token) tokend.Hash {
		old := tok.RefreshHash
		_, err := s.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0},
			func(cur *tokend.Token) error { cur.RefreshHash = newHash(); return nil })
		mustNoErr(t, err, "RotateRefreshToken")
		return old
	}
	retired := retire(tok)
	keptRetired := retire(keptTok)
	keptTok = mustGetToken(t, s, keptTok.ID)

	mustNoErr(t, s.DeleteService(t.Context(), gone.ID), "DeleteService")

	t.Run("EverythingOfTheServiceIsGone", func(t *testing.T) {
		_, err := s.GetService(t.Context(), gone.ID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetClient(t.Context(), c.ID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetToken(t.Context(), tok.ID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetTokenByAccessHash(t.Context(), tok.AccessHash)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetKeyByHash(t.Context(), key.Hash)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetRetiredRefresh(t.Context(), retired)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, _, err = s.RedeemAuthorizationCode(t.Context(), code.Hash, t0, func(*tokend.AuthorizationCode) (*tokend.Token, error) {
			t.Error("mint called for a code of a deleted service")
			return nil, errAbort
		})
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetUser(t.Context(), gone.ID, "alice")
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
	t.Run("OtherServicesAndOrganizationKeysStay", func(t *testing.T) {
		got, err := s.ListServices(t.Context())
		mustNoErr(t, err, "ListServices")
		mustEqual(t, "services", got, []*tokend.Service{kept})
		mustEqual(t, "token", mustGetToken(t, s, keptTok.ID), keptTok)
		gotClient, err := s.GetClient(t.Context(), keptClient.ID)
		mustNoErr(t, err, "GetClient")
		mustEqual(t, "client", gotClient, keptClient)
		keys, err := s.ListKeys(t.Context(), -1)
		mustNoErr(t, err, "ListKeys")
		mustEqual(t, "keys", keys, sortedByID(keptKey, orgKey))
		gotUser, err := s.GetUser(t.Context(), kept.ID, "alice")
		mustNoErr(t, err, "GetUser")
		mustEqual(t, "user", gotUser, keptUser)
		r, err := s.GetRetiredRefresh(t.Context(), keptRetired)
		mustNoErr(t, err, "GetRetiredRefresh")
		mustEqual(t, "retired", r, &tokend.RetiredRefresh{Hash: keptRetired, TokenID: keptTok.ID, RetiredAt: t0})
		_, _, err = s.RedeemAuthorizationCode(t.Context(), keptCode.Hash, t0, func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
			mustEqual(t, "code", c, keptCode)
			return nil, errAbort
		})
		if err != errAbort {
			t.Fatalf("redeeming the kept service's code: %v, want mint's error", err)
		}
	})
	// Why codes and users must go with their service, though the contract
	// names only clients, keys and tokens: its id can be taken again, and
	// the new service must not inherit them.
	t.Run("IDCanBeReused", func(t *testing.T) {
		again := mustService(t, s, gone.ID)
		got, err := s.GetService(t.Context(), gone.ID)
		mustNoErr(t, err, "GetService")
		mustEqual(t, "service", got, again)
		_, err = s.GetUser(t.Context(), gone.ID, "alice")
		wantCode(t, err, tokend.ENOTFOUND, "")
		users, err := s.ListUsers(t.Context(), gone.ID, 0, 10)
		mustNoErr(t, err, "ListUsers")
		if len(users) != 0 {
			t.Fatalf("the new service has %d users of the deleted one", len(users))
		}
	})
}

func testSubjectGrants(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 101)
	other := mustService(t, s, 102)
	c1 := mustClient(t, s, svc.ID, 1_000_000_000_101)
	c2 := mustClient(t, s, svc.ID, 1_000_000_000_102)
	c3 := mustClient(t, s, svc.ID, 1_000_000_000_103)
	now := t0.Add(time.Hour)
	mk := func(serviceID, client int64, subject string, created time.Time, scopes []string, edit func(*tokend.Token)) {
		tok := &tokend.Token{ServiceID: serviceID, ClientID: client, Subject: subject, GrantType: tokend.GrantAuthorizationCode,
			AccessHash: newHash(), Scopes: scopes, CreatedAt: created, AccessExpiresAt: now.Add(time.Hour)}
		if edit != nil {
			edit(tok)
		}
		mustToken(t, s, tok)
	}
	// c1: two live tokens, issued early.
	mk(svc.ID, c1.ID, "alice", t0, []string{"profile", "openid"}, nil)
	mk(svc.ID, c1.ID, "alice", t0.Add(time.Minute), []string{"email", "openid"}, func(t *tokend.Token) {
		t.AccessExpiresAt, t.RefreshHash, t.RefreshExpiresAt = now.Add(-time.Minute), newHash(), now.Add(time.Hour) // live by refresh
	})
	// c2: one live token, issued last; later revoked and expired ones do not count.
	mk(svc.ID, c2.ID, "alice", t0.Add(2*time.Minute), []string{"read"}, nil)
	mk(svc.ID, c2.ID, "alice", t0.Add(5*time.Minute), []string{"write"}, func(t *tokend.Token) { t.RevokedAt = now.Add(-time.Second) })
	mk(svc.ID, c2.ID, "alice", t0.Add(6*time.Minute), []string{"admin"}, func(t *tokend.Token) { t.AccessExpiresAt = now })
	// c3: nothing live.
	mk(svc.ID, c3.ID, "alice", t0.Add(7*time.Minute), []string{"x"}, func(t *tokend.Token) { t.AccessExpiresAt = now.Add(-time.Hour) })
	// Persistent token of c3 for bob; alice's tokens elsewhere.
	mk(svc.ID, c3.ID, "bob", t0, []string{}, func(t *tokend.Token) { t.Persistent, t.AccessExpiresAt = true, time.Time{} })
	mk(other.ID, c1.ID, "alice", t0.Add(9*time.Minute), []string{"other"}, nil)

	t.Run("OnePerClientNewestFirst", func(t *testing.T) {
		got, err := s.ListSubjectGrants(t.Context(), svc.ID, "alice", now)
		mustNoErr(t, err, "ListSubjectGrants")
		want := []*tokend.ClientGrant{
			{Client: c2, Scopes: []string{"read"}, FirstIssued: t0.Add(2 * time.Minute), LastIssued: t0.Add(2 * time.Minute), TokenCount: 1},
			{Client: c1, Scopes: []string{"email", "openid", "profile"}, FirstIssued: t0, LastIssued: t0.Add(time.Minute), TokenCount: 2},
		}
		mustEqual(t, "grants", got, want)
	})
	t.Run("PersistentTokenCounts", func(t *testing.T) {
		got, err := s.ListSubjectGrants(t.Context(), svc.ID, "bob", now.Add(1000*time.Hour))
		mustNoErr(t, err, "ListSubjectGrants")
		mustEqual(t, "grants", got, []*tokend.ClientGrant{{Client: c3, Scopes: []string{}, FirstIssued: t0, LastIssued: t0, TokenCount: 1}})
	})
	t.Run("NoneForUnknownSubject", func(t *testing.T) {
		got, err := s.ListSubjectGrants(t.Context(), svc.ID, "nobody", now)
		mustNoErr(t, err, "ListSubjectGrants")
		if len(got) != 0 {
			t.Fatalf("got %d grants, want none", len(got))
		}
	})
	t.Run("JudgedAtNow", func(t *testing.T) {
		got, err := s.ListSubjectGrants(t.Context(), svc.ID, "alice", t0.Add(-time.Hour))
		mustNoErr(t, err, "ListSubjectGrants")
		var clients []int64
		for _, g := range got {
			clients = append(clients, g.Client.ID)
		}
		// An hour before t0 every unrevoked token is live; c3's is the newest.
		if want := []int64{c3.ID, c2.ID, c1.ID}; !slices.Equal(clients, want) {
			t.Fatalf("clients %v, want %v", clients, want)
		}
	})
}
