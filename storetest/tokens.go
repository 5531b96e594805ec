package storetest

import (
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func testTokens(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 31)
	other := mustService(t, s, 32)
	cl := mustClient(t, s, svc.ID, 1_000_000_000_031)
	full := mustToken(t, s, fullToken(svc.ID, cl.ID, "alice"))

	t.Run("CreateSetsIDAndGrantID", func(t *testing.T) {
		if full.GrantID != full.ID {
			t.Fatalf("GrantID = %d, want the new id %d", full.GrantID, full.ID)
		}
		tok := fullToken(svc.ID, cl.ID, "alice")
		tok.ID = full.ID // a stale id is ignored
		mustToken(t, s, tok)
		if tok.ID == full.ID {
			t.Fatal("CreateToken reused an existing id")
		}
		child := fullToken(svc.ID, cl.ID, "alice")
		child.GrantID = full.ID
		mustToken(t, s, child)
		if child.GrantID != full.ID {
			t.Fatalf("GrantID = %d, want %d as given", child.GrantID, full.ID)
		}
		mustEqual(t, "child", mustGetToken(t, s, child.ID), child)
	})
	t.Run("GetRoundTripsEveryField", func(t *testing.T) {
		mustEqual(t, "by id", mustGetToken(t, s, full.ID), full)
		got, err := s.GetTokenByAccessHash(t.Context(), full.AccessHash)
		mustNoErr(t, err, "GetTokenByAccessHash")
		mustEqual(t, "by access hash", got, full)
		got, err = s.GetTokenByRefreshHash(t.Context(), full.RefreshHash)
		mustNoErr(t, err, "GetTokenByRefreshHash")
		mustEqual(t, "by refresh hash", got, full)
	})
	t.Run("RevokedTokenRoundTrips", func(t *testing.T) {
		tok := fullToken(svc.ID, cl.ID, "bob")
		tok.RevokedAt, tok.RevokedReason = t0.Add(2*time.Hour), "client_deleted"
		tok.Persistent, tok.AccessExpiresAt = true, time.Time{}
		mustToken(t, s, tok)
		mustEqual(t, "token", mustGetToken(t, s, tok.ID), tok)
	})
	t.Run("MintedIsNotStored", func(t *testing.T) {
		tok := fullToken(svc.ID, cl.ID, "carol")
		tok.Minted = true
		mustToken(t, s, tok)
		want := *tok
		want.Minted = false
		mustEqual(t, "token", mustGetToken(t, s, tok.ID), &want)
		updated, err := s.UpdateToken(t.Context(), tok.ID, func(u *tokend.Token) error {
			u.AccessHash, u.Minted = newHash(), true
			return nil
		})
		mustNoErr(t, err, "UpdateToken")
		got, err := s.GetTokenByAccessHash(t.Context(), updated.AccessHash)
		mustNoErr(t, err, "GetTokenByAccessHash after a minted update")
		mustEqual(t, "id", got.ID, tok.ID)
		mustEqual(t, "minted", got.Minted, false)
	})
	t.Run("MinimalTokenRoundTrips", func(t *testing.T) {
		for _, g := range tokend.GrantTypes {
			tok := &tokend.Token{ServiceID: svc.ID, ClientID: 5, GrantType: g, AccessHash: newHash(),
				Scopes: []string{}, CreatedAt: t0, AccessExpiresAt: t0.Add(time.Second)}
			mustToken(t, s, tok)
			mustEqual(t, "token", mustGetToken(t, s, tok.ID), tok)
		}
	})
	t.Run("RefreshScopesEmptyDiffersFromUnset", func(t *testing.T) {
		none := fullToken(svc.ID, cl.ID, "carol")
		none.RefreshScopes = []string{}
		same := fullToken(svc.ID, cl.ID, "carol")
		same.RefreshScopes = nil
		mustToken(t, s, none)
		mustToken(t, s, same)
		if got := mustGetToken(t, s, none.ID).RefreshScopes; got == nil || len(got) != 0 {
			t.Errorf("empty refresh scopes read back as %#v, want an empty non-nil slice", got)
		}
		if got := mustGetToken(t, s, same.ID).RefreshScopes; got != nil {
			t.Errorf("unset refresh scopes read back as %#v, want nil", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.GetToken(t.Context(), 987654)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetTokenByAccessHash(t.Context(), newHash())
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetTokenByRefreshHash(t.Context(), newHash())
		wantCode(t, err, tokend.ENOTFOUND, "")
		// Several tokens have no refresh token; none is found by the zero hash.
		_, err = s.GetTokenByRefreshHash(t.Context(), tokend.Hash{})
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.UpdateToken(t.Context(), 987654, func(*tokend.Token) error { return nil })
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteToken(t.Context(), 987654), tokend.ENOTFOUND, "")
	})
	t.Run("ErrConflictAccessToken", func(t *testing.T) {
		dup := fullToken(other.ID, cl.ID, "zed")
		dup.AccessHash = full.AccessHash // unique across services too
		wantCode(t, s.CreateToken(t.Context(), dup), tokend.ECONFLICT, "access_token")
	})
	t.Run("ErrConflictRefreshToken", func(t *testing.T) {
		dup := fullToken(other.ID, cl.ID, "zed")
		dup.RefreshHash = full.RefreshHash
		wantCode(t, s.CreateToken(t.Context(), dup), tokend.ECONFLICT, "refresh_token")
	})
	t.Run("UpdateWritesEveryField", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "dave"))
		want := &tokend.Token{
			ID: tok.ID, ServiceID: svc.ID, ClientID: 777, Subject: "dave2", GrantType: tokend.GrantTokenExchange,
			AccessHash: newHash(), Scopes: []string{"email"}, RefreshScopes: []string{},
			CreatedAt: t0.Add(time.Minute), Persistent: true, LastRefreshedAt: t0.Add(time.Hour),
			RevokedAt: t0.Add(2 * time.Hour), RevokedReason: "because", AccountID: "acct-9", Roles: []string{"r"},
			AuthTime: t0, ACR: "1", SessionID: "s", Resources: []string{"https://r.example/"},
			Properties: []tokend.Property{{Key: "a", Value: "b"}}, AuthorizationDetails: []byte(`[{"type":"x"}]`),
			GrantID: full.ID,
		}
		got, err := s.UpdateToken(t.Context(), tok.ID, func(cur *tokend.Token) error {
			mustEqual(t, "token seen by update", cur, tok)
			*cur = *want
			return nil
		})
		mustNoErr(t, err, "UpdateToken")
		mustEqual(t, "returned token", got, want)
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), want)
		// The old values no longer find the token, the new one does.
		_, err = s.GetTokenByAccessHash(t.Context(), tok.AccessHash)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetTokenByRefreshHash(t.Context(), tok.RefreshHash)
		wantCode(t, err, tokend.ENOTFOUND, "")
		byNew, err := s.GetTokenByAccessHash(t.Context(), want.AccessHash)
		mustNoErr(t, err, "GetTokenByAccessHash")
		mustEqual(t, "by new hash", byNew, want)
	})
	t.Run("UpdateToTakenHashIsConflictAndChangesNothing", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "erin"))
		_, err := s.UpdateToken(t.Context(), tok.ID, func(cur *tokend.Token) error {
			cur.AccessHash = full.AccessHash
			return nil
		})
		wantCode(t, err, tokend.ECONFLICT, "access_token")
		_, err = s.UpdateToken(t.Context(), tok.ID, func(cur *tokend.Token) error {
			cur.Subject, cur.RefreshHash = "changed", full.RefreshHash
			return nil
		})
		wantCode(t, err, tokend.ECONFLICT, "refresh_token")
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), tok)
	})
	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		_, err := s.UpdateToken(t.Context(), full.ID, func(cur *tokend.Token) error {
			cur.Scopes, cur.RevokedAt, cur.RefreshHash = nil, t0, tokend.Hash{}
			return errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want the update function's error unchanged", err)
		}
		mustEqual(t, "stored token", mustGetToken(t, s, full.ID), full)
	})
	t.Run("UpdateCannotChangeIDOrService", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "fay"))
		got, err := s.UpdateToken(t.Context(), tok.ID, func(cur *tokend.Token) error {
			cur.ID, cur.ServiceID, cur.Subject = full.ID, other.ID, "fay2"
			return nil
		})
		mustNoErr(t, err, "UpdateToken")
		if got.ID != tok.ID || got.ServiceID != svc.ID {
			t.Errorf("returned id %d service %d, want %d %d", got.ID, got.ServiceID, tok.ID, svc.ID)
		}
		tok.Subject = "fay2"
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), tok)
		mustEqual(t, "other token", mustGetToken(t, s, full.ID), full)
	})
	t.Run("DeleteRemovesOnlyThatToken", func(t *testing.T) {
		tok := mustToken(t, s, fullToken(svc.ID, cl.ID, "gus"))
		mustNoErr(t, s.DeleteToken(t.Context(), tok.ID), "DeleteToken")
		_, err := s.GetToken(t.Context(), tok.ID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetTokenByAccessHash(t.Context(), tok.AccessHash)
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteToken(t.Context(), tok.ID), tokend.ENOTFOUND, "")
		mustEqual(t, "other token", mustGetToken(t, s, full.ID), full)
		// Beyond the written contract: a token id is never handed out again,
		// even the newest one's, so an id in an audit log or a revocation
		// request can never name a different token later.
		next := mustToken(t, s, fullToken(svc.ID, cl.ID, "gus"))
		if next.ID <= tok.ID {
			t.Fatalf("new token got id %d, not above deleted %d", next.ID, tok.ID)
		}
	})
}
