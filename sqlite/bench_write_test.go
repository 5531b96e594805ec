package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// BenchmarkCreateTokenParallel issues client-credentials tokens from many
// goroutines at once, as a busy token endpoint does: group commit lets them
// share fsyncs.
func BenchmarkCreateTokenParallel(b *testing.B) {
	s := seededStore(b)
	ctx := context.Background()
	b.SetParallelism(64) // 128 callers on 2 cores: requests, not cores, are the concurrency
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seedCount + int(benchSeq.Add(1))
			t := &tokend.Token{
				ServiceID: seedService, ClientID: 1, GrantType: tokend.GrantClientCredentials,
				AccessHash: seedHash(i, 'a'), Scopes: []string{"read", "write"}, CreatedAt: seedNow,
				AccessExpiresAt: seedNow.Add(time.Hour),
			}
			if err := s.CreateToken(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// revokeService holds the tokens BenchmarkRevokeParallel revokes, apart
// from the seeded ones the list benchmark counts.
const revokeService = 2

var revokeSeeded int

// BenchmarkRevokeParallel revokes one token per call from many goroutines,
// as RFC 7009 revocation requests do; each revocation changes a row.
func BenchmarkRevokeParallel(b *testing.B) {
	s := seededStore(b)
	ctx := context.Background()
	if revokeSeeded == 0 {
		if err := s.CreateService(ctx, &tokend.Service{ID: revokeService, CreatedAt: seedNow, UpdatedAt: seedNow}); err != nil {
			b.Fatal(err)
		}
	}
	// Tokens not yet revoked for every call of this run; ids follow on
	// from the last run's, so each call revokes a fresh token.
	first := revokeSeeded
	importRange(b, s, revokeService, 1_000_000+revokeSeeded, 1_000_000+revokeSeeded+b.N)
	revokeSeeded += b.N
	rows, err := s.read.Query(`SELECT id FROM tokens WHERE service_id = ? AND revoked_at IS NULL ORDER BY id`, revokeService)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := collect(rows, func(r rowScanner) (id int64, err error) { return id, r.Scan(&id) })
	if err != nil || len(ids) != b.N {
		b.Fatalf("%d tokens to revoke (%v), want %d (from %d)", len(ids), err, b.N, first)
	}
	var next atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			n, err := s.RevokeTokens(ctx, tokend.RevokeFilter{ServiceID: revokeService, TokenID: ids[i]}, seedNow, "bench")
			if err != nil || n != 1 {
				b.Fatalf("RevokeTokens: %d, %v", n, err)
			}
		}
	})
}

// BenchmarkImportTokens imports seeded tokens in slices of 1,000 into a
// store that grows with b.N; tokens/s is the figure.
func BenchmarkImportTokens(b *testing.B) {
	s := mustOpen(b)
	ctx := context.Background()
	if err := s.CreateService(ctx, &tokend.Service{ID: 1, CreatedAt: seedNow, UpdatedAt: seedNow}); err != nil {
		b.Fatal(err)
	}
	const chunk = 1000
	toks := make([]*tokend.Token, chunk)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for j := range toks {
			toks[j] = seedToken(1, n)
			n++
		}
		b.StartTimer()
		if err := s.ImportTokens(ctx, toks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkBytesPerToken reports the file size per token of seedCount
// seeded tokens after a checkpoint, the figure the size budget is about.
func BenchmarkBytesPerToken(b *testing.B) {
	path := filepath.Join(b.TempDir(), "tokend.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	seedTokens(b, s, 1, seedCount)
	if _, err := s.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(fi.Size())/seedCount, "bytes/token")
}

// BenchmarkOpen opens the seeded store's file again: Open must not do work
// proportional to the number of tokens.
func BenchmarkOpen(b *testing.B) {
	seededStore(b)
	path := filepath.Join(seededDir, "tokend.db")
	for b.Loop() {
		s, err := Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// reportCPU reports the process's CPU time per operation, user and system,
// from now until the returned function runs: on a shared machine it varies
// less than the wall time, and it is what the writer spends per request.
func reportCPU(b *testing.B) func() {
	before := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
