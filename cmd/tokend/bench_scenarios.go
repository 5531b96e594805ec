package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/tokend/tokend/internal/bench"
)

// benchScenarios lists the tokend scenarios in the order they run. The
// order matters: introspection runs before revocation, which consumes the
// same live tokens.
var benchScenarios = []string{"client_credentials", "refresh", "introspect", "revoke", "list", "create"}

// benchClient is a confidential client whose secret the bench knows.
type benchClient struct {
	ID       int64
	ClientID string
	Secret   string
}

// basic is the client's RFC 6749 §2.3.1 Authorization header: each part
// form-url-encoded before base64.
func (c benchClient) basic() string {
	raw := url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.Secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// liveToken is a token whose raw value the bench kept, and its client.
type liveToken struct {
	Value  string // the access token, or the refresh token of a chain
	Client int    // index into fixtures.Clients
}

// fixtures is everything the scenarios need to know about the service
// under test: made by seeding a store, or through the management API of a
// running server.
type fixtures struct {
	BaseURL   string
	ServiceID int64
	Key       string // a management key with every permission on the service
	Clients   []benchClient
	Live      []liveToken // live access tokens: introspected, then revoked
	Chains    []liveToken // refresh tokens, each the head of its own chain
	Heavy     []string    // subjects holding 50 live tokens each
	Subjects  int         // subjects user-0000000 … are seeded
	Workers   int         // connections the chains were made for
}

func (fx *fixtures) oauthURL(endpoint string) string {
	return fmt.Sprintf("%s/oauth/%d/%s", fx.BaseURL, fx.ServiceID, endpoint)
}

func formRequest(u, auth, form string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", auth)
	return req, nil
}

func expect(marker string, why string) func([]byte) error {
	m, err := []byte(marker), errors.New(why)
	return func(body []byte) error {
		if !bytes.Contains(body, m) {
			return err
		}
		return nil
	}
}

// workerRand gives each worker its own generator: no lock between workers,
// and a run draws the same sequence every time.
func workerRand(i int) *rand.Rand { return rand.New(rand.NewPCG(uint64(i)+1, 0x70ce2d)) }

// scenario returns the named scenario, or a reason it cannot run with
// these fixtures.
func (fx *fixtures) scenario(name string) (bench.Scenario, string) {
	switch name {
	case "client_credentials":
		return fx.clientCredentials(), ""
	case "refresh":
		if len(fx.Chains) == 0 {
			return bench.Scenario{}, "skipped: no refresh tokens seeded (seed more tokens)"
		}
		return fx.refresh(), ""
	case "introspect":
		if len(fx.Live) == 0 {
			return bench.Scenario{}, "skipped: no live tokens seeded (seed more tokens)"
		}
		return fx.introspect(), ""
	case "revoke":
		if len(fx.Live) == 0 {
			return bench.Scenario{}, "skipped: no live tokens seeded (seed more tokens)"
		}
		return fx.revoke(), ""
	case "list":
		if len(fx.Heavy) == 0 {
			return bench.Scenario{}, "skipped: no subject with 50 tokens seeded (seed more tokens)"
		}
		return fx.list(), ""
	case "create":
		return fx.create(), ""
	}
	return bench.Scenario{}, "unknown scenario"
}

// clientCredentials: each worker is one client asking for a token, the
// commonest machine-to-machine request; every answer is a new stored token.
func (fx *fixtures) clientCredentials() bench.Scenario {
	u := fx.oauthURL("token")
	return bench.Scenario{Name: "client_credentials", Worker: func(i int) bench.Source {
		auth := fx.Clients[i%len(fx.Clients)].basic()
		return bench.Stateless(func() (*http.Request, error) {
			return formRequest(u, auth, "grant_type=client_credentials&scope=orders.read+orders.write")
		}, expect(`"access_token"`, "no access_token"))
	}}
}

// refreshSource rotates its own refresh tokens, one request at a time as
// RFC 9700 requires of a client: each answer's refresh token is the next
// request's. A failed rotation may have revoked the chain (a lost answer
// looks like reuse), so the worker moves on to its next chain.
type refreshSource struct {
	fx      *fixtures
	url     string
	chains  []liveToken
	current string
	auth    string
}

func (s *refreshSource) Next() (*http.Request, error) {
	if s.current == "" {
		if len(s.chains) == 0 {
			return nil, bench.ErrExhausted
		}
		s.current, s.auth = s.chains[0].Value, s.fx.Clients[s.chains[0].Client].basic()
		s.chains = s.chains[1:]
	}
	return formRequest(s.url, s.auth, "grant_type=refresh_token&refresh_token="+url.QueryEscape(s.current))
}

var errNoRefresh = errors.New("no refresh_token in the answer")

func (s *refreshSource) Result(status int, body []byte) error {
	if status != http.StatusOK {
		s.current = ""
		return nil
	}
	var resp struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &resp) != nil || resp.RefreshToken == "" {
		s.current = ""
		return errNoRefresh
	}
	s.current = resp.RefreshToken
	return nil
}

