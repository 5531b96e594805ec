package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokend/tokend"
)

// TestJanitorRacesIssuance runs the janitor without pause or retention,
// in small batches, while clients issue, refresh, revoke and introspect
// tokens: no request fails for it, it removes only tokens nobody can use,
// and every token a client holds is as the client was told.
func TestJanitorRacesIssuance(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			c := raceClient(t, 8)
			ctx, stop := context.WithCancel(context.Background())
			var swept atomic.Int64
			janitorDone := make(chan error, 1)
			go func() {
				for ctx.Err() == nil {
					rep, err := s.core.Sweep(ctx, tokend.JanitorConfig{Retention: 0, BatchSize: 3})
					if err != nil && ctx.Err() == nil {
						janitorDone <- err
						return
					}
					if rep != nil {
						swept.Add(int64(rep.Tokens))
					}
				}
				janitorDone <- nil
			}()

			type grant struct {
				access, refresh string
				replaced        []string
				revoked         bool
			}
			const workers, rounds = 4, 40
			grants := make([][]*grant, workers)
			var mu sync.Mutex
			var failures []string
			fail := func(format string, args ...any) {
				mu.Lock()
				failures = append(failures, fmt.Sprintf(format, args...))
				mu.Unlock()
			}
			token := func(form url.Values) (int, tokenAnswer) {
				res, body := s.send(t, c, s.form("/oauth/%d/token", form, s.conf.ClientID, s.confSecret))
				var a tokenAnswer
				_ = json.Unmarshal(body, &a)
				return res.StatusCode, a
			}
			var wg sync.WaitGroup
			for w := range workers {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				wg.Go(func() {
					for i := range rounds {
						var live []*grant
						for _, g := range grants[w] {
							if !g.revoked {
								live = append(live, g)
							}
						}
						switch op := rng.IntN(4); {
						case op == 0 || len(live) == 0:
							status, a := token(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}, "scope": {surfacesScope}})
							if status != http.StatusOK {
								fail("worker %d round %d: password grant %d %q", w, i, status, a.Error)
								return
							}
							grants[w] = append(grants[w], &grant{access: a.Access, refresh: a.Refresh})
						case op == 1:
							if status, a := token(url.Values{"grant_type": {"client_credentials"}, "scope": {surfacesScope}}); status != http.StatusOK {
								fail("worker %d round %d: client credentials %d %q", w, i, status, a.Error)
							}
						case op == 2:
							g := live[rng.IntN(len(live))]
							status, a := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}})
							if status != http.StatusOK {
								fail("worker %d round %d: refresh %d %q", w, i, status, a.Error)
								return
							}
							g.replaced = append(g.replaced, g.access, g.refresh)
							g.access, g.refresh = a.Access, a.Refresh
						default:
							g := live[rng.IntN(len(live))]
							res, body := s.send(t, c, s.form("/oauth/%d/revoke", url.Values{"token": {g.refresh}}, s.conf.ClientID, s.confSecret))
							if res.StatusCode != http.StatusOK {
								fail("worker %d round %d: revoke %d %s", w, i, res.StatusCode, body)
								return
							}
							g.revoked = true
						}
					}
				})
			}
			wg.Wait()
			stop()
			if err := <-janitorDone; err != nil {
				t.Fatalf("the janitor failed: %v", err)
			}
			during := swept.Load()
			// A last sweep, so that what is checked below is what the
			// janitor leaves of everything the clients did.
			rep, err := s.core.Sweep(context.Background(), tokend.JanitorConfig{Retention: 0})
			if err != nil {
				t.Fatal(err)
			}
			swept.Add(int64(rep.Tokens))
			for _, f := range failures {
				t.Error(f)
			}
			n := 0
			for _, gs := range grants {
				for _, g := range gs {
					n++
					if s.active(t, g.access) == g.revoked || s.active(t, g.refresh) == g.revoked {
						t.Fatalf("a grant (revoked %v) is not as its client was told", g.revoked)
					}
					for _, v := range g.replaced {
						if s.active(t, v) {
							t.Fatal("a value replaced by a refresh is active again")
						}
					}
				}
			}
			if during == 0 {
				t.Fatal("the janitor removed nothing while the clients worked: the race did not happen")
			}
			t.Logf("%d grants; the janitor removed %d tokens meanwhile, %d after", n, during, swept.Load()-during)
		})
	}
}
