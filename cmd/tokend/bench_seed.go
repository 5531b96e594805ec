package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/bench"
	"github.com/tokend/tokend/sqlite"
	"github.com/tokend/tokend/wire"
)

// The bench service's scopes, and the grants it offers.
var (
	benchScopeList  = []string{"openid", "profile", "email", "offline_access", "photos.read", "photos.write", "orders.read", "orders.write"}
	benchGrantTypes = []tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantClientCredentials, tokend.GrantRefreshToken, tokend.GrantPassword}
)

const (
	seedClients    = 100      // clients of the seeded service
	maxLive        = 50_000   // live tokens whose values the bench keeps
	heavyTokens    = 50       // tokens of each "heavy" subject, one list page
	maxHeavy       = 1_000    // heavy subjects at most
	seedBatch      = 10_000   // tokens per store call
	targetMaxLive  = 10_000   // live tokens minted over HTTP in --target mode
	targetHeavy    = 10       // heavy subjects minted in --target mode
	targetSubjects = 1_000    // subjects of the tokens minted in --target mode
	chainsPer      = 4        // refresh chains per worker: spares for a broken one
	seedReason     = "logout" // revocation reason of the seeded revoked tokens
)

// seedPlan is how N seeded tokens divide up, decided before any is made.
//
//	[0, chains)               live, raw refresh value kept: refresh chains
//	[chains, live)            live, raw access value kept: introspect, revoke
//	[live, live+heavy·50)     50 live tokens for each heavy subject: list
//	[live+heavy·50, N)        the bulk: a realistic store's history
type seedPlan struct {
	N, Live, Chains, Heavy, Subjects int
}

func planSeed(n, workers int) seedPlan {
	p := seedPlan{N: n, Live: min(n/2, maxLive), Subjects: max(n/10, 1)}
	p.Chains = min(workers*chainsPer, p.Live/4)
	p.Heavy = min(max(n/1000, 1), maxHeavy)
	if room := (n - p.Live) / heavyTokens; p.Heavy > room {
		p.Heavy = room
	}
	return p
}

// seedStats says how seeding went, for the report.
type seedStats struct {
	Tokens int
	Took   time.Duration
	Method string
}

// seedStore makes the service, clients and management key the scenarios
// use, and n tokens, directly through the core and the store: the server
// is not running yet, so seeding costs no HTTP and can batch its writes.
// Only hashes are stored; the raw values of the live subset stay in memory.
// seedCacheMiB is the seeding writer's page cache: enough for the hash
// indexes of 10,000,000 tokens (about 180 MiB each).
const seedCacheMiB = 1024

func seedStore(ctx context.Context, path string, n, workers int, progress io.Writer) (*fixtures, *seedStats, error) {
	// A large writer cache while seeding: the hash indexes take random
	// inserts, and once they outgrow the cache every insert reads and
	// rewrites pages (10,000,000 tokens took 48 minutes with the server's
	// 16 MiB). The seeding process is short-lived; the server it starts
	// afterwards has its own budget.
	store, err := sqlite.Open(ctx, path, sqlite.WithCache(seedCacheMiB, 0))
	if err != nil {
		return nil, nil, err
	}
	defer store.Close()
	core := tokend.New(store, tokend.Config{})
	// The bench owns this store before the server starts, so it acts with
	// every permission instead of holding a key it does not have yet.
	root := &tokend.Principal{Permissions: []tokend.Permission{tokend.PermAll}}
	_, key, err := core.CreateKey(ctx, root, 0, tokend.KeyInput{Name: "bench", Permissions: []tokend.Permission{tokend.PermAll}})
	if err != nil {
		return nil, nil, fmt.Errorf("create key: %w", err)
	}
	name, scopes, grants := "bench", benchScopeList, benchGrantTypes
	svc, err := core.CreateService(ctx, root, tokend.ServiceInput{Name: &name, ScopesSupported: &scopes, GrantTypesSupported: &grants})
	if err != nil {
		return nil, nil, fmt.Errorf("create service: %w", err)
	}
	plan := planSeed(n, workers)
	fx := &fixtures{ServiceID: svc.ID, Key: key, Subjects: plan.Subjects, Workers: workers}
	for i := range seedClients {
		cname := fmt.Sprintf("bench client %03d", i)
		cl, secret, err := core.CreateClient(ctx, root, svc.ID, tokend.ClientInput{Name: &cname})
		if err != nil {
			return nil, nil, fmt.Errorf("create client: %w", err)
		}
		fx.Clients = append(fx.Clients, benchClient{ID: cl.ID, ClientID: cl.ClientID, Secret: secret})
	}
	for h := range plan.Heavy {
		fx.Heavy = append(fx.Heavy, benchSubject(plan.Subjects+h))
	}

	// One transaction per batch instead of one synced commit per token:
	// a million tokens in seconds, not minutes. Batches bound memory and
	// how long the writer is held.
	stats := &seedStats{Tokens: n, Method: "ImportTokens, batches of " + strconv.Itoa(seedBatch)}
	gen := newSeedGen(plan, svc.ID, fx)
	start, lastReport := time.Now(), time.Now()
	batch := make([]*tokend.Token, 0, seedBatch)
	for i := 0; i < n; {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		batch = batch[:0]
		for ; i < n && len(batch) < seedBatch; i++ {
			batch = append(batch, gen.token(i))
		}
		if err := store.ImportTokens(ctx, batch); err != nil {
			return nil, nil, fmt.Errorf("seed: %w", err)
		}
		if progress != nil && time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			el := time.Since(start)
			fmt.Fprintf(progress, "tokend bench: seeded %s of %s tokens (%s/s)\n",
				bench.Thousands(int64(i)), bench.Thousands(int64(n)), bench.Thousands(int64(float64(i)/el.Seconds())))
		}
	}
	stats.Took = time.Since(start)
	return fx, stats, nil
}

