package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// fullCode returns an unsaved, unused code with every other field set.
func fullCode(serviceID, clientID int64) *tokend.AuthorizationCode {
	return &tokend.AuthorizationCode{
		Hash:                 newHash(),
		ServiceID:            serviceID,
		ClientID:             clientID,
		Subject:              "alice",
		Scopes:               []string{"openid", "read:all"},
		RedirectURI:          "com.example.app:/cb path?x=1",
		CodeChallenge:        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod:  "S256",
		AccountID:            "acct-1",
		Roles:                []string{"admin"},
		AuthTime:             t0.Add(-time.Minute),
		ACR:                  "urn:acr:level 2",
		SessionID:            "sess-1",
		Resources:            []string{"https://api.example/a b"},
		AuthorizationDetails: []byte(`[{"type":"account_information"}]`),
		CreatedAt:            t0,
		ExpiresAt:            t0.Add(tokend.AuthorizationCodeTTL),
	}
}

// countTokens counts every token of a service.
func countTokens(tb testing.TB, s tokend.Store, serviceID int64) int {
	tb.Helper()
	page, err := s.ListTokens(tb.Context(), tokend.TokenFilter{ServiceID: serviceID, Status: tokend.StatusAll,
		OrderBy: tokend.OrderCreatedAt, Limit: 1, CountTotal: true})
	mustNoErr(tb, err, "ListTokens")
	return page.Total
}

