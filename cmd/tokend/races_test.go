package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// The race tests drive the real HTTP surfaces over each store with many
// goroutines at once; `go test -race` (scripts/test.sh) runs them with the
// race detector.

// raceClient has enough idle connections for every goroutine of a race.
func raceClient(tb testing.TB, n int) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

type tokenAnswer struct {
	status  int
	Error   string `json:"error"`
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// refreshAll presents one refresh token from n goroutines at once.
func (s *surfaces) refreshAll(tb testing.TB, c *http.Client, refresh string, n int) []tokenAnswer {
	tb.Helper()
	out := make([]tokenAnswer, n)
	errs := make([]error, n)
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = s.form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, s.conf.ClientID, s.confSecret)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := c.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			out[i].status = res.StatusCode
			errs[i] = json.NewDecoder(res.Body).Decode(&out[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// introspect reports whether value is active for the service's client.
func (s *surfaces) active(tb testing.TB, value string) bool {
	tb.Helper()
	res, body := s.send(tb, s.prep, s.form("/oauth/%d/introspect", url.Values{"token": {value}}, s.conf.ClientID, s.confSecret))
	var in struct {
		Active bool `json:"active"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &in) != nil {
		tb.Fatalf("introspect: %d %s", res.StatusCode, body)
	}
	return in.Active
}

// TestRefreshStorm: one refresh token presented by 50 goroutines at once
// rotates exactly once. Without a grace period the other 49 are reuse:
// invalid_grant, and the grant is revoked (RFC 9700: the client, or a
// thief, used a refresh token twice). With one, all 50 get the same new
// pair, the family's one usable refresh token.
func TestRefreshStorm(t *testing.T) {
	const n = 50
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			c := raceClient(t, n)
			t.Run("NoGrace", func(t *testing.T) {
				_, refresh := s.password(t, "alice")
				answers := s.refreshAll(t, c, refresh, n)
				var winners []tokenAnswer
				for i, a := range answers {
					switch {
					case a.status == http.StatusOK:
						winners = append(winners, a)
					case a.status != http.StatusBadRequest || a.Error != "invalid_grant":
						t.Fatalf("request %d: %d %q, want 200 or invalid_grant", i, a.status, a.Error)
					}
				}
				if len(winners) != 1 {
					t.Fatalf("%d winners, want exactly 1", len(winners))
				}
				// The losers presented a used refresh token: reuse, the grant is revoked.
				if s.active(t, winners[0].Access) || s.active(t, winners[0].Refresh) {
					t.Fatal("the grant survived the reuse of its refresh token")
				}
				page, err := s.store.ListAudit(context.Background(), tokend.AuditFilter{Action: tokend.AuditRefreshReuse, Limit: 100})
				if err != nil || len(page.Entries) == 0 {
					t.Fatalf("no refresh_token.reuse audit entry: %v", err)
				}
			})
			t.Run("Grace", func(t *testing.T) {
				org, err := s.core.AuthenticateKey(context.Background(), s.org)
				if err != nil {
					t.Fatal(err)
				}
				grace := 30 * time.Second
				if _, err := s.core.UpdateService(context.Background(), org, s.svc.ID, tokend.ServiceInput{RefreshReuseGrace: &grace}); err != nil {
					t.Fatal(err)
				}
				_, refresh := s.password(t, "alice")
				answers := s.refreshAll(t, c, refresh, n)
				for i, a := range answers {
					if a.status != http.StatusOK || a.Access != answers[0].Access || a.Refresh != answers[0].Refresh {
						t.Fatalf("request %d: %d %q; want the same new pair as request 0", i, a.status, a.Error)
					}
				}
				if !s.active(t, answers[0].Access) || !s.active(t, answers[0].Refresh) {
					t.Fatal("the one successor is not active")
				}
				if s.active(t, refresh) {
					t.Fatal("the rotated refresh token is still active")
				}
			})
		})
	}
}

// TestRevokeRacesRefresh: a client revokes its refresh token while it (or
// another of its requests) refreshes it. Whichever wins, once the
// revocation is acknowledged nothing of the grant is active: not the old
// tokens, not a new pair the refresh may have returned.
func TestRevokeRacesRefresh(t *testing.T) {
	const rounds = 25
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			c := raceClient(t, 4)
			for _, via := range []string{"OAuth", "API"} {
				t.Run(via, func(t *testing.T) {
					refreshWon := 0
					for round := range rounds {
						access, refresh := s.password(t, "alice")
						var revoke *http.Request
						if via == "OAuth" {
							revoke = s.form("/oauth/%d/revoke", url.Values{"token": {refresh}}, s.conf.ClientID, s.confSecret)
						} else {
							// By id: the access token's value changes if the refresh wins.
							res, body := s.send(t, s.prep, s.call("POST", "/v1/services/%d/tokens/lookup", s.org, map[string]any{"token": access}))
							var tok struct {
								ID int64 `json:"id"`
							}
							if res.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil {
								t.Fatalf("lookup: %d %s", res.StatusCode, body)
							}
							revoke = s.call("POST", fmt.Sprintf("/v1/services/%d/tokens/%d/revoke", s.svc.ID, tok.ID), s.org, nil)
						}
						refreshReq := s.form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, s.conf.ClientID, s.confSecret)
						var (
							wg                    sync.WaitGroup
							revokeRes, refreshRes *http.Response
							refreshBody           tokenAnswer
							revokeErr, refreshErr error
						)
						start := make(chan struct{})
						wg.Go(func() {
							<-start
							revokeRes, revokeErr = c.Do(revoke)
							if revokeErr == nil {
								revokeRes.Body.Close()
							}
						})
						wg.Go(func() {
							<-start
							refreshRes, refreshErr = c.Do(refreshReq)
							if refreshErr == nil {
								refreshErr = json.NewDecoder(refreshRes.Body).Decode(&refreshBody)
								refreshRes.Body.Close()
							}
						})
						close(start)
						wg.Wait()
						if revokeErr != nil || refreshErr != nil {
							t.Fatalf("round %d: %v %v", round, revokeErr, refreshErr)
						}
						if revokeRes.StatusCode != http.StatusOK {
							t.Fatalf("round %d: revoke answered %d", round, revokeRes.StatusCode)
						}
						live := []string{access, refresh}
						switch refreshRes.StatusCode {
						case http.StatusOK:
							refreshWon++
							live = append(live, refreshBody.Access, refreshBody.Refresh)
						case http.StatusBadRequest:
							if refreshBody.Error != "invalid_grant" {
								t.Fatalf("round %d: refresh failed with %q", round, refreshBody.Error)
							}
						default:
							t.Fatalf("round %d: refresh answered %d", round, refreshRes.StatusCode)
						}
						for i, v := range live {
							if s.active(t, v) {
								t.Fatalf("round %d: token %d of the grant is active after an acknowledged revocation (refresh %d)", round, i, refreshRes.StatusCode)
							}
						}
					}
					t.Logf("%s: the refresh won %d of %d rounds", via, refreshWon, rounds)
				})
			}
		})
	}
}