// seedGen makes seeded tokens. Stored values are hashes, so the bulk's
// are random bytes (as good as the SHA-256 of a random secret, and far
// cheaper); the live subset's are hashes of real secrets kept in memory.
type seedGen struct {
	plan seedPlan
	sid  int64
	fx   *fixtures
	now  time.Time
	r    *rand.Rand
}

func newSeedGen(plan seedPlan, sid int64, fx *fixtures) *seedGen {
	// Seeded from crypto/rand: a store seeded twice (--store reused) must
	// not get the same hashes twice.
	var seed [32]byte
	crand.Read(seed[:])
	return &seedGen{plan: plan, sid: sid, fx: fx, now: time.Now().UTC().Truncate(time.Millisecond),
		r: rand.New(rand.NewChaCha8(seed))}
}

func (g *seedGen) hash() tokend.Hash {
	var h tokend.Hash
	for i := 0; i < len(h); i += 8 {
		binary.LittleEndian.PutUint64(h[i:], g.r.Uint64())
	}
	return h
}

func (g *seedGen) ago(max time.Duration) time.Time {
	return g.now.Add(-time.Duration(g.r.Int64N(int64(max)))).Truncate(time.Millisecond)
}

// scopes picks a subject-bearing token's scopes: openid and profile, and
// each other scope three times in ten.
func (g *seedGen) scopes() []string {
	out := []string{"openid", "profile"}
	for _, s := range benchScopeList[2:] {
		if g.r.IntN(10) < 3 {
			out = append(out, s)
		}
	}
	return out
}

func (g *seedGen) token(i int) *tokend.Token {
	p := g.plan
	client := i % seedClients
	// Minted: every hash below is of 256 bits from a generator seeded by
	// crypto/rand, so the store need not look for a token holding it.
	t := &tokend.Token{ServiceID: g.sid, ClientID: g.fx.Clients[client].ID, GrantType: tokend.GrantAuthorizationCode, Minted: true}
	var subject int
	switch {
	case i < p.Live:
		// Live and recent. Their access tokens last 12 h rather than the
		// service's 1 h, so a long seeding plus run cannot expire them
		// half-way through the scenarios that present them.
		subject = g.r.IntN(p.Subjects)
		t.CreatedAt = g.ago(10 * time.Minute)
		t.AccessExpiresAt = t.CreatedAt.Add(12 * time.Hour)
		t.RefreshExpiresAt = t.CreatedAt.Add(tokend.DefaultRefreshTokenTTL)
		if i < p.Chains {
			raw := tokend.NewSecret(tokend.KindRefreshToken)
			t.AccessHash, t.RefreshHash = g.hash(), tokend.HashSecret(raw)
			g.fx.Chains = append(g.fx.Chains, liveToken{Value: raw, Client: client})
		} else {
			raw := tokend.NewSecret(tokend.KindAccessToken)
			t.AccessHash, t.RefreshHash = tokend.HashSecret(raw), g.hash()
			g.fx.Live = append(g.fx.Live, liveToken{Value: raw, Client: client})
		}
	case i < p.Live+p.Heavy*heavyTokens:
		// A heavy subject's tokens: all live (within their refresh
		// lifetime, never revoked), so a list page holds all 50.
		subject = p.Subjects + (i-p.Live)/heavyTokens
		t.CreatedAt = g.ago(7 * 24 * time.Hour)
		t.AccessHash, t.RefreshHash = g.hash(), g.hash()
		t.AccessExpiresAt = t.CreatedAt.Add(tokend.DefaultAccessTokenTTL)
		t.RefreshExpiresAt = t.CreatedAt.Add(tokend.DefaultRefreshTokenTTL)
	default:
		// The bulk: up to 20 days old, so most access tokens have expired
		// while their refresh tokens live on, as in a real store; one in
		// ten is client credentials (no subject, no refresh token), one
		// in twenty a password grant, one in twenty revoked.
		subject = g.r.IntN(p.Subjects)
		t.CreatedAt = g.ago(20 * 24 * time.Hour).Add(-time.Hour)
		t.AccessHash = g.hash()
		t.AccessExpiresAt = t.CreatedAt.Add(tokend.DefaultAccessTokenTTL)
		switch i % 20 {
		case 0, 1:
			t.GrantType = tokend.GrantClientCredentials
			t.Scopes = []string{"orders.read", "orders.write"}
			return t
		case 2:
			t.GrantType = tokend.GrantPassword
		case 3:
			t.RevokedAt = t.CreatedAt.Add(time.Hour)
			t.RevokedReason = seedReason
		}
		t.RefreshHash = g.hash()
		t.RefreshExpiresAt = t.CreatedAt.Add(tokend.DefaultRefreshTokenTTL)
	}
	t.Subject = benchSubject(subject)
	t.Scopes = g.scopes()
	t.AccountID = fmt.Sprintf("acct-%07d", subject)
	t.AuthTime = t.CreatedAt.Add(-time.Minute)
	if subject%10 == 0 {
		t.Roles = []string{"admin"}
	}
	return t
}