func testCodes(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 141)
	cl := mustClient(t, s, svc.ID, 1_000_000_000_141)
	at := t0.Add(10 * time.Second)

	// mint issues a fresh token for the code it is given.
	mint := func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
		return fullToken(c.ServiceID, c.ClientID, c.Subject), nil
	}
	notCalled := func(tb testing.TB) func(*tokend.AuthorizationCode) (*tokend.Token, error) {
		return func(*tokend.AuthorizationCode) (*tokend.Token, error) {
			tb.Error("mint called")
			return nil, errAbort
		}
	}

	t.Run("RedeemOnce", func(t *testing.T) {
		code := fullCode(svc.ID, cl.ID)
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		var minted *tokend.Token
		gotCode, tok, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at, func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
			// The only way to read a code back: what mint sees is what was stored.
			mustEqual(t, "code seen by mint", c, code)
			minted = fullToken(c.ServiceID, c.ClientID, c.Subject)
			minted.ID = 777_777 // a stale id is ignored, as by CreateToken
			return minted, nil
		})
		mustNoErr(t, err, "RedeemAuthorizationCode")
		if tok != minted {
			t.Error("the returned token is not the one mint made")
		}
		if tok.ID == 0 || tok.ID == 777_777 || tok.GrantID != tok.ID {
			t.Fatalf("token id %d grant %d, want a new id and the grant id equal to it", tok.ID, tok.GrantID)
		}
		mustEqual(t, "stored token", mustGetToken(t, s, tok.ID), tok)
		want := *code
		want.UsedAt, want.TokenID = at, tok.ID
		mustEqual(t, "returned code", gotCode, &want)

		t.Run("SecondRedeemConflicts", func(t *testing.T) {
			before := countTokens(t, s, svc.ID)
			again, tok2, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at.Add(time.Second), notCalled(t))
			wantCode(t, err, tokend.ECONFLICT, "")
			if tok2 != nil {
				t.Errorf("got token %+v with the conflict, want none", tok2)
			}
			// The core revokes the first redemption's token with this.
			mustEqual(t, "code returned with the conflict", again, &want)
			if n := countTokens(t, s, svc.ID); n != before {
				t.Errorf("%d tokens after a second redemption, want %d", n, before)
			}
		})
	})
	t.Run("UsedCodeRoundTrips", func(t *testing.T) {
		code := fullCode(svc.ID, cl.ID)
		code.UsedAt, code.TokenID = t0.Add(time.Second), 4_000_000_000_001
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		got, tok, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at, notCalled(t))
		wantCode(t, err, tokend.ECONFLICT, "")
		if tok != nil {
			t.Error("got a token for a used code")
		}
		mustEqual(t, "code", got, code)
	})
	t.Run("MinimalCodeRoundTrips", func(t *testing.T) {
		code := &tokend.AuthorizationCode{Hash: newHash(), ServiceID: svc.ID, ClientID: cl.ID, Subject: "bob",
			Scopes: []string{}, RedirectURI: "https://app.example/cb", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		_, _, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at, func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
			mustEqual(t, "code seen by mint", c, code)
			return nil, errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want mint's error", err)
		}
	})
	t.Run("MintErrorChangesNothing", func(t *testing.T) {
		code := fullCode(svc.ID, cl.ID)
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		before := countTokens(t, s, svc.ID)
		gotCode, tok, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at, func(*tokend.AuthorizationCode) (*tokend.Token, error) {
			return fullToken(svc.ID, cl.ID, "alice"), errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want mint's error unchanged", err)
		}
		if gotCode != nil || tok != nil {
			t.Errorf("got code %v and token %v with mint's error, want neither", gotCode, tok)
		}
		if n := countTokens(t, s, svc.ID); n != before {
			t.Errorf("%d tokens after a failed mint, want %d", n, before)
		}
		// Still unused: it can be redeemed now.
		_, _, err = s.RedeemAuthorizationCode(t.Context(), code.Hash, at, func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
			mustEqual(t, "code after the failed mint", c, code)
			return fullToken(c.ServiceID, c.ClientID, c.Subject), nil
		})
		mustNoErr(t, err, "RedeemAuthorizationCode after a failed mint")
	})
	t.Run("TokenConflictChangesNothing", func(t *testing.T) {
		taken := mustToken(t, s, fullToken(svc.ID, cl.ID, "alice"))
		code := fullCode(svc.ID, cl.ID)
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		before := countTokens(t, s, svc.ID)
		gotCode, _, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at, func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
			tok := fullToken(c.ServiceID, c.ClientID, c.Subject)
			tok.AccessHash = taken.AccessHash
			return tok, nil
		})
		wantCode(t, err, tokend.ECONFLICT, "access_token")
		// A code returned with ECONFLICT means "used before" to the core.
		if gotCode != nil {
			t.Errorf("got code %v with the token's conflict, want none", gotCode)
		}
		if n := countTokens(t, s, svc.ID); n != before {
			t.Errorf("%d tokens after a conflict, want %d", n, before)
		}
		_, _, err = s.RedeemAuthorizationCode(t.Context(), code.Hash, at, mint)
		mustNoErr(t, err, "RedeemAuthorizationCode after a conflict")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		c, tok, err := s.RedeemAuthorizationCode(t.Context(), newHash(), at, notCalled(t))
		wantCode(t, err, tokend.ENOTFOUND, "")
		if c != nil || tok != nil {
			t.Errorf("got code %v and token %v for an unknown code", c, tok)
		}
		wantCode(t, s.CreateAuthorizationCode(t.Context(), fullCode(999, cl.ID)), tokend.ENOTFOUND, "")
	})
	t.Run("ErrConflictCode", func(t *testing.T) {
		code := fullCode(svc.ID, cl.ID)
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		dup := fullCode(svc.ID, cl.ID)
		dup.Hash, dup.Subject = code.Hash, "mallory"
		wantCode(t, s.CreateAuthorizationCode(t.Context(), dup), tokend.ECONFLICT, "code")
		_, _, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, at, func(c *tokend.AuthorizationCode) (*tokend.Token, error) {
			mustEqual(t, "code", c, code)
			return nil, errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want mint's error", err)
		}
	})
	// RFC 6749 §4.1.2: a code yields tokens once, however many requests
	// present it at the same moment.
	t.Run("ConcurrentRedemptionsMintOnce", func(t *testing.T) {
		code := fullCode(svc.ID, cl.ID)
		mustNoErr(t, s.CreateAuthorizationCode(t.Context(), code), "CreateAuthorizationCode")
		before := countTokens(t, s, svc.ID)
		const n = 20
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
			toks  = make([]*tokend.Token, n)
			codes = make([]*tokend.AuthorizationCode, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				codes[i], toks[i], errs[i] = s.RedeemAuthorizationCode(t.Context(), code.Hash, at, mint)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("redemptions %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case tokend.ErrorCode(err) != tokend.ECONFLICT:
				t.Fatalf("redemption %d: %v, want success or %s", i, err, tokend.ECONFLICT)
			}
		}
		if winner < 0 {
			t.Fatal("no redemption succeeded")
		}
		for i, c := range codes {
			if i != winner && (c == nil || c.TokenID != toks[winner].ID) {
				t.Fatalf("redemption %d returned code %+v, want it naming the winner's token %d", i, c, toks[winner].ID)
			}
		}
		if n := countTokens(t, s, svc.ID); n != before+1 {
			t.Fatalf("%d tokens after the redemptions, want %d", n, before+1)
		}
	})
}
