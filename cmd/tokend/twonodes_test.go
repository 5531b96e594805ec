package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/pgtest"
)

// TestTwoNodesRace runs two tokend nodes (each its own core, caches,
// connection pool and HTTP server) on one PostgreSQL database and races
// them: 50 refreshes of one token spread over both, and revocations on one
// racing refreshes on the other. (TestNodesShareOneDatabase covers the
// rest of two nodes' behaviour with real processes.)
func TestTwoNodesRace(t *testing.T) {
	a := MustSurfaces(t, pgtest.NewDatabase(t))
	b := a.node(t)
	c := raceClient(t, 50)

	// One refresh token presented 50 times at once, half on each node:
	// exactly one rotation.
	t.Run("RefreshStorm", func(t *testing.T) {
		const n = 50
		_, refresh := a.password(t, "alice")
		answers := make([]tokenAnswer, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			node := a
			if i%2 == 1 {
				node = b
			}
			req := node.form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, node.conf.ClientID, node.confSecret)
			wg.Go(func() {
				<-start
				res, err := c.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				defer res.Body.Close()
				answers[i].status = res.StatusCode
				errs[i] = json.NewDecoder(res.Body).Decode(&answers[i])
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, ans := range answers {
			switch {
			case errs[i] != nil:
				t.Fatalf("request %d: %v", i, errs[i])
			case ans.status == http.StatusOK:
				won++
			case ans.status != http.StatusBadRequest || ans.Error != "invalid_grant":
				t.Fatalf("request %d: %d %q", i, ans.status, ans.Error)
			}
		}
		if won != 1 {
			t.Fatalf("%d rotations won across two nodes, want exactly 1", won)
		}
	})

	// A revocation on one node racing a refresh on the other: once it is
	// acknowledged, no token of the grant is active on either node.
	t.Run("RevokeRacesRefresh", func(t *testing.T) {
		for round := range 20 {
			access, refresh := a.password(t, "alice")
			revoke := a.form("/oauth/%d/revoke", url.Values{"token": {refresh}}, a.conf.ClientID, a.confSecret)
			refreshReq := b.form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, b.conf.ClientID, b.confSecret)
			var (
				wg                  sync.WaitGroup
				revokeStatus        int
				got                 tokenAnswer
				revokeErr, fetchErr error
			)
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				res, err := c.Do(revoke)
				if revokeErr = err; err == nil {
					revokeStatus = res.StatusCode
					res.Body.Close()
				}
			})
			wg.Go(func() {
				<-start
				res, err := c.Do(refreshReq)
				if fetchErr = err; err == nil {
					got.status = res.StatusCode
					fetchErr = json.NewDecoder(res.Body).Decode(&got)
					res.Body.Close()
				}
			})
			close(start)
			wg.Wait()
			if revokeErr != nil || fetchErr != nil || revokeStatus != http.StatusOK {
				t.Fatalf("round %d: revoke %d %v, refresh %v", round, revokeStatus, revokeErr, fetchErr)
			}
			values := []string{access, refresh}
			if got.status == http.StatusOK {
				values = append(values, got.Access, got.Refresh)
			}
			for _, node := range []*surfaces{a, b} {
				for i, v := range values {
					if node.active(t, v) {
						t.Fatalf("round %d: token %d of the grant active on a node after the revocation was acknowledged", round, i)
					}
				}
			}
		}
	})
}