// targetFixtures sets up a fresh service on a running server through its
// management API: nothing is seeded in bulk there, but the scenarios still
// need clients, live tokens whose values are known, refresh chains and
// subjects with 50 tokens. It returns a function that deletes the service.
func targetFixtures(ctx context.Context, base, key string, n, workers int) (*fixtures, func(context.Context) error, error) {
	mc := client.New(base, key, client.WithHTTPClient(bench.NewClient(30*time.Second)))
	name := "bench " + time.Now().UTC().Format("2006-01-02T15:04:05Z")
	grants := make([]string, len(benchGrantTypes))
	for i, g := range benchGrantTypes {
		grants[i] = string(g)
	}
	scopes := benchScopeList
	svc, err := mc.CreateService(ctx, wire.ServiceInput{Name: &name, ScopesSupported: &scopes, GrantTypesSupported: &grants})
	if err != nil {
		return nil, nil, fmt.Errorf("create service on %s: %w", base, err)
	}
	cleanup := func(ctx context.Context) error { return mc.DeleteService(ctx, svc.ID) }
	fail := func(err error) (*fixtures, func(context.Context) error, error) {
		cleanup(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	fx := &fixtures{BaseURL: base, ServiceID: svc.ID, Key: key, Subjects: targetSubjects, Workers: workers}
	for i := range 10 {
		cname := fmt.Sprintf("bench client %03d", i)
		cl, err := mc.CreateClient(ctx, svc.ID, wire.ClientInput{Name: &cname})
		if err != nil {
			return fail(fmt.Errorf("create client: %w", err))
		}
		fx.Clients = append(fx.Clients, benchClient{ID: cl.ID, ClientID: cl.ClientID, Secret: cl.ClientSecret})
	}

	// Mint the tokens the scenarios present, with as many connections as
	// the run will use.
	live := min(n/2, targetMaxLive)
	chains := min(workers*chainsPer, max(live/4, 1))
	heavy := targetHeavy
	type job struct {
		kind    byte // 'c' chain, 'l' live, 'h' heavy
		subject string
		client  int
	}
	var jobs []job
	r := rand.New(rand.NewPCG(1, 2))
	for i := range chains {
		jobs = append(jobs, job{'c', benchSubject(r.IntN(targetSubjects)), i % len(fx.Clients)})
	}
	for i := range live {
		jobs = append(jobs, job{'l', benchSubject(r.IntN(targetSubjects)), i % len(fx.Clients)})
	}
	for h := range heavy {
		subject := benchSubject(targetSubjects + h)
		fx.Heavy = append(fx.Heavy, subject)
		for i := range heavyTokens {
			jobs = append(jobs, job{'h', subject, i % len(fx.Clients)})
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     int
	)
	for range max(workers, 1) {
		wg.Go(func() {
			wc := client.New(base, key, client.WithHTTPClient(bench.NewClient(30*time.Second)))
			for {
				mu.Lock()
				if next == len(jobs) || firstErr != nil {
					mu.Unlock()
					return
				}
				j := jobs[next]
				next++
				mu.Unlock()
				tok, err := wc.CreateToken(ctx, svc.ID, wire.TokenInput{Client: fx.Clients[j.client].ClientID,
					GrantType: string(tokend.GrantAuthorizationCode), Subject: j.subject, Scopes: []string{"openid", "profile", "photos.read"}})
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = fmt.Errorf("mint a token: %w", err)
					}
				case j.kind == 'c':
					fx.Chains = append(fx.Chains, liveToken{Value: tok.RefreshToken, Client: j.client})
				case j.kind == 'l':
					fx.Live = append(fx.Live, liveToken{Value: tok.AccessToken, Client: j.client})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fail(firstErr)
	}
	return fx, cleanup, nil
}
