package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
)

// testJanitorUnderLoad runs the core's janitor over many dead tokens while
// clients keep issuing, refreshing and introspecting tokens through the
// core, and shows that those requests keep succeeding while it runs, that
// it works in batches, and that it deletes exactly the dead tokens.
//
// No timing is measured: between two of its batches the janitor waits
// until the load has completed a few more requests, which proves requests
// go through while a sweep is under way (not merely before or after it).
func testJanitorUnderLoad(t *testing.T, s tokend.Store) {
	ctx := t.Context()
	clk := testutil.NewClock(t0.Add(60 * 24 * time.Hour))
	core := tokend.New(s, tokend.Config{BaseURL: "https://auth.example", Now: clk.Now})
	org := &tokend.Principal{Permissions: []tokend.Permission{tokend.PermAll}}
	svc, err := core.CreateService(ctx, org, tokend.ServiceInput{Name: ptr("janitor"), ScopesSupported: &[]string{"read"}})
	mustNoErr(t, err, "CreateService")
	cl, secret, err := core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("app"), Scopes: &[]string{"read"},
		GrantTypes: &[]tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantRefreshToken}})
	mustNoErr(t, err, "CreateClient")
	_, cl, err = core.AuthenticateClient(ctx, svc.ID, tokend.ClientCredentials{ClientID: cl.ClientID, Secret: secret})
	mustNoErr(t, err, "AuthenticateClient")

	// Dead for longer than the retention: expired or revoked 30 days ago.
	const dead, workers = 1200, 8
	long := clk.Now().Add(-30 * 24 * time.Hour)
	var seed sync.WaitGroup
	seedErrs := make(chan error, workers)
	for w := range workers {
		seed.Go(func() {
			for i := w; i < dead; i += workers {
				tok := fullToken(svc.ID, cl.ID, fmt.Sprintf("gone-%d", i))
				tok.CreatedAt, tok.AccessExpiresAt, tok.RefreshExpiresAt = long.Add(-time.Hour), long.Add(-time.Minute), long
				if i%3 == 0 {
					tok.RevokedAt, tok.RefreshExpiresAt = long, clk.Now().Add(time.Hour)
				}
				if err := s.CreateToken(ctx, tok); err != nil {
					seedErrs <- err
					return
				}
			}
		})
	}
	seed.Wait()
	close(seedErrs)
	for err := range seedErrs {
		t.Fatalf("seeding: %v", err)
	}
	issue := func(subject string) (*tokend.IssuedToken, error) {
		return core.CreateToken(ctx, org, svc.ID, tokend.TokenInput{Client: cl.ClientID,
			GrantType: tokend.GrantAuthorizationCode, Subject: subject, Scopes: []string{"read"}})
	}
	var live []*tokend.IssuedToken
	for i := range 40 {
		it, err := issue(fmt.Sprintf("live-%d", i))
		mustNoErr(t, err, "CreateToken")
		live = append(live, it)
	}

	// The load: introspection of the live tokens, new tokens, and refresh
	// rotations, from several goroutines until the sweep ends.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var (
		load     sync.WaitGroup
		done     atomic.Int64 // requests that succeeded
		issued   atomic.Int64 // tokens the load created
		loadErr  = make(chan error, 4)
		progress = make(chan struct{}, 1)
	)
	fail := func(err error) {
		select {
		case loadErr <- err:
		default:
		}
	}
	for w := range 4 {
		load.Go(func() {
			chain, err := issue(fmt.Sprintf("rotating-%d", w))
			if err != nil {
				fail(err)
				return
			}
			issued.Add(1)
			for i := 0; loadCtx.Err() == nil; i++ {
				in, err := core.Introspect(loadCtx, svc, live[(w+i)%len(live)].AccessToken, "")
				switch {
				case loadCtx.Err() != nil:
					return
				case err != nil:
					fail(fmt.Errorf("introspect: %w", err))
					return
				case !in.Active:
					fail(fmt.Errorf("a live token introspected inactive during the sweep"))
					return
				}
				switch i % 4 {
				case 1:
					_, err = issue(fmt.Sprintf("new-%d-%d", w, i))
					if err == nil {
						issued.Add(1)
					}
				case 3:
					chain, err = core.Exchange(loadCtx, svc, cl, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: chain.RefreshToken})
				}
				if loadCtx.Err() != nil {
					return
				}
				if err != nil {
					fail(err)
					return
				}
				done.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	defer func() {
		stopLoad()
		load.Wait()
	}()

	// waitForLoad returns once the load has done n more requests than at
	// mark, or fails the test if the load failed.
	waitForLoad := func(mark int64, n int64) {
		for done.Load() < mark+n {
			select {
			case err := <-loadErr:
				t.Fatalf("load failed while the janitor ran: %v", err)
			case <-progress:
			}
		}
	}
	var batches []int
	mark := done.Load()
	rep, err := core.Sweep(ctx, tokend.JanitorConfig{
		Retention: 7 * 24 * time.Hour, BatchSize: 50,
		OnBatch: func(kind string, n int) {
			if kind == "tokens" {
				batches = append(batches, n)
			}
			waitForLoad(mark, 3)
			mark = done.Load()
		},
	})
	mustNoErr(t, err, "Sweep")
	stopLoad()
	load.Wait()
	select {
	case err := <-loadErr:
		t.Fatalf("load failed: %v", err)
	default:
	}

	t.Run("DeletedExactlyTheDeadInBatches", func(t *testing.T) {
		if rep.Skipped || rep.Tokens != dead {
			t.Fatalf("report %+v, want %d tokens deleted", rep, dead)
		}
		if len(batches) != dead/50+1 {
			t.Fatalf("%d token batches %v, want %d", len(batches), batches, dead/50+1)
		}
		for _, n := range batches {
			if n > 50 {
				t.Fatalf("a batch deleted %d tokens, more than the batch size", n)
			}
		}
	})
	t.Run("LiveTokensUntouched", func(t *testing.T) {
		for _, it := range live {
			want := *it.Token
			want.Minted = false // never stored
			mustEqual(t, "live token", mustGetToken(t, s, it.Token.ID), &want)
		}
		if n := countTokens(t, s, svc.ID); n != len(live)+int(issued.Load()) {
			t.Fatalf("%d tokens left, want the %d live and the %d the load issued", n, len(live), issued.Load())
		}
	})
	t.Run("LoadWentOnWhileItRan", func(t *testing.T) {
		// Each batch waited for three more successful requests.
		if got, want := done.Load(), int64(3*rep.Batches); got < want {
			t.Fatalf("%d requests succeeded during %d batches, want at least %d", got, rep.Batches, want)
		}
	})
}
