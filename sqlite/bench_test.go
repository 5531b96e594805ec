package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

const (
	seedCount    = 100_000
	seedSubjects = 10_000 // ten tokens per subject
	seedClients  = 50
	seedService  = 1
)

var seedNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// seedHash is the access hash of seeded token i, so benchmarks can look up
// a token without keeping 100,000 hashes around.
func seedHash(i int, kind byte) tokend.Hash {
	var b [9]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	b[8] = kind
	return sha256.Sum256(b[:])
}

func seedSubject(i int) string { return fmt.Sprintf("user-%05d", i%seedSubjects) }

// seedToken is the i-th seeded token: the shape of an authorization-code
// grant with a refresh token, as most stored tokens are.
func seedToken(serviceID int64, i int) *tokend.Token {
	created := seedNow.Add(time.Duration(i) * time.Second)
	return &tokend.Token{
		ServiceID: serviceID, ClientID: int64(1 + i%seedClients), Subject: seedSubject(i),
		GrantType: tokend.GrantAuthorizationCode, AccessHash: seedHash(i, 'a'), RefreshHash: seedHash(i, 'r'),
		Scopes: []string{"openid", "profile", "email"}, CreatedAt: created,
		AccessExpiresAt: created.Add(time.Hour), RefreshExpiresAt: created.Add(30 * 24 * time.Hour),
		AuthTime: created.Add(-time.Minute),
	}
}

// seedTokens creates service serviceID and imports n realistic tokens into
// it, numbered from 0.
func seedTokens(tb testing.TB, s *Store, serviceID int64, n int) {
	tb.Helper()
	ctx := context.Background()
	svc := &tokend.Service{ID: serviceID, Name: "bench", CreatedAt: seedNow, UpdatedAt: seedNow}
	if err := s.CreateService(ctx, svc); err != nil {
		tb.Fatal(err)
	}
	importRange(tb, s, serviceID, 0, n)
}