func (fx *fixtures) refresh() bench.Scenario {
	u := fx.oauthURL("token")
	return bench.Scenario{Name: "refresh", Worker: func(i int) bench.Source {
		return &refreshSource{fx: fx, url: u, chains: fx.chainsOf(i)}
	}}
}

// chainsOf deals the chains out among fx.Workers workers: worker i gets
// chains i, i+n, i+2n, …, so no two workers ever present the same refresh
// token (which would be reuse, and revoke the chain).
func (fx *fixtures) chainsOf(i int) []liveToken {
	var out []liveToken
	for j := i; j < len(fx.Chains); j += max(fx.Workers, 1) {
		out = append(out, fx.Chains[j])
	}
	return out
}

// introspect: a resource server (here: one of the service's clients)
// asks about a random live token, the hottest read path.
func (fx *fixtures) introspect() bench.Scenario {
	u := fx.oauthURL("introspect")
	return bench.Scenario{Name: "introspect", Worker: func(i int) bench.Source {
		auth := fx.Clients[i%len(fx.Clients)].basic()
		r := workerRand(i)
		return bench.Stateless(func() (*http.Request, error) {
			t := fx.Live[r.IntN(len(fx.Live))]
			return formRequest(u, auth, "token_type_hint=access_token&token="+url.QueryEscape(t.Value))
		}, expect(`"active":true`, "token not active"))
	}}
}

// revoke: every request revokes a different live token, authenticated as
// the client it was issued to. The tokens are shared by the workers
// through one counter; when they run out, the scenario stops early.
func (fx *fixtures) revoke() bench.Scenario {
	u := fx.oauthURL("revoke")
	var next atomic.Int64
	return bench.Scenario{Name: "revoke", Worker: func(int) bench.Source {
		return bench.Stateless(func() (*http.Request, error) {
			k := next.Add(1) - 1
			if k >= int64(len(fx.Live)) {
				return nil, bench.ErrExhausted
			}
			t := fx.Live[k]
			return formRequest(u, fx.Clients[t.Client].basic(), "token_type_hint=access_token&token="+url.QueryEscape(t.Value))
		}, nil)
	}}
}

// list: "which tokens does this user hold?", one page of 50 with the
// total, for a subject that holds 50.
func (fx *fixtures) list() bench.Scenario {
	base := fmt.Sprintf("%s/v1/services/%d/tokens?page_size=50&subject=", fx.BaseURL, fx.ServiceID)
	return bench.Scenario{Name: "list", Worker: func(i int) bench.Source {
		r := workerRand(i)
		return bench.Stateless(func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, base+url.QueryEscape(fx.Heavy[r.IntN(len(fx.Heavy))]), nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+fx.Key)
			}
			return req, err
		}, expect(`"tokens":[{`, "empty page"))
	}}
}

// create: minting through the management API, as a migration or a host
// application does: a write per request.
func (fx *fixtures) create() bench.Scenario {
	u := fmt.Sprintf("%s/v1/services/%d/tokens", fx.BaseURL, fx.ServiceID)
	return bench.Scenario{Name: "create", Worker: func(i int) bench.Source {
		r := workerRand(i)
		return bench.Stateless(func() (*http.Request, error) {
			body := fmt.Sprintf(`{"client":%q,"grant_type":"AUTHORIZATION_CODE","subject":%q,"scopes":["openid","profile","photos.read"]}`,
				fx.Clients[r.IntN(len(fx.Clients))].ClientID, benchSubject(r.IntN(max(fx.Subjects, 1))))
			req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+fx.Key)
			}
			return req, err
		}, expect(`"access_token"`, "no access_token"))
	}}
}

func benchSubject(i int) string { return fmt.Sprintf("user-%07d", i) }