// importRange imports seeded tokens from..to-1 in slices of 10,000.
func importRange(tb testing.TB, s *Store, serviceID int64, from, to int) {
	tb.Helper()
	const chunk = 10_000
	toks := make([]*tokend.Token, 0, chunk)
	for start := from; start < to; start += chunk {
		toks = toks[:0]
		for i := start; i < min(start+chunk, to); i++ {
			toks = append(toks, seedToken(serviceID, i))
		}
		if err := s.ImportTokens(context.Background(), toks); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
}

var (
	seeded     *Store
	seededDir  string
	seededOnce sync.Once
)

// seededStore returns a store holding seedCount tokens, shared by the
// benchmarks: the testing package calls each benchmark several times while
// it sizes b.N, and seeding each time would dominate the run.
func seededStore(b *testing.B) *Store {
	seededOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tokend-bench-")
		if err != nil {
			b.Fatal(err)
		}
		seededDir = dir
		s, err := Open(context.Background(), filepath.Join(dir, "tokend.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		seedTokens(b, s, seedService, seedCount)
		b.Logf("seeded %d tokens in %v", seedCount, time.Since(start))
		seeded = s
	})
	if seeded == nil {
		b.Fatal("seeding failed earlier")
	}
	return seeded
}

func TestMain(m *testing.M) {
	code := m.Run()
	if seeded != nil {
		seeded.Close()
	}
	if seededDir != "" {
		os.RemoveAll(seededDir)
	}
	os.Exit(code)
}

// benchSeq numbers the tokens BenchmarkCreateToken adds after the seed,
// across the several runs the testing package makes.
var benchSeq atomic.Int64

func BenchmarkCreateToken(b *testing.B) {
	s := seededStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		i := seedCount + int(benchSeq.Add(1))
		t := &tokend.Token{
			ServiceID: seedService, ClientID: 1, Subject: seedSubject(i), GrantType: tokend.GrantAuthorizationCode,
			AccessHash: seedHash(i, 'a'), RefreshHash: seedHash(i, 'r'),
			Scopes: []string{"openid", "profile"}, CreatedAt: seedNow,
			AccessExpiresAt: seedNow.Add(time.Hour), RefreshExpiresAt: seedNow.Add(24 * time.Hour),
		}
		if err := s.CreateToken(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetTokenByAccessHash(b *testing.B) {
	s := seededStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		i := rng.IntN(seedCount)
		t, err := s.GetTokenByAccessHash(ctx, seedHash(i, 'a'))
		if err != nil {
			b.Fatal(err)
		}
		if t.Subject != seedSubject(i) {
			b.Fatalf("token %d has subject %q", i, t.Subject)
		}
	}
}

func BenchmarkListTokensBySubject(b *testing.B) {
	s := seededStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	// The core lists active tokens unless told otherwise; at this instant
	// every seeded token is live by its refresh token.
	now := seedNow.Add(seedCount / 2 * time.Second)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		subject := seedSubject(rng.IntN(seedSubjects))
		page, err := s.ListTokens(ctx, tokend.TokenFilter{
			ServiceID: seedService, Subject: &subject, Status: tokend.StatusActive, Now: now,
			OrderBy: tokend.OrderCreatedAt, Desc: true, Limit: 50, CountTotal: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		if page.Total < seedCount/seedSubjects || len(page.Tokens) != page.Total {
			b.Fatalf("subject %s: %d tokens listed of %d, want all of at least %d", subject, len(page.Tokens), page.Total, seedCount/seedSubjects)
		}
	}
}

const (
	pageService  = 3 // after seedService and revokeService
	pageSubjects = 400
	pageTokens   = 50 // each subject's tokens: one full page
)

var pageSeedOnce sync.Once

// pageSeededStore is seededStore plus service pageService, whose
// pageSubjects subjects hold pageTokens live tokens each: the shape of the
// management list of one subject's page with its total.
func pageSeededStore(b *testing.B) *Store {
	s := seededStore(b)
	pageSeedOnce.Do(func() {
		ctx := context.Background()
		svc := &tokend.Service{ID: pageService, Name: "pages", CreatedAt: seedNow, UpdatedAt: seedNow}
		if err := s.CreateService(ctx, svc); err != nil {
			b.Fatal(err)
		}
		var toks []*tokend.Token
		for i := range pageSubjects * pageTokens {
			t := seedToken(pageService, i)
			t.Subject = fmt.Sprintf("page-%03d", i%pageSubjects)
			t.AccessHash, t.RefreshHash = seedHash(i, 'A'), seedHash(i, 'R')
			toks = append(toks, t)
		}
		if err := s.ImportTokens(ctx, toks); err != nil {
			b.Fatal(err)
		}
	})
	return s
}

// BenchmarkListTokensBySubjectPage lists one subject's 50 active tokens
// with the total, as GET /v1/services/{sid}/tokens?subject=… does.
func BenchmarkListTokensBySubjectPage(b *testing.B) {
	s := pageSeededStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	now := seedNow.Add(pageSubjects * pageTokens / 2 * time.Second)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		subject := fmt.Sprintf("page-%03d", rng.IntN(pageSubjects))
		page, err := s.ListTokens(ctx, tokend.TokenFilter{
			ServiceID: pageService, Subject: &subject, Status: tokend.StatusActive, Now: now,
			OrderBy: tokend.OrderCreatedAt, Desc: true, Limit: pageTokens, CountTotal: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		if page.Total != pageTokens || len(page.Tokens) != pageTokens || page.More {
			b.Fatalf("subject %s: %d tokens listed of %d (more: %v), want %d", subject, len(page.Tokens), page.Total, page.More, pageTokens)
		}
	}
}

// BenchmarkListTokensBySubjectMore lists the first 20 of a subject's 50
// tokens: the total then takes a count of its own.
func BenchmarkListTokensBySubjectMore(b *testing.B) {
	s := pageSeededStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	now := seedNow.Add(pageSubjects * pageTokens / 2 * time.Second)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		subject := fmt.Sprintf("page-%03d", rng.IntN(pageSubjects))
		page, err := s.ListTokens(ctx, tokend.TokenFilter{
			ServiceID: pageService, Subject: &subject, Status: tokend.StatusActive, Now: now,
			OrderBy: tokend.OrderCreatedAt, Desc: true, Limit: 20, CountTotal: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		if page.Total != pageTokens || len(page.Tokens) != 20 || !page.More {
			b.Fatalf("subject %s: %d tokens listed of %d (more: %v), want 20 of %d", subject, len(page.Tokens), page.Total, page.More, pageTokens)
		}
	}
}

// deepService holds one subject with deepTokens tokens, for paging depth.
const (
	deepService = 4
	deepTokens  = 20_000
)

var deepSeedOnce sync.Once

// BenchmarkListTokensCursorDepth pages through one subject's 20,000
// tokens by keyset cursor, 50 at a time: the first page and the last
// (after 19,950 tokens) should cost the same, where an offset would read
// every token before the page.
func BenchmarkListTokensCursorDepth(b *testing.B) {
	s := seededStore(b)
	ctx := context.Background()
	subject := "deep-subject"
	deepSeedOnce.Do(func() {
		if err := s.CreateService(ctx, &tokend.Service{ID: deepService, Name: "deep", CreatedAt: seedNow, UpdatedAt: seedNow}); err != nil {
			b.Fatal(err)
		}
		toks := make([]*tokend.Token, 0, deepTokens)
		for i := range deepTokens {
			t := seedToken(deepService, i)
			t.Subject = subject
			t.AccessHash, t.RefreshHash = seedHash(i, 'D'), seedHash(i, 'E')
			toks = append(toks, t)
		}
		if err := s.ImportTokens(ctx, toks); err != nil {
			b.Fatal(err)
		}
	})
	filter := func(after *tokend.Cursor) tokend.TokenFilter {
		return tokend.TokenFilter{ServiceID: deepService, Subject: &subject, Status: tokend.StatusAll, Now: seedNow,
			OrderBy: tokend.OrderCreatedAt, Desc: true, Limit: 50, After: after}
	}
	// The cursor of the last page: the token just before it in the order.
	var last *tokend.Cursor
	{
		page, err := s.ListTokens(ctx, tokend.TokenFilter{ServiceID: deepService, Subject: &subject, Status: tokend.StatusAll,
			Now: seedNow, OrderBy: tokend.OrderCreatedAt, Desc: false, Limit: 51})
		if err != nil || len(page.Tokens) != 51 {
			b.Fatalf("find the deep cursor: %v", err)
		}
		t := page.Tokens[50]
		last = &tokend.Cursor{Value: t.OrderValue(tokend.OrderCreatedAt), ID: t.ID}
	}
	for _, c := range []struct {
		name  string
		after *tokend.Cursor
	}{{"First", nil}, {"After19950", last}} {
		b.Run(c.name, func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				page, err := s.ListTokens(ctx, filter(c.after))
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Tokens) != 50 {
					b.Fatalf("%d tokens, want 50", len(page.Tokens))
				}
			}
		})
	}
}
